"""Evaluation pages: suites (list, create, detail with leaderboard and runs), a run (metrics
with intervals, progress and ETA, results), two runs compared, a model's eval runs."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import parse_id, role_in_team
from training.selectors import model_get_for_user

from .. import selectors
from ..api.serializers import eta_seconds
from ..models import EvalRunStatus
from ..services.compare import eval_run_compare
from ..services.judged import judged_panel
from ..services.judging import judge_options
from ..services.runs import eval_run_cancel, eval_run_start
from ..services.suites import eval_suite_create

DEFAULT_EVALUATORS = [
    {"type": "regex", "params": {"name": "format", "pattern": "####\\s*-?[0-9]"}},
    {"type": "final_number"},
]
BAD_JSON = "The evaluators are not JSON: {why}"
SUITE_CREATED = "Suite created."
RUN_QUEUED = "The run is queued on the worker; this page shows its progress."
CANCEL_ASKED = "Cancel asked: the run stops after its current batch."


def _can(user, team_id, action) -> bool:
    return role_allows(role_in_team(user, team_id), action)


@login_required
def suite_list(request):
    form = {"name": "", "split": "test", "evaluators": json.dumps(DEFAULT_EVALUATORS, indent=2)}
    error = None
    status = 200
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in ("name", "split", "evaluators", "version")}
        version_id = parse_id(form["version"])
        try:
            version = selectors.version_for_user(request.user, version_id)
            if version is None:
                raise ApplicationError("Choose one of your teams' frozen versions.")
            try:
                specs = json.loads(form["evaluators"])
            except (ValueError, RecursionError) as exc:
                raise ApplicationError(BAD_JSON.format(why=str(exc)[:200])) from None
            suite = eval_suite_create(
                user=request.user,
                team=version.dataset.team,
                version=version,
                name=form["name"],
                split=form["split"] or "test",
                evaluators=specs,
            )
            messages.success(request, SUITE_CREATED)
            return redirect("evaluation:suite", suite_id=suite.pk)
        except ApplicationError as exc:
            where = exc.errors[0]["path"] if exc.errors else ""
            error = f"{where}: {exc.message}" if where else exc.message
            status = 400
    return render(
        request,
        "evaluation/suites.html",
        {
            "suites": selectors.suites_for_user(request.user)[:200],
            "versions": selectors.versions_for_user(request.user)[:200],
            "form": form,
            "error": error,
        },
        status=status,
    )


@login_required
def suite_detail(request, suite_id):
    suite = selectors.suite_get_for_user(request.user, suite_id)
    if request.method == "POST":
        suite = selectors.suite_get_for_user(request.user, suite_id, action=Action.TRAIN)
        try:
            model_id = parse_id(request.POST.get("model"))
            model = model_get_for_user(request.user, model_id) if model_id else None
            run = eval_run_start(
                user=request.user,
                suite=suite,
                model=model,
                base_model=request.POST.get("base_model", "") if model is None else None,
                max_new_tokens=_int(request.POST.get("max_new_tokens"), 128),
                temperature=_float(request.POST.get("temperature"), 0.0),
                seed=_int(request.POST.get("seed"), 0),
            )
            messages.success(request, RUN_QUEUED)
            return redirect("evaluation:run", eval_run_id=run.pk)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("evaluation:suite", suite_id=suite.pk)
    return render(
        request,
        "evaluation/suite.html",
        {
            "suite": suite,
            "leaderboard": _board(suite),
            "runs": selectors.runs_for_suite(suite)[:100],
            "models": selectors.models_for_team(suite.team_id)[:100],
            "can_train": _can(request.user, suite.team_id, Action.TRAIN),
        },
    )


def _int(raw, default):
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError:
        return raw  # the service names the field


def _float(raw, default):
    try:
        return float(raw) if raw not in (None, "") else default
    except ValueError:
        return raw


def _board(suite) -> dict:
    names = [spec["params"].get("name") or spec["type"] for spec in suite.evaluators]
    rows = []
    for run in selectors.leaderboard(suite):
        metrics = (run.metrics or {}).get("evaluators", {})
        rows.append({"run": run, "cells": [metrics.get(n) for n in names]})
    return {"names": names, "rows": rows}


@login_required
def run_detail(request, eval_run_id):
    run = selectors.eval_run_get_for_user(request.user, eval_run_id)
    page = Paginator(selectors.results_for_run(run), 25).get_page(request.GET.get("page"))
    others = selectors.runs_for_suite(run.suite, excluding=run.pk)[:50]
    return render(
        request,
        "evaluation/run.html",
        {
            "run": run,
            "suite": run.suite,
            "metrics": (run.metrics or {}).get("evaluators", {}),
            "eta": eta_seconds(run),
            "page": page,
            "others": others,
            "can_train": _can(request.user, run.suite.team_id, Action.TRAIN),
        },
    )


@login_required
@require_POST
def run_cancel(request, eval_run_id):
    run = selectors.eval_run_get_for_user(request.user, eval_run_id, action=Action.TRAIN)
    try:
        eval_run_cancel(user=request.user, run=run)
        messages.success(request, CANCEL_ASKED)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("evaluation:run", eval_run_id=run.pk)


@login_required
def run_compare(request, eval_run_id):
    run = selectors.eval_run_get_for_user(request.user, eval_run_id)
    against_id = parse_id(request.GET.get("against"))
    if against_id is None:
        return redirect("evaluation:run", eval_run_id=run.pk)
    against = selectors.eval_run_get_for_user(request.user, against_id)
    try:
        report = eval_run_compare(run=run, against=against)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("evaluation:run", eval_run_id=run.pk)
    judged = selectors.judged_comparisons_for_run(run, against=against)
    return render(
        request,
        "evaluation/compare.html",
        {
            "run": run,
            "against": against,
            "suite": run.suite,
            "report": report,
            "judged": [judged_panel(c) for c in judged],
            "judging": any(not c.is_finished for c in judged),
            "judge_options": judge_options(run.suite),
            "can_judge_llm": _can(request.user, run.suite.team_id, Action.TRAIN)
            and EvalRunStatus.SUCCEEDED == run.status == against.status,
        },
    )


@login_required
def model_evals(request, model_id):
    model = model_get_for_user(request.user, model_id)
    return render(
        request,
        "evaluation/model_evals.html",
        {"model": model, "runs": selectors.runs_for_model(model)[:200]},
    )
