"""The dedup job: find exact or near-duplicate clusters among a dataset's live examples.

Same shape as an import (DESIGN §4): the task claims the row with a conditional UPDATE (queued →
running, or running under an expired lease), reports progress on the row while it reads the
examples, and publishes in ONE transaction: the final status, and the dataset's clusters of that
method replaced by the new ones. A redelivered or concurrent run that lost its claim writes
nothing. Pairs a curator marked "not duplicates" are re-read inside that transaction, so a mark
made while the job ran is honoured too.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from itertools import combinations

from django.db import transaction
from django.utils import timezone

from finetunedb.events import event_emit
from finetunedb.exceptions import ApplicationError
from finetunedb.leases import (
    JobKind,
    lease_claim,
    lease_finish,
    lease_held,
    lease_recover,
    lease_renew,
)
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ...dedup import build_clusters, example_exact_key, example_text, near_duplicate_pairs
from ...dedup.clusters import exact_clusters
from ...models import (
    Dataset,
    DedupFields,
    DedupJob,
    DedupMethod,
    DedupStatus,
    DuplicateCluster,
    DuplicateClusterMember,
    Example,
    ExampleStatus,
    NotDuplicatePair,
)

logger = logging.getLogger(__name__)

# Comparing is one uninterruptible step, so the lease covers a long one; reading renews it.
LEASE = timedelta(minutes=15)
PROGRESS_EVERY_S = 0.5
MAX_ATTEMPTS = 3
MIN_THRESHOLD, MAX_THRESHOLD = 0.5, 1.0

BAD_METHOD = "method must be exact, near or semantic."
BAD_SEMANTIC_FIELDS = (
    "semantic duplicates compare whole conversations: fields must be conversation."
)
SEMANTIC_THRESHOLD = 0.9  # cosine; the default of method semantic
BAD_FIELDS = "fields must be conversation, prompt or response."
BAD_THRESHOLD = "threshold must be a number from 0.5 to 1.0."
GAVE_UP = "The duplicate search was interrupted {attempts} times; it was given up. Run it again."
CRASHED = "The duplicate search failed unexpectedly. The error was logged."

DEDUP_JOBS = JobKind(
    name="dedup job",
    model=DedupJob,
    enqueue="datasets_app.services.dedup.jobs.dedup_job_enqueue",
    lease=LEASE,
    max_attempts=MAX_ATTEMPTS,
    gave_up=GAVE_UP.format(attempts=MAX_ATTEMPTS),
    team="dataset__team_id",  # in turns between teams (finetunedb.leases.job_run_next)
)


def dedup_job_create(
    *,
    user,
    dataset: Dataset,
    method: str = DedupMethod.NEAR,
    threshold: float | None = None,
    fields: str = DedupFields.CONVERSATION,
) -> DedupJob:
    """Queue a duplicate search; the task starts once the caller's transaction commits.
    ``threshold`` defaults to 0.8 (Jaccard) for near, 0.9 (cosine) for semantic."""
    require_role(user, dataset.team_id, Action.CURATE)
    if threshold is None:
        threshold = SEMANTIC_THRESHOLD if method == DedupMethod.SEMANTIC else 0.8
    errors = []
    if method not in DedupMethod.values:
        errors.append({"path": "method", "message": BAD_METHOD})
    if fields not in DedupFields.values:
        errors.append({"path": "fields", "message": BAD_FIELDS})
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD
    ):
        errors.append({"path": "threshold", "message": BAD_THRESHOLD})
    if method == DedupMethod.SEMANTIC and fields != DedupFields.CONVERSATION:
        errors.append({"path": "fields", "message": BAD_SEMANTIC_FIELDS})
    if errors:
        raise ApplicationError("Invalid duplicate search options.", errors=errors)
    if method == DedupMethod.SEMANTIC:
        _require_embeddings(dataset)
    with transaction.atomic():
        job = DedupJob.objects.create(
            dataset=dataset,
            created_by=user,
            method=method,
            threshold=1.0 if method == DedupMethod.EXACT else float(threshold),
            fields=fields,
        )
        transaction.on_commit(lambda: dedup_job_enqueue(job.pk))
    return job


def _require_embeddings(dataset: Dataset) -> None:
    # the semantic app (issue 22) holds the embeddings; imported here only, when asked for
    from semantic.services.duplicates import NOT_EMBEDDED, dataset_is_embedded

    if not dataset_is_embedded(dataset=dataset):
        raise ApplicationError(
            NOT_EMBEDDED.format(id=dataset.pk), code="not_embedded", status_code=409
        )


def dedup_job_enqueue(job_id: int) -> None:
    from ...tasks import dedup_job_run as task

    task.delay(job_id)


def dedup_jobs_recover() -> int:
    """Re-enqueue jobs a dead worker left behind. Called when a worker starts."""
    return lease_recover(DEDUP_JOBS)


def _claim(job_id: int) -> int | None:
    return lease_claim(DEDUP_JOBS, pk=job_id, reset={"stage": "reading", "examples_processed": 0})


def _mine(job_id: int, attempt: int):
    return lease_held(DEDUP_JOBS, pk=job_id, attempt=attempt)


def dedup_job_run(*, job_id: int) -> None:
    attempt = _claim(job_id)
    if attempt is None:
        return
    job = DedupJob.objects.get(pk=job_id)
    try:
        found = _compare(job, attempt)
        if found is not None:
            _publish(job, attempt, found)
    except Exception:
        logger.exception("dedup job %s crashed", job_id)
        _mine(job_id, attempt).update(
            status=DedupStatus.FAILED, finished_at=timezone.now(), failure_reason=CRASHED
        )


def excluded_pairs_for_dataset(dataset_id: int) -> list[tuple[int, int]]:
    """Every pair a curator marked "not duplicates", as ``(smaller id, larger id)``."""
    return list(
        NotDuplicatePair.objects.filter(dataset_id=dataset_id).values_list(
            "example_a_id", "example_b_id"
        )
    )


def _compare(job: DedupJob, attempt: int):
    """Exact keys or verified near pairs of the live examples; None when the lease was lost."""
    if job.method == DedupMethod.SEMANTIC:
        return _compare_semantic(job, attempt)
    rows = (
        Example.objects.filter(dataset_id=job.dataset_id)
        .exclude(status=ExampleStatus.ARCHIVED)
        .order_by("pk")
        .values_list("pk", "current_revision__messages")
    )
    total = rows.count()
    _mine(job.pk, attempt).update(examples_total=total)
    values: dict[int, str] = {}
    last = time.monotonic()
    exact = job.method == DedupMethod.EXACT
    for done, (pk, messages) in enumerate(rows.iterator(chunk_size=2000), start=1):
        messages = messages or []
        values[pk] = (
            example_exact_key(messages, job.fields) if exact else example_text(messages, job.fields)
        )
        if time.monotonic() - last > PROGRESS_EVERY_S:
            last = time.monotonic()
            if not lease_renew(DEDUP_JOBS, pk=job.pk, attempt=attempt, examples_processed=done):
                return None
    if not lease_renew(
        DEDUP_JOBS, pk=job.pk, attempt=attempt, examples_processed=len(values), stage="comparing"
    ):
        return None
    if exact:
        return values
    return near_duplicate_pairs(values, threshold=job.threshold)


def _compare_semantic(job: DedupJob, attempt: int):
    from semantic.services.duplicates import semantic_duplicate_pairs

    live = Example.objects.filter(dataset_id=job.dataset_id).exclude(status=ExampleStatus.ARCHIVED)
    total = live.count()  # nothing to read row by row: the vectors are on disk
    if not lease_renew(
        DEDUP_JOBS,
        pk=job.pk,
        attempt=attempt,
        examples_total=total,
        examples_processed=total,
        stage="comparing",
    ):
        return None
    return semantic_duplicate_pairs(dataset_id=job.dataset_id, threshold=job.threshold)


def _clusters(job: DedupJob, found, excluded):
    if job.method == DedupMethod.EXACT:
        return exact_clusters(found, excluded), {}
    kept = [p for p in found if (p.a, p.b) not in excluded]
    best: dict[int, float] = {}
    for pair in kept:
        for member in (pair.a, pair.b):
            best[member] = max(best.get(member, 0.0), pair.similarity)
    return build_clusters(kept, method=job.method), best


def _publish(job: DedupJob, attempt: int, found) -> None:
    with transaction.atomic():
        if not _mine(job.pk, attempt).update(stage="saving"):
            return
        excluded = set(excluded_pairs_for_dataset(job.dataset_id))
        clusters, best = _clusters(job, found, excluded)
        old = DuplicateCluster.objects.filter(dataset_id=job.dataset_id, method=job.method)
        DuplicateClusterMember.objects.filter(cluster__in=old).delete()
        old.delete()
        stored = DuplicateCluster.objects.bulk_create(
            [
                DuplicateCluster(
                    dataset_id=job.dataset_id,
                    job=job,
                    method=job.method,
                    fields=job.fields,
                    threshold=job.threshold,
                    min_similarity=c.min_similarity,
                    max_similarity=c.max_similarity,
                    size=len(c.members),
                )
                for c in clusters
            ],
            batch_size=1000,
        )
        DuplicateClusterMember.objects.bulk_create(
            [
                DuplicateClusterMember(
                    cluster_id=row.pk, example_id=member, similarity=best.get(member, 1.0)
                )
                for row, c in zip(stored, clusters, strict=True)
                for member in c.members
            ],
            batch_size=2000,
        )
        duplicates = sum(len(c.members) - 1 for c in clusters)
        if lease_finish(
            DEDUP_JOBS,
            pk=job.pk,
            attempt=attempt,
            status=DedupStatus.SUCCEEDED,
            stage="",
            clusters_found=len(clusters),
            duplicates_found=duplicates,
        ):
            dataset = job.dataset
            event_emit(  # sent once this transaction commits (finetunedb/events.py)
                team_id=dataset.team_id,
                type="dedup.finished",
                data={
                    "dedup_job": {
                        "id": job.pk,
                        "status": DedupStatus.SUCCEEDED.value,
                        "method": job.method,
                        "clusters_found": len(clusters),
                        "duplicates_found": duplicates,
                        "url": f"/api/v1/dedup-jobs/{job.pk}/",
                    },
                    "dataset": {"id": dataset.pk, "name": dataset.name},
                },
            )


def member_pairs(members: list[int]) -> list[tuple[int, int]]:
    """Every unordered pair of a cluster's members, smaller id first."""
    return list(combinations(sorted(members), 2))
