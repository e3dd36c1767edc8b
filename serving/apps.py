from django.apps import AppConfig


class ServingConfig(AppConfig):
    name = "serving"
    verbose_name = "Serving"

    def ready(self):
        # The model page shows the model's served traffic: training offers the panel hook.
        from training.hooks import model_panel_register

        from .pages.traffic import served_model_panel

        model_panel_register(served_model_panel)
