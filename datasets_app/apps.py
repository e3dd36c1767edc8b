from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "datasets_app"
    verbose_name = "Datasets"

    def ready(self):
        # Each app registers its own job kinds; finetunedb.leases.jobs_recover composes them.
        from finetunedb.leases import kind_register

        from .services.dedup.jobs import DEDUP_JOBS
        from .services.imports import IMPORT_JOBS

        kind_register(IMPORT_JOBS)
        kind_register(DEDUP_JOBS)
