"""Keeping results current after writes: the quick per-example re-check, and a debounced dataset
run (incremental: it rescans the changed examples, services/checks/store.py).

The debounce marker (``DatasetReport.queued_at``) is set in the same step that enqueues, after
the writing transaction commits: a rolled-back write queues nothing and marks nothing. While a
run is queued, further changes only move ``requested_at``; the run clears the marker when it
starts, so a change made during a run queues the next one. A marker older than ``STUCK_AFTER``
(a lost task) no longer blocks enqueuing.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ...models import DatasetReport, Example
from .store import example_checks_refresh

STUCK_AFTER = timedelta(minutes=15)


def dataset_checks_schedule(*, dataset_id: int, full: bool = False) -> None:
    """Mark the dataset's report stale now and queue one run once the caller commits. The run
    rescans the changed examples only; ``full`` ("Re-check now") rescans every example and is
    queued even while another run is pending."""
    now = timezone.now()
    touched = DatasetReport.objects.filter(dataset_id=dataset_id).update(requested_at=now)
    if not touched:
        DatasetReport.objects.get_or_create(dataset_id=dataset_id, defaults={"requested_at": now})
    # robust: the write already committed; a broker hiccup must not turn it into an error. The
    # report stays marked stale and the next change (or "Re-check now") queues the run.
    transaction.on_commit(lambda: _enqueue_unless_pending(dataset_id, full), robust=True)


def _enqueue_unless_pending(dataset_id: int, full: bool = False) -> bool:
    now = timezone.now()
    free = Q(queued_at__isnull=True) | Q(queued_at__lt=now - STUCK_AFTER)
    claimed = DatasetReport.objects.filter(free, dataset_id=dataset_id).update(queued_at=now)
    if not claimed and not full:  # a run is pending; a full one is sent all the same
        return False
    from ...tasks import dataset_checks_run as task

    if full:
        task.delay(dataset_id, full=True)
    else:
        task.delay(dataset_id)
    return True


def example_checks_after_change(*, example: Example) -> None:
    """After an example's content or status changed: re-check it now, re-run the dataset later.

    Call inside the writing transaction, after the new revision is current.
    """
    example_checks_refresh(dataset=example.dataset, example_ids=[example.pk])
    dataset_checks_schedule(dataset_id=example.dataset_id)
