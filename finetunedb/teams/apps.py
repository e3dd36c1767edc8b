from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "finetunedb.teams"
    label = "teams"
    verbose_name = "Teams and access"

    def ready(self):
        from finetunedb import openapi  # noqa: F401  (registers the token auth scheme)

        # The Celery app, so that every shared_task binds to it (finetunedb/__init__.py is empty).
        from finetunedb.celery import app  # noqa: F401
