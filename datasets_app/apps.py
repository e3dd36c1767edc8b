from django.apps import AppConfig


class DatasetsConfig(AppConfig):
    name = "datasets_app"
    verbose_name = "Datasets"

    def ready(self):
        # Each app registers its own job kinds; finetunedb.leases.jobs_recover composes them.
        from finetunedb.actions.registry import action_register
        from finetunedb.leases import kind_register
        from finetunedb.teams.home_panels import home_panel_register
        from finetunedb.teams.storage_usage import storage_part_register

        from .services.action_jobs import ACTIONS
        from .services.dedup.jobs import DEDUP_JOBS
        from .services.imports import IMPORT_JOBS
        from .services.storage import STORAGE_PARTS
        from .workspace.home import team_home_summary

        kind_register(IMPORT_JOBS)
        kind_register(DEDUP_JOBS)
        # The page actions that run as jobs (freeze, split, fix preview).
        for action in ACTIONS:
            action_register(action)
        # Likewise its storage parts; finetunedb.teams.quota composes them.
        for part, measure in STORAGE_PARTS.items():
            storage_part_register(part, measure)
        # The team home page's datasets, activity and versions come from here.
        home_panel_register(team_home_summary)
        # What its rows still reference in the object store (finetunedb.storage_cleanup).
        from finetunedb import storage
        from finetunedb.storage_cleanup import storage_references_register

        from .services.imports.stored import reports_referenced, uploads_referenced

        storage_references_register(storage.UPLOADS, uploads_referenced)
        storage_references_register(storage.REPORTS, reports_referenced)
