"""Embedding automatically after imports: a dataset setting (``embed_after_import``, off by
default). The semantic app listens for the base layer's ``import.finished`` event
(finetunedb/events.py, registered in ``SemanticConfig.ready``), so datasets_app never imports
this app, and queues the dataset's embedding job through the job service, joining one that is
already queued or running rather than refusing like the Embed button does.

Joining a *running* job needs one more step: that job listed the dataset's live examples when it
started, perhaps before the import published. So a job that finishes on a dataset with the
setting on looks once more for live examples without a vector and queues a follow-up if any
(:func:`embedding_job_follow_up`). The import commits before its event is delivered, and the
event reads the job's status before the job's finish commits, so one of the two sees them.
"""

from __future__ import annotations

import logging

import numpy as np
from django.db import transaction

from datasets_app.models import Dataset, Example, ExampleStatus, ImportJob

from ..bundled import BUNDLED_EMBEDDING_MODEL
from ..models import EmbeddingJob, EmbeddingStatus
from ..store import embeddings_read
from .embedding_models import embedding_model_check, embeddings_folder
from .search import dataset_embedding_model

logger = logging.getLogger(__name__)

SETTING = "embed_after_import"
ACTIVE = (EmbeddingStatus.QUEUED, EmbeddingStatus.RUNNING)


def embedding_job_join(*, dataset_id: int, created_by_id: int | None = None) -> EmbeddingJob | None:
    """The dataset's queued or running embedding job, or a new one (the model it was embedded
    with before, else the bundled one); None when the dataset is gone. The task starts once the
    caller's transaction commits."""
    from .jobs import embedding_job_enqueue

    with transaction.atomic():
        # The dataset's row lock: two imports finishing at once queue one job, not two.
        dataset = Dataset.objects.select_for_update().filter(pk=dataset_id).first()
        if dataset is None:
            return None
        active = EmbeddingJob.objects.filter(dataset=dataset, status__in=ACTIVE).first()
        if active is not None:
            return active
        model = dataset_embedding_model(dataset=dataset) or BUNDLED_EMBEDDING_MODEL
        job = EmbeddingJob.objects.create(
            dataset=dataset, created_by_id=created_by_id, model_name=embedding_model_check(model)
        )
        transaction.on_commit(lambda: embedding_job_enqueue(job.pk))
    return job


def _wanted(dataset: Dataset | None) -> bool:
    return dataset is not None and dataset.effective_settings.get(SETTING) is True


def embed_after_import(team_id: int, type: str, timestamp: str, data: dict) -> None:  # noqa: A002
    """The ``import.finished`` sink: queue (or join) the embedding job of a dataset that asks
    for it, when the import created examples."""
    if type != "import.finished" or not data["import"].get("examples_created"):
        return
    dataset = Dataset.objects.filter(pk=data["dataset"]["id"], team_id=team_id).first()
    if not _wanted(dataset):
        return
    importer = (
        ImportJob.objects.filter(pk=data["import"]["id"]).values_list("created_by", flat=True)
    ).first()
    job = embedding_job_join(dataset_id=dataset.pk, created_by_id=importer)
    logger.info("import %s: embedding job %s for dataset %s", data["import"]["id"], job, dataset)


def embedding_job_follow_up(*, job_id: int) -> EmbeddingJob | None:
    """After a job finished: on a dataset with the setting on, a new job when live examples
    still have no vector (they arrived while it ran); else None."""
    job = EmbeddingJob.objects.select_related("dataset").get(pk=job_id)
    if job.status != EmbeddingStatus.SUCCEEDED or not _wanted(job.dataset):
        return None
    stored = embeddings_read(
        embeddings_folder(dataset_id=job.dataset_id, model_name=job.model_name)
    )
    live = (
        Example.objects.filter(dataset_id=job.dataset_id)
        .exclude(status=ExampleStatus.ARCHIVED)
        .values_list("current_revision_id", flat=True)
    )
    have = stored.revisions if stored is not None else np.zeros(0, dtype=np.int64)
    if np.isin(np.fromiter(live, dtype=np.int64), have, invert=True).any():
        return embedding_job_join(dataset_id=job.dataset_id, created_by_id=job.created_by_id)
    return None
