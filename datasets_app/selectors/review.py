"""Reads of the review queue: the examples waiting for a decision, in id order."""

from __future__ import annotations

from django.db.models import QuerySet

from ..models import Dataset, Example
from .examples import example_list


def example_review_queue(*, dataset: Dataset, drafts: bool = False) -> QuerySet:
    """The examples of a dataset the caller already reached that wait for review (needs
    review; drafts too when ``drafts``), in id order."""
    status = "needs_review,draft" if drafts else "needs_review"
    return example_list(dataset, filters={"status": status}).order_by("pk")


def example_review_pick(*, queue: QuerySet, at: int) -> Example | None:
    """The queue's example ``at``, else the next one after it (it may just have been decided),
    else the last one before it; None for an empty queue."""
    return queue.filter(pk__gte=at).first() or queue.filter(pk__lt=at).last()


def example_review_neighbours(
    *, queue: QuerySet, example: Example
) -> tuple[int | None, int | None]:
    """The ids before and after ``example`` in the queue (None at either end)."""
    before = queue.filter(pk__lt=example.pk).values_list("pk", flat=True).last()
    after = queue.filter(pk__gt=example.pk).values_list("pk", flat=True).first()
    return before, after


def example_review_position(*, queue: QuerySet, example: Example) -> int:
    """The 1-based place of ``example`` in the queue; exact, and the (dataset, status, id)
    index answers it without reading rows."""
    return queue.filter(pk__lt=example.pk).count() + 1


def example_review_get(*, queue: QuerySet, example_id: int) -> Example | None:
    """One example of the queue (None when it is no longer waiting for review)."""
    return queue.filter(pk=example_id).select_related("dataset").first()
