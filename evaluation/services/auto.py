"""Automatic evaluation after training: a launch may name eval suites (``eval_suites``); when
the run's model is published, eval runs start for it on each — and for the base model and the
previous model of the same dataset when they have no run on that suite yet — and the model page
shows the new model against those two, metric by metric.

A model trained from another (SFT → DPO, ``start_from_model``) is also evaluated against that
parent: its run starts on each suite beside the base's, and once both have succeeded the
suite's llm_judge judges the two pairwise (:mod:`.judged`). A chained launch that names no
suites is evaluated on those its parent was (the parent's automatic suites and any suite the
parent has a finished run on), so a DPO model meets its SFT model without being asked.

Wired through ``training.hooks`` in ``EvaluationConfig.ready`` (training imports nothing of
evaluation): :data:`EVAL_SUITES_OPTION` is the launch option, :func:`auto_evals_start` the
after-training callback, :func:`model_auto_eval_panel` the model page's panel.
"""

from __future__ import annotations

import logging

from django import forms
from django.core.exceptions import PermissionDenied

from finetunedb.exceptions import ApplicationError
from training.hooks import LaunchOption
from training.models import ModelArtifact, TrainingRun

from .. import selectors
from ..auto_models import AutoEval
from ..models import EvalRun, EvalRunStatus
from .runs import eval_run_start

logger = logging.getLogger(__name__)

MAX_SUITES = 10
NOT_A_LIST = "eval_suites must be a list of eval suite ids (at most {limit})"
UNKNOWN_SUITE = "no eval suite {id} in this dataset's team; choose one of the team's suites"
REPEATED_SUITE = "suite {id} is named twice"
STARTED = "started eval run #{run} ({who})"
NOT_STARTED = "could not start the run of {who}: {why}"
ALREADY_HAS = "{who} already has run #{run} on this suite"
INHERITED = "named by no launch: the suites the parent model {parent} was evaluated on"
LIVE = (EvalRunStatus.QUEUED, EvalRunStatus.RUNNING, EvalRunStatus.SUCCEEDED)


def _field_error(path: str, message: str) -> ApplicationError:
    return ApplicationError(message, errors=[{"path": path, "message": message}])


def eval_suites_check(*, user, version, value) -> list:
    """The suites a launch named: ids of suites of the version's team the caller can read."""
    if not isinstance(value, list | tuple) or len(value) > MAX_SUITES:
        raise _field_error("eval_suites", NOT_A_LIST.format(limit=MAX_SUITES))
    team_suites = selectors.suites_for_user(user, team=version.dataset.team_id)
    suites, seen = [], set()
    for i, raw in enumerate(value):
        suite_id = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
        if suite_id is None and isinstance(raw, str) and raw.strip().isdigit():
            suite_id = int(raw)
        suite = team_suites.filter(pk=suite_id).first() if suite_id else None
        if suite is None:
            raise _field_error(f"eval_suites[{i}]", UNKNOWN_SUITE.format(id=raw))
        if suite.pk in seen:
            raise _field_error(f"eval_suites[{i}]", REPEATED_SUITE.format(id=raw))
        seen.add(suite.pk)
        suites.append(suite)
    return suites


def eval_suites_save(*, run: TrainingRun, checked: list) -> None:
    AutoEval.objects.bulk_create([AutoEval(training_run=run, suite=s) for s in checked])


class _Checkboxes(forms.CheckboxSelectMultiple):
    # A pre-flight keeps the form as a plain dict (one value per name): one box, a list of one.
    def value_from_datadict(self, data, files, name):
        value = super().value_from_datadict(data, files, name)
        return [value] if isinstance(value, str) else value


def eval_suites_field(*, user, version):
    suites = selectors.suites_for_user(user, team=version.dataset.team_id)[:200]
    if not suites:
        return None
    return forms.MultipleChoiceField(
        required=False,
        choices=[(s.pk, f"{s.name} (v{s.version.number} {s.split})") for s in suites],
        widget=_Checkboxes,
        help_text="Evaluate the new model on these suites when training succeeds (and the base "
        "and the previous model, where they have no run there yet).",
    )


EVAL_SUITES_OPTION = LaunchOption(
    name="eval_suites", check=eval_suites_check, save=eval_suites_save, form_field=eval_suites_field
)


def previous_model(model: ModelArtifact) -> ModelArtifact | None:
    """The model of the same dataset published before ``model`` (None for the first)."""
    return (
        ModelArtifact.objects.filter(
            run__version__dataset_id=model.run.version.dataset_id, pk__lt=model.pk
        )
        .select_related("run")
        .order_by("-pk")
        .first()
    )


