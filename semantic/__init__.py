"""The offline semantic layer (issue 22): sentence embeddings of examples, stored per revision,
semantic search and semantic duplicates. ``embedder``, ``bundled``, ``resolver``, ``store`` and
``vectors`` import no Django (the serving engine embeds with ``resolver`` and ``embedder``); the
rest is the app (the embedding job, its API)."""
