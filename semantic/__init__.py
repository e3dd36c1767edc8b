"""The offline semantic layer (issue 22): sentence embeddings of examples, stored per revision,
semantic search and semantic duplicates. ``embedder``, ``bundled``, ``store`` and ``vectors``
import no Django; the rest is the app (the embedding job, its API)."""
