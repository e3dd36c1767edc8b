"""Scoped reads of suites, runs and results. Views reach them only through these."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import NOT_FOUND, get_for_user, parse_id, scope_to_user

from .judged_models import JudgedComparison
from .models import EvalResult, EvalRun, EvalRunStatus, EvalSuite

SUITE_RELATED = ("team", "version", "version__dataset", "created_by")
RUN_RELATED = ("suite", "suite__team", "suite__version", "model", "model__run", "created_by")


def suite_get_for_user(user, suite_id, *, action: Action = Action.READ) -> EvalSuite:
    return get_for_user(
        EvalSuite.objects.select_related(*SUITE_RELATED), user, pk=suite_id, action=action
    )


def suites_for_user(user, *, team=None) -> QuerySet:
    suites = scope_to_user(EvalSuite.objects.select_related(*SUITE_RELATED), user)
    if team is not None:
        team_id = parse_id(team)
        suites = suites.filter(team_id=team_id) if team_id else suites.none()
    return suites


def eval_run_get_for_user(user, run_id, *, action: Action = Action.READ) -> EvalRun:
    return get_for_user(
        EvalRun.objects.select_related(*RUN_RELATED), user, pk=run_id, action=action
    )


def eval_result_get_for_user(user, result_id) -> EvalResult:
    return get_for_user(
        EvalResult.objects.select_related(
            "entry__revision", "run", "run__model__run__version__dataset"
        ),
        user,
        pk=result_id,
    )


def runs_for_suite(suite: EvalSuite, *, excluding: int | None = None) -> QuerySet:
    """Runs of a suite the caller already reached through ``suite_get_for_user``; ``excluding``
    leaves one out (the run being shown)."""
    qs = EvalRun.objects.filter(suite=suite)
    if excluding is not None:
        qs = qs.exclude(pk=excluding)
    return qs.select_related(*RUN_RELATED)


def runs_for_model(model) -> QuerySet:
    """Eval runs of a model the caller already reached through the training selectors."""
    return EvalRun.objects.filter(model=model).select_related(*RUN_RELATED)


def runs_for_version(version) -> QuerySet:
    """Eval runs of every model trained on a version the caller already reached."""
    return (
        EvalRun.objects.filter(model__run__version=version)
        .select_related(*RUN_RELATED)
        .order_by("model_id", "-created_at", "-id")
    )


def results_for_run(run: EvalRun) -> QuerySet:
    return EvalResult.objects.filter(run=run).select_related("entry").order_by("position")


def leaderboard(suite: EvalSuite) -> list[EvalRun]:
    """The suite's succeeded runs, the newest per model (or base model) first in the table."""
    seen, board = set(), []
    for run in runs_for_suite(suite).filter(status=EvalRunStatus.SUCCEEDED):
        key = run.model_id or run.base_model
        if key not in seen:
            seen.add(key)
            board.append(run)
    return board


def versions_for_user(user) -> QuerySet:
    """Frozen versions of the caller's teams, newest first (the suite form's choices)."""
    from datasets_app.models import DatasetVersion

    return (
        scope_to_user(DatasetVersion.objects.select_related("dataset"), user)
        .exclude(content_hash="")
        .order_by("-created_at", "-id")
    )


def version_for_user(user, version_id):
    """One frozen version of the caller's teams, or None (a bad, foreign or unfrozen id)."""
    return versions_for_user(user).filter(pk=version_id).first()


def models_for_team(team_id: int) -> QuerySet:
    from training.models import ModelArtifact

    return ModelArtifact.objects.filter(run__version__dataset__team_id=team_id).select_related(
        "run__version"
    )


COMPARISON_RELATED = ("run", "run__suite", "run__suite__team", "against", "created_by")


def judged_comparison_get_for_user(user, comparison_id, *, run_id=None):
    """One LLM judge's comparison of the caller's teams; 404 too when ``run_id`` is neither
    side (the API nests comparisons under a run, and a run's list names those where it is
    either side: :func:`judged_comparisons_for_run`)."""
    comparison = get_for_user(
        JudgedComparison.objects.select_related(*COMPARISON_RELATED), user, pk=comparison_id
    )
    if run_id is not None and int(run_id) not in (comparison.run_id, comparison.against_id):
        raise Http404(NOT_FOUND)
    return comparison


def judged_comparisons_for_run(run, *, against=None) -> list:
    """The LLM judge's comparisons where ``run`` (reached through the scoped selector) is
    either side, newest first; ``against``: only those between the two."""
    rows = JudgedComparison.objects.select_related(*COMPARISON_RELATED)
    found = [*rows.filter(run=run), *rows.filter(against=run)]
    if against is not None:
        found = [c for c in found if {c.run_id, c.against_id} == {run.pk, against.pk}]
    return sorted(found, key=lambda c: -c.pk)
