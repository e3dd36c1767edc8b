"""The embedding job: embed a dataset's live examples whose current revision has no vector yet.

Same shape as every job (finetunedb/leases.py): the task claims the row, renews the lease as
batches finish (writing progress), and publishes the dataset's new matrix — the kept rows of
revisions still current plus the new ones — with one atomic file swap (semantic/store.py), and
the changed rows into pgvector where it is installed (pgvector_store.py), before it marks the job
succeeded. A run that lost its lease writes nothing. A second run over an
unchanged dataset embeds nothing; editing one example embeds that one.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import numpy as np
from django.db import transaction
from django.utils import timezone

from datasets_app.dedup.text import message_text
from datasets_app.models import Dataset, Example, ExampleStatus
from finetunedb.exceptions import ApplicationError
from finetunedb.leases import (
    JobKind,
    lease_claim,
    lease_finish,
    lease_held,
    lease_kept,
    lease_renew,
)
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..models import EmbeddingJob, EmbeddingStatus
from ..store import embeddings_read, embeddings_write
from .auto import embedding_job_follow_up
from .embedding_models import embedder_get, embedding_model_check, embeddings_folder
from .embedding_store import embeddings_publish
from .pgvector_store import pgvector_sync

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 3
CHUNK = 512  # texts per progress report and lease renewal
READ_CHUNK = 2000
GAVE_UP = "The embedding job was interrupted {attempts} times; it was given up. Run it again."
CRASHED = "The embedding job failed unexpectedly. The error was logged."
ALREADY_QUEUED = "An embedding job for this dataset is already queued or running (job {pk})."

EMBEDDING_JOBS = JobKind(
    name="embedding job",
    model=EmbeddingJob,
    enqueue="semantic.services.jobs.embedding_job_enqueue",
    lease=LEASE,
    max_attempts=MAX_ATTEMPTS,
    gave_up=GAVE_UP.format(attempts=MAX_ATTEMPTS),
    team="dataset__team_id",  # in turns between teams (finetunedb.leases.job_run_next)
)


def example_embedding_text(messages) -> str:
    """What is embedded for an example: every message's text, one per line."""
    return "\n".join(message_text(m) for m in messages or [] if isinstance(m, dict))


def embedding_job_create(*, user, dataset: Dataset, model: str | None = None) -> EmbeddingJob:
    """Queue an embedding job; the task starts once the caller's transaction commits."""
    require_role(user, dataset.team_id, Action.CURATE)
    name = embedding_model_check(model)
    with transaction.atomic():
        pending = EmbeddingJob.objects.filter(
            dataset=dataset, status__in=[EmbeddingStatus.QUEUED, EmbeddingStatus.RUNNING]
        ).first()
        if pending is not None:
            raise ApplicationError(ALREADY_QUEUED.format(pk=pending.pk), status_code=409)
        job = EmbeddingJob.objects.create(dataset=dataset, created_by=user, model_name=name)
        transaction.on_commit(lambda: embedding_job_enqueue(job.pk))
    return job


def embedding_job_enqueue(job_id: int) -> None:
    from ..tasks import embedding_job_run as task

    task.delay(job_id)


def _mine(job_id: int, attempt: int):
    return lease_held(EMBEDDING_JOBS, pk=job_id, attempt=attempt)


def embedding_job_run(*, job_id: int) -> None:
    attempt = lease_claim(EMBEDDING_JOBS, pk=job_id, reset={"examples_embedded": 0})
    if attempt is None:
        return
    job = EmbeddingJob.objects.get(pk=job_id)
    try:
        _embed(job, attempt)
    except Exception:
        logger.exception("embedding job %s crashed", job_id)
        _mine(job_id, attempt).update(
            status=EmbeddingStatus.FAILED, finished_at=timezone.now(), failure_reason=CRASHED
        )
        return
    # Examples an import published while this job ran (semantic/services/auto.py)
    embedding_job_follow_up(job_id=job_id)


def _embed(job: EmbeddingJob, attempt: int) -> None:
    live = list(
        Example.objects.filter(dataset_id=job.dataset_id)
        .exclude(status=ExampleStatus.ARCHIVED)
        .order_by("pk")
        .values_list("current_revision_id", "pk")
    )
    folder = embeddings_folder(dataset_id=job.dataset_id, model_name=job.model_name)
    old = embeddings_read(folder)
    known: dict[int, int] = {}
    if old is not None:
        known = {int(r): i for i, r in enumerate(old.revisions)}
    missing = [(rev, pk) for rev, pk in live if rev not in known]
    if not lease_renew(
        EMBEDDING_JOBS,
        pk=job.pk,
        attempt=attempt,
        examples_total=len(live),
        examples_to_embed=len(missing),
    ):
        return
    new_vectors = []
    if missing:
        with lease_kept(EMBEDDING_JOBS, pk=job.pk, attempt=attempt) as lost:
            embedder = embedder_get(job.model_name)
        if lost.is_set():
            return
        for start in range(0, len(missing), CHUNK):
            chunk = missing[start : start + CHUNK]
            texts = _texts([rev for rev, _ in chunk])
            new_vectors.append(embedder.embed(texts))
            if not lease_renew(
                EMBEDDING_JOBS, pk=job.pk, attempt=attempt, examples_embedded=start + len(chunk)
            ):
                return
    kept = [(rev, pk) for rev, pk in live if rev in known]
    dimension = new_vectors[0].shape[1] if new_vectors else (old.vectors.shape[1] if old else 0)
    parts = []
    if kept:
        parts.append(np.asarray(old.vectors[[known[rev] for rev, _ in kept]]))
    parts += new_vectors
    vectors = np.concatenate(parts) if parts else np.zeros((0, dimension), dtype=np.float16)
    rows = kept + missing
    if not _mine(job.pk, attempt).exists():
        return
    revisions, examples = [rev for rev, _ in rows], [pk for _, pk in rows]
    embeddings_write(folder, vectors=vectors, revisions=revisions, examples=examples)
    # The same generation into pgvector where it is installed; readers take those rows only
    # once the job has succeeded (pgvector_store.pgvector_current), the file until then.
    pgvector_sync(
        job_id=job.pk,
        dataset_id=job.dataset_id,
        model_name=job.model_name,
        vectors=vectors,
        revisions=revisions,
        examples=examples,
    )
    # Before the job is finished: a web elsewhere that sees "succeeded" finds the generation.
    embeddings_publish(
        team_id=job.dataset.team_id, dataset_id=job.dataset_id, model_name=job.model_name
    )
    lease_finish(
        EMBEDDING_JOBS,
        pk=job.pk,
        attempt=attempt,
        status=EmbeddingStatus.SUCCEEDED,
        examples_embedded=len(missing),
    )


def _texts(revision_ids: list[int]) -> list[str]:
    from datasets_app.models import ExampleRevision

    by_id: dict[int, str] = {}
    for start in range(0, len(revision_ids), READ_CHUNK):
        ids = revision_ids[start : start + READ_CHUNK]
        for pk, messages in ExampleRevision.objects.filter(pk__in=ids).values_list(
            "pk", "messages"
        ):
            by_id[pk] = example_embedding_text(messages)
    return [by_id.get(r, "") for r in revision_ids]
