from django.apps import AppConfig


class SemanticConfig(AppConfig):
    name = "semantic"
    verbose_name = "Semantic layer"

    def ready(self):
        # Each app registers its own job kinds; finetunedb.leases.jobs_recover composes them.
        from finetunedb.leases import kind_register

        from .services.jobs import EMBEDDING_JOBS

        kind_register(EMBEDDING_JOBS)
