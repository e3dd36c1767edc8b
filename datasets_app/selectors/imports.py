"""Reads of a dataset's import jobs."""

from __future__ import annotations

from django.db.models import QuerySet

from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import get_for_user

from ..models import (
    Dataset,
    ImportJob,
)


def import_job_get_for_user(*, user, import_id, action: Action = Action.READ) -> ImportJob:
    return get_for_user(
        ImportJob.objects.select_related("dataset"), user, pk=import_id, action=action
    )


def import_job_list(*, dataset: Dataset) -> QuerySet:
    """A dataset's imports, newest first."""
    return ImportJob.objects.filter(dataset=dataset).order_by("-id")
