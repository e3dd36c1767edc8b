from django.apps import AppConfig


class SemanticConfig(AppConfig):
    name = "semantic"
    verbose_name = "Semantic layer"

    def ready(self):
        # Each app registers its own job kinds; finetunedb.leases.jobs_recover composes them.
        from finetunedb.events import event_sink_register
        from finetunedb.leases import kind_register

        from .services.auto import embed_after_import
        from .services.jobs import EMBEDDING_JOBS

        kind_register(EMBEDDING_JOBS)
        # The dataset setting embed_after_import: an import's event queues its embedding job.
        event_sink_register(embed_after_import)
        # The dataset setting coverage_gate: a freeze checks the coverage plan (warn or block).
        from datasets_app.services.versions.gates import freeze_gate_register

        from .services.coverage_gate import coverage_freeze_gate

        freeze_gate_register(coverage_freeze_gate)
        # A split can keep whole topic clusters together (datasets_app's split groups).
        from datasets_app.services.split_groups import split_group_source_register

        from .services.topics import topic_groups

        split_group_source_register("topics", topic_groups)
        # Its embedding folders in the object store (finetunedb.storage_cleanup).
        from finetunedb import storage
        from finetunedb.storage_cleanup import storage_references_register

        from .services.embedding_store import embeddings_referenced

        storage_references_register(storage.EMBEDDINGS, embeddings_referenced)
