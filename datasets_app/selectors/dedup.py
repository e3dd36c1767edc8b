"""Reads of duplicate searches and the clusters they found."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import get_for_user

from ..models import (
    Dataset,
    DedupJob,
    DuplicateCluster,
    DuplicateClusterMember,
)


def dedup_job_get_for_user(*, user, dedup_job_id, action: Action = Action.READ) -> DedupJob:
    return get_for_user(DedupJob.objects.all(), user, pk=dedup_job_id, action=action)


def dedup_job_latest(*, dataset: Dataset) -> DedupJob | None:
    return DedupJob.objects.filter(dataset=dataset).order_by("-id").first()


def duplicate_cluster_list(*, dataset: Dataset, method: str | None = None) -> QuerySet:
    """A dataset's duplicate clusters in id order, each with its members and their examples;
    ``method`` (exact, near) keeps one kind (an unknown one matches nothing)."""
    members = DuplicateClusterMember.objects.select_related("example", "example__current_revision")
    qs = DuplicateCluster.objects.filter(dataset=dataset).prefetch_related(
        Prefetch("members", queryset=members)
    )
    if method is not None:
        qs = qs.filter(method=method)
    return qs.order_by("id")
