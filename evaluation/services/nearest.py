"""From a failed item to its causes: the training examples of the exact version the result's
model was trained on, nearest to the item's prompt first (DESIGN §8).

The similarity is :mod:`evaluation.nearest` (word n-grams). Its index of a version's training
split is built once, on the first question about that version, and saved under the data folder
(``DATA_DIR/eval-index/``) keyed by the version's id and hash and the index format, so later
questions read it back in milliseconds.

``method=embedding`` (issue 22) ranks the same training rows by the exact cosine of their stored
sentence embeddings (semantic/, one matrix per dataset, one row per revision) to the item's
prompt, embedded by the serving engine with the model the dataset was embedded with, as semantic
search does (a 503 that says to start the engine when it is down). A version whose revisions
were never embedded is a 409 that says to embed first.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from datasets_app.models import VersionEntry
from datasets_app.services.export import version_rows
from finetunedb.exceptions import ApplicationError, ConflictError
from semantic.services.search import revisions_nearest
from training.services.records import training_splits

from .. import nearest
from ..models import EvalResult
from .items import prompt_text, split_prompt

logger = logging.getLogger(__name__)

EMBEDDING = "embedding"
METHODS = (nearest.METHOD, EMBEDDING)
EMBEDDING_DESCRIPTION = (
    "cosine similarity of sentence embeddings ({model}; mean pooled, unit length) of each "
    "training example's whole text and the item's prompt"
)
NOT_EMBEDDED = (
    "The training examples of version {number} are not embedded: embed dataset {dataset} "
    "(POST /api/v1/datasets/{dataset}/embeddings/, or Embed on its Semantic page) and ask "
    "again when the job has finished; or use method=ngram."
)
MAX_K = 50
BASE_MODEL_RUN = (
    "this result comes from a run of the base model {name!r}, which was trained on no dataset "
    "version: there are no training examples behind it; open a fine-tuned model's run"
)
UNKNOWN_METHOD = "method must be one of: {known}"
BAD_K = "k must be an integer from 1 to {limit}"
PREVIEW = 300


def _field_error(path: str, message: str) -> ApplicationError:
    return ApplicationError(message, errors=[{"path": path, "message": message}])


def example_text(messages: list[dict]) -> str:
    """What a training example says, as the similarity reads it: every turn's text (its prompt
    and its answer), one turn a line."""
    return "\n".join(str(m.get("content") or "") for m in messages if isinstance(m, dict))


def index_path(version, split: str) -> Path:
    name = f"version-{version.pk}-{version.content_hash[:16]}-{split}-ngram{nearest.FORMAT}.npz"
    return Path(settings.DATA_DIR) / "eval-index" / name


def version_index(version, split: str) -> nearest.NgramIndex:
    """The version's n-gram index of ``split``: read from disk, or built and saved."""
    path = index_path(version, split)
    index = nearest.index_load(path) if path.exists() else None
    if index is None:
        started = time.perf_counter()
        index = nearest.index_build(
            (row.id, example_text(row.content["messages"]))
            for row in version_rows(version, split=split)
        )
        nearest.index_save(index, path)
        logger.info(
            "n-gram index of version %s (%s examples) built in %.1f s",
            version.pk,
            index.size,
            time.perf_counter() - started,
        )
    return index


def _preview(messages: list[dict], role: str) -> str:
    texts = [str(m.get("content") or "") for m in messages if m.get("role") == role]
    text = texts[-1] if role == "assistant" and texts else (texts[0] if texts else "")
    return text[:PREVIEW]


def nearest_training_examples(*, result: EvalResult, method: str = "ngram", k=10) -> dict:
    """The ``k`` training examples of the version the result's model was trained on, nearest
    to the item's prompt first. The caller reached ``result`` through the scoped selector."""
    if method not in METHODS:
        raise _field_error("method", UNKNOWN_METHOD.format(known=", ".join(METHODS)))
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise _field_error("k", BAD_K.format(limit=MAX_K))
    run = result.run
    if run.model_id is None:
        message = BASE_MODEL_RUN.format(name=run.base_model)
        raise ConflictError(message, code="base_model_run")
    version = run.model.run.version
    split = training_splits(version)["train"]
    prompt, _ = split_prompt(result.entry.revision.messages)
    query = prompt_text(prompt)
    extra = {}
    if method == EMBEDDING:
        hits, model, missing = _embedding_hits(version, split, query, k)
        description = EMBEDDING_DESCRIPTION.format(model=model)
        extra = {"embedding_model": model, "not_embedded": missing}
    else:
        hits = nearest.index_query(version_index(version, split), query, k=k)
        description = nearest.DESCRIPTION
    entries = {
        e.example_id: e
        for e in VersionEntry.objects.filter(
            version=version, example_id__in=[i for i, _ in hits]
        ).select_related("revision")
    }
    neighbours = []
    for example_id, similarity in hits:
        entry = entries[example_id]
        messages = entry.revision.messages
        neighbours.append(
            {
                "example": example_id,
                "revision": entry.revision_id,
                "revision_number": entry.revision.number,
                "split": entry.split,
                "similarity": round(similarity, 4),
                "prompt": _preview(messages, "user"),
                "answer": _preview(messages, "assistant"),
                "edit_url": reverse("datasets:example-edit", args=[example_id]),
            }
        )
    return {
        "result": result.pk,
        "model": run.model_id,
        "version": version.pk,
        "version_number": version.number,
        "dataset": version.dataset_id,
        "split": split,
        "method": method,
        "similarity": description,
        **extra,
        "query": query[:PREVIEW],
        "results": neighbours,
    }


def _embedding_hits(version, split: str, query: str, k: int):
    """``([(example id, cosine)], model, revisions without a vector)`` over the version's
    ``split``. Revisions edited after the dataset's last embedding job have no vector (the
    store keeps current revisions only); they are counted, not guessed."""
    revisions = VersionEntry.objects.filter(version=version, split=split).values_list(
        "revision_id", flat=True
    )
    found = revisions_nearest(dataset=version.dataset, revision_ids=revisions, text=query, k=k)
    if found is None:
        message = NOT_EMBEDDED.format(number=version.number, dataset=version.dataset_id)
        raise ConflictError(message, code="not_embedded")
    hits, missing, model = found
    return [(example_id, max(-1.0, min(1.0, s))) for _, example_id, s in hits], model, missing


def nearest_index_warm(*, run_id: int, model_id: int) -> None:
    """The after-training callback (worker): index the new model's training split now, so the
    first "nearest training examples" question does not wait for it (~15 s at 50,000)."""
    from training.models import ModelArtifact

    version = ModelArtifact.objects.select_related("run__version").get(pk=model_id).run.version
    version_index(version, training_splits(version)["train"])
