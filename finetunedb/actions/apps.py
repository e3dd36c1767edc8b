from django.apps import AppConfig


class ActionsConfig(AppConfig):
    name = "finetunedb.actions"
    label = "actions"
    verbose_name = "Action jobs"

    def ready(self):
        # Registered like every job kind; finetunedb.leases.jobs_recover composes them.
        from finetunedb.leases import kind_register

        from .services import ACTION_JOBS

        kind_register(ACTION_JOBS)
