from django.apps import AppConfig


class TeamsConfig(AppConfig):
    name = "finetunedb.teams"
    label = "teams"
    verbose_name = "Teams and access"

    def ready(self):
        from finetunedb import openapi  # noqa: F401  (registers the token auth scheme)
