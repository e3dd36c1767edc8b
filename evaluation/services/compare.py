"""Two eval runs of one suite compared item by item (wins, losses, ties, regressions)."""

from __future__ import annotations

from finetunedb.exceptions import ApplicationError

from ..comparison import runs_compare
from ..evaluators import evaluators_build
from ..models import EvalResult, EvalRun

OTHER_SUITE = "run {other} is on another suite; compare runs of the same suite"
SAME_RUN = "compare a run with another run, not with itself"


def _field_error(path: str, message: str) -> ApplicationError:
    return ApplicationError(message, errors=[{"path": path, "message": message}])


def _scores(run: EvalRun) -> dict:
    return dict(EvalResult.objects.filter(run=run).values_list("entry_id", "scores"))


def eval_run_compare(*, run: EvalRun, against: EvalRun) -> dict:
    """``run`` (the new one) against ``against`` (the baseline); both reached through the
    scoped selector. Regressions carry both outputs side by side."""
    if run.pk == against.pk:
        raise _field_error("against", SAME_RUN)
    if run.suite_id != against.suite_id:
        raise _field_error("against", OTHER_SUITE.format(other=against.pk))
    names = [e.name for e in evaluators_build(run.suite.evaluators)]
    report = runs_compare(names, _scores(run), _scores(against), seed=run.seed)
    keys = [r["item"] for r in report["regressions"]]
    new = {
        r.entry_id: r
        for r in EvalResult.objects.filter(run=run, entry_id__in=keys).select_related("entry")
    }
    old = {r.entry_id: r for r in EvalResult.objects.filter(run=against, entry_id__in=keys)}
    report["regressions"] = [
        {
            "entry": key,
            "example": new[key].entry.example_id,
            "position": new[key].position,
            "evaluators": item["evaluators"],
            "reference": new[key].reference,
            "output": new[key].output,
            "against_output": old[key].output,
            "result": new[key].pk,
            "against_result": old[key].pk,
        }
        for item in report["regressions"]
        for key in [item["item"]]
    ]
    report.update(run=run.pk, against=against.pk)
    return report
