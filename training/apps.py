from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    verbose_name = "Training"

    def ready(self):
        # Each app registers its own job kinds; finetunedb.leases.jobs_recover composes them.
        from datasets_app.services.export import renderer_register
        from finetunedb.actions.registry import action_register
        from finetunedb.leases import kind_register
        from finetunedb.teams.storage_usage import storage_part_register

        from .services.jobs import KINDS
        from .services.preflight_jobs import PREFLIGHT
        from .services.storage import STORAGE_PARTS

        for kind in KINDS:
            kind_register(kind)
        action_register(PREFLIGHT)  # the train page's pre-flight runs as a job
        # Likewise its storage parts; finetunedb.teams.quota composes them.
        for part, measure in STORAGE_PARTS.items():
            storage_part_register(part, measure)
        # The export pipeline's `rendered` format renders with a base model's training tokenizer.
        renderer_register(_rendered_export_renderer)
        # Its model folders in the object store (finetunedb.storage_cleanup).
        from finetunedb import storage
        from finetunedb.storage_cleanup import storage_references_register

        from .services.model_store import models_referenced

        storage_references_register(storage.MODELS, models_referenced)


def _rendered_export_renderer(*, base_model):
    # imported when the format is asked for: the web process starts without torch
    from .services.rendering import training_renderer

    return training_renderer(base_model=base_model)
