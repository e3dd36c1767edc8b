from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        # The apps announce events through the base layer's registry; this app listens.
        from finetunedb.events import event_sink_register

        from .services.events import webhook_event_record

        event_sink_register(webhook_event_record)
