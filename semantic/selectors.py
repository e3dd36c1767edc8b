"""Reads of the semantic layer; team scoping through finetunedb.teams.scoping only."""

from __future__ import annotations

from datasets_app.models import Dataset
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import get_for_user

from .models import CoverageTarget, EmbeddingJob


def embedding_job_get_for_user(*, user, job_id, action: Action = Action.READ) -> EmbeddingJob:
    return get_for_user(EmbeddingJob.objects.all(), user, pk=job_id, action=action)


def embedding_job_latest(*, dataset: Dataset) -> EmbeddingJob | None:
    return EmbeddingJob.objects.filter(dataset=dataset).order_by("-id").first()


def coverage_target_get_for_user(
    *, user, coverage_target_id, action: Action = Action.READ
) -> CoverageTarget:
    return get_for_user(
        CoverageTarget.objects.select_related("dataset", "dataset__team"),
        user,
        pk=coverage_target_id,
        action=action,
    )
