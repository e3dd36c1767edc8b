"""Reads of frozen versions and restores, with team scoping."""

from __future__ import annotations

from django.db.models import QuerySet

from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import get_for_user

from ..models import (
    Dataset,
    DatasetVersion,
    VersionRestore,
)


def version_get_for_user(user, version_id, *, action: Action = Action.READ) -> DatasetVersion:
    """A version of one of the caller's teams (404 otherwise; 403 when the role lacks ``action``)."""
    return get_for_user(
        DatasetVersion.objects.select_related("dataset", "dataset__team", "parent", "created_by"),
        user,
        pk=version_id,
        action=action,
    )


def version_list(dataset: Dataset, *, excluding: int | None = None) -> QuerySet:
    """Versions of a dataset the caller already reached, newest first; ``excluding`` leaves one
    out (the version being shown)."""
    qs = DatasetVersion.objects.filter(dataset=dataset)
    if excluding is not None:
        qs = qs.exclude(pk=excluding)
    return qs.select_related("parent", "created_by").order_by("-number")


def restore_get_for_user(user, restore_id, *, action: Action = Action.READ) -> VersionRestore:
    return get_for_user(
        VersionRestore.objects.select_related("dataset", "version", "created_by", "undone_by"),
        user,
        pk=restore_id,
        action=action,
    )


def restore_list(dataset: Dataset) -> QuerySet:
    return (
        VersionRestore.objects.filter(dataset=dataset)
        .select_related("version", "created_by", "undone_by")
        .order_by("-created_at", "-id")
    )
