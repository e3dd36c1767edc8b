"""A dataset's topic clusters (semantic/topics.py) over its stored embeddings, computed on first
request and kept beside the vectors as JSON, one file per (generation, k): a new embedding job
makes a new generation, so topics never describe vectors that are gone."""

from __future__ import annotations

import json
import os
import tempfile

from datasets_app.models import Dataset, Example, ExampleStatus
from finetunedb.exceptions import ApplicationError

from ..store import embeddings_read
from ..topics import topic_map
from .embedding_store import embeddings_folder_for_reading
from .jobs import example_embedding_text
from .search import NOT_EMBEDDED, dataset_embedding_model

MIN_K, MAX_K = 2, 50
BAD_K = "k must be a whole number from 2 to 50, or left out to choose it automatically."
TOO_FEW = "Topic clusters need at least 3 embedded examples; this dataset has {n}."
EXAMPLES_LISTED = 10


def topics_k_parse(raw) -> int | None:
    if raw in (None, ""):
        return None
    try:
        k = int(str(raw))
    except ValueError:
        k = 0
    if not MIN_K <= k <= MAX_K:
        raise ApplicationError("Invalid topic options.", errors=[{"path": "k", "message": BAD_K}])
    return k


def dataset_topics(*, dataset: Dataset, k: int | None = None) -> dict:
    """``{"k", "silhouette", "topics": [...], "points": [[x, y, topic, example], ...],
    "members": {topic: [example ids]}}``; 409 when the dataset was never embedded."""
    model = dataset_embedding_model(dataset=dataset)
    folder = embeddings_folder_for_reading(dataset=dataset, model_name=model) if model else None
    stored = embeddings_read(folder) if folder else None
    if stored is None:
        raise ApplicationError(
            NOT_EMBEDDED.format(id=dataset.pk), code="not_embedded", status_code=409
        )
    cache = folder / f"topics-{stored.generation}-{k or 'auto'}.json"
    try:
        return json.loads(cache.read_text())
    except FileNotFoundError:
        pass
    live = {
        rev: (pk, split, messages)
        for rev, pk, split, messages in Example.objects.filter(dataset=dataset)
        .exclude(status=ExampleStatus.ARCHIVED)
        .values_list("current_revision_id", "pk", "split", "current_revision__messages")
    }
    rows = [i for i, rev in enumerate(stored.revisions.tolist()) if rev in live]
    if len(rows) < 3:
        raise ApplicationError(TOO_FEW.format(n=len(rows)), status_code=409)
    chosen = [live[int(stored.revisions[i])] for i in rows]
    result = topic_map(
        stored.vectors[rows],
        [example_embedding_text(m) for _, _, m in chosen],
        [split for _, split, _ in chosen],
        k=k,
    )
    members: dict[str, list[int]] = {str(t.number): [] for t in result.topics}
    for (pk, _, _), topic in zip(chosen, result.assignments.tolist(), strict=True):
        members[str(topic)].append(pk)
    data = {
        "k": result.k,
        "silhouette": result.silhouette,
        "topics": [
            {
                "topic": t.number,
                "label": t.label,
                "words": list(t.words),
                "size": t.size,
                "share_by_split": t.share_by_split,
                "examples": members[str(t.number)][:EXAMPLES_LISTED],
            }
            for t in sorted(result.topics, key=lambda t: -t.size)
        ],
        "points": [[round(x, 4), round(y, 4), t, chosen[r][0]] for x, y, t, r in result.points],
        "members": members,
    }
    fd, tmp = tempfile.mkstemp(prefix=".topics-", dir=folder)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, cache)
    return data


def topic_example_ids(*, dataset: Dataset, topic) -> list[int]:
    """Examples of one topic (automatic k) for the list's ``?topic=`` filter; unknown: none."""
    data = dataset_topics(dataset=dataset)
    return data["members"].get(str(topic).strip(), [])


def topic_groups(dataset: Dataset) -> list[list[int]]:
    """The examples of each topic (automatic k), a split's groups; 409 when never embedded."""
    return [ids for ids in dataset_topics(dataset=dataset)["members"].values() if ids]
