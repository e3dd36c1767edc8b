"""Scoped reads of runs, models and playground requests. Views reach them only through these."""

from __future__ import annotations

from django.db.models import QuerySet

from datasets_app.models import DatasetVersion, Example, VersionEntry
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import get_for_user

from .models import ModelArtifact, PlaygroundRequest, TrainingRun

RUN_RELATED = ("version", "version__dataset", "created_by", "model")


def run_get_for_user(user, run_id, *, action: Action = Action.READ) -> TrainingRun:
    return get_for_user(
        TrainingRun.objects.select_related(*RUN_RELATED), user, pk=run_id, action=action
    )


def model_get_for_user(user, model_id, *, action: Action = Action.READ) -> ModelArtifact:
    return get_for_user(
        ModelArtifact.objects.select_related(
            "run", "run__version", "run__version__dataset", "run__created_by"
        ),
        user,
        pk=model_id,
        action=action,
    )


def playground_get_for_user(user, request_id) -> PlaygroundRequest:
    return get_for_user(
        PlaygroundRequest.objects.select_related("model"), user, pk=request_id, action=Action.READ
    )


def runs_for_version(version: DatasetVersion) -> QuerySet:
    """Runs of a version the caller already reached through ``version_get_for_user``."""
    return TrainingRun.objects.filter(version=version).select_related("model", "created_by")


def models_for_version(version: DatasetVersion) -> QuerySet:
    return ModelArtifact.objects.filter(run__version=version).select_related("run")


def model_list_for_team(*, team_id: int, excluding: int | None = None) -> QuerySet:
    """The models of a team the caller already reached (through a model or version of it),
    newest first; ``excluding`` leaves one out (the model being shown)."""
    qs = ModelArtifact.objects.filter(run__version__dataset__team_id=team_id)
    if excluding is not None:
        qs = qs.exclude(pk=excluding)
    return qs.select_related("run__version").order_by("-created_at", "-id")


def sft_models_for_team(*, team_id: int) -> QuerySet:
    """The team's finished SFT models (lora or full runs that succeeded), newest first: what a
    dpo/orpo run may start from (services/chain.py checks the rest, the base model included)."""
    from .models import RunStatus

    return (
        model_list_for_team(team_id=team_id)
        .filter(run__status=RunStatus.SUCCEEDED)
        .exclude(run__method__in=("dpo", "orpo"))
        .select_related("run__version__dataset")
    )


def models_for_versions(version_ids) -> dict[int, list[ModelArtifact]]:
    """Models of several versions at once (the history page), by version id."""
    out: dict[int, list[ModelArtifact]] = {}
    for model in ModelArtifact.objects.filter(run__version_id__in=list(version_ids)).select_related(
        "run"
    ):
        out.setdefault(model.run.version_id, []).append(model)
    return out


def models_for_example(example: Example) -> QuerySet:
    """Every model trained on a version that holds this example (any revision of it)."""
    versions = VersionEntry.objects.filter(example=example).values("version_id")
    return (
        ModelArtifact.objects.filter(run__version_id__in=versions)
        .select_related("run", "run__version")
        .order_by("-created_at", "-id")
    )


def example_get_for_user(user, example_id) -> Example:
    return get_for_user(Example.objects.all(), user, pk=example_id, action=Action.READ)
