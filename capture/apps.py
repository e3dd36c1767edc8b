from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "capture"
    verbose_name = "Capture"

    def ready(self):
        from . import openapi  # noqa: F401 (registers the authenticators' security schemes)