def _start(suite, user, who: str, **target) -> str:
    existing = EvalRun.objects.filter(suite=suite, status__in=LIVE, **target).first()
    if existing is not None:
        return ALREADY_HAS.format(who=who, run=existing.pk)
    try:
        run = eval_run_start(user=user, suite=suite, **target)
    except (ApplicationError, PermissionDenied) as exc:
        return NOT_STARTED.format(who=who, why=getattr(exc, "message", None) or str(exc))
    return STARTED.format(run=run.pk, who=who)


def parent_suites_inherit(model: ModelArtifact) -> None:
    """A chained run whose launch named no suites: record the parent's suites for it (its
    automatic ones, then those the parent has a finished run on; at most MAX_SUITES)."""
    parent = model.run.parent_model
    if parent is None or AutoEval.objects.filter(training_run_id=model.run_id).exists():
        return
    suite_ids = list(
        AutoEval.objects.filter(training_run_id=parent.run_id).values_list("suite_id", flat=True)
    )
    finished = EvalRun.objects.filter(model=parent, status=EvalRunStatus.SUCCEEDED)
    for suite_id in finished.order_by("suite_id").values_list("suite_id", flat=True).distinct():
        if suite_id not in suite_ids:
            suite_ids.append(suite_id)
    note = INHERITED.format(parent=parent.pk)
    AutoEval.objects.bulk_create(
        [
            AutoEval(training_run_id=model.run_id, suite_id=s, note=note)
            for s in suite_ids[:MAX_SUITES]
        ],
        ignore_conflicts=True,  # a redelivered callback
    )


def auto_evals_start(*, run_id: int, model_id: int) -> None:
    """The after-training callback: start the runs the launch asked for, noting on each
    AutoEval row what was started (or why not — e.g. the team's limit of active eval runs)."""
    model = ModelArtifact.objects.select_related(
        "run__version__dataset", "run__created_by", "run__parent_model"
    ).get(pk=model_id)
    parent_suites_inherit(model)
    autos = list(AutoEval.objects.filter(training_run_id=run_id, started=False))
    if not autos:
        return
    user = model.run.created_by
    previous = previous_model(model)
    parent = model.run.parent_model
    for auto in autos:
        suite = auto.suite
        notes = [auto.note] if auto.note else []
        notes.append(_start(suite, user, "the new model", model=model))
        notes.append(
            _start(suite, user, f"base {model.run.base_model}", base_model=model.run.base_model)
        )
        if parent is not None:
            notes.append(_start(suite, user, f"parent model {parent.pk}", model=parent))
        if previous is not None and previous != parent:
            notes.append(_start(suite, user, f"previous model {previous.pk}", model=previous))
        auto.started, auto.note = True, "; ".join(notes)
        auto.save(update_fields=["started", "note"])
        logger.info(
            "automatic evaluation of model %s on suite %s: %s", model.pk, suite.pk, auto.note
        )


def _latest(suite, **target):
    return (
        EvalRun.objects.filter(suite=suite, status=EvalRunStatus.SUCCEEDED, **target)
        .order_by("-finished_at", "-id")
        .first()
    )


def _metric_rows(suite, new, base, previous) -> list[dict]:
    rows = []
    for spec in suite.evaluators:
        name = spec["params"].get("name") or spec["type"]

        def metric(run, name=name):
            return ((run.metrics or {}).get("evaluators") or {}).get(name) if run else None

        row = {"name": name, "new": metric(new), "base": metric(base), "previous": metric(previous)}
        for other in ("base", "previous"):
            a, b = row["new"], row[other]
            ok = a and b and a.get("mean") is not None and b.get("mean") is not None
            row[f"delta_{other}"] = a["mean"] - b["mean"] if ok else None
        rows.append(row)
    return rows


def model_auto_eval_panel(*, user, model) -> dict:
    """The model page's panel: per suite the model was (or is being) evaluated on, each metric
    for the new model, the base model and the previous model of the dataset, with deltas."""
    suite_ids = set(
        AutoEval.objects.filter(training_run_id=model.run_id).values_list("suite_id", flat=True)
    )
    suite_ids |= set(EvalRun.objects.filter(model=model).values_list("suite_id", flat=True))
    previous = previous_model(model)
    panels = []
    for suite in selectors.suites_for_user(user).filter(pk__in=suite_ids).order_by("name", "id"):
        new = _latest(suite, model=model)
        base = _latest(suite, base_model=model.run.base_model)
        prev = _latest(suite, model=previous) if previous else None
        auto = AutoEval.objects.filter(training_run_id=model.run_id, suite=suite).first()
        panels.append(
            {
                "suite": suite,
                "runs": {"new": new, "base": base, "previous": prev},
                "previous_model": previous,
                "rows": _metric_rows(suite, new, base, prev),
                "note": auto.note if auto else "",
                "pending": auto is not None and not auto.started,
            }
        )
    return {"auto_evals": panels}
