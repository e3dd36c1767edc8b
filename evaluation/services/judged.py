"""The LLM judge between a model and the model it started from (SFT → DPO), after automatic
evaluation ran both on a suite: one caller of the general judging (:mod:`.judging`).

When an eval run succeeds (:func:`judged_comparisons_after_run`, called by the eval worker), and
it is the run of a chained model — or of a model another was chained on — on a suite that
model's launch named (``AutoEval``), and both the child's and the parent's runs on that suite
have succeeded, the suite's first ``llm_judge`` evaluator's judging of the two is asked for
(``judged_comparison_request``): a job on the training queue, made once per pair of runs and
judge, whose verdicts are written once when the judging is done (a worker that dies leaves
none, and recovery judges again). The model page's panel shows it.
"""

from __future__ import annotations

import logging

from training.models import ModelArtifact

from ..auto_models import AutoEval
from ..evaluators import evaluators_build
from ..judged_models import JudgedComparison
from ..models import EvalRun, EvalRunStatus
from .judging import judged_comparison_request

logger = logging.getLogger(__name__)


def suite_judge(suite):
    """The suite's first ``llm_judge`` evaluator (its judge and rubric judge pairwise), or None."""
    return next((e for e in evaluators_build(suite.evaluators) if e.type == "llm_judge"), None)


def latest_succeeded(suite, model) -> EvalRun | None:
    """The newest succeeded run of ``model`` on ``suite``."""
    return (
        EvalRun.objects.filter(suite=suite, model=model, status=EvalRunStatus.SUCCEEDED)
        .order_by("-finished_at", "-id")
        .first()
    )


def _chained_pairs(run: EvalRun) -> list[tuple[ModelArtifact, ModelArtifact]]:
    """(child, parent) pairs ``run`` belongs to on its suite: its model's own parent, and every
    model chained on its model; only where the child's launch named this suite."""
    model = run.model
    pairs = []
    if model.run.parent_model_id:
        pairs.append((model, model.run.parent_model))
    children = ModelArtifact.objects.filter(run__parent_model=model).select_related("run")
    pairs += [(child, model) for child in children]
    return [
        (child, parent)
        for child, parent in pairs
        if AutoEval.objects.filter(training_run_id=child.run_id, suite_id=run.suite_id).exists()
    ]


def judged_comparisons_after_run(*, run_id: int) -> None:
    """After eval run ``run_id`` succeeded: ask for the judging of each child/parent pair it
    completes (one that exists is left as it is)."""
    run = EvalRun.objects.select_related("suite", "model__run__parent_model").get(pk=run_id)
    if run.status != EvalRunStatus.SUCCEEDED or run.model_id is None:
        return
    evaluator = suite_judge(run.suite)
    if evaluator is None:
        return
    for child, parent in _chained_pairs(run):
        new, old = latest_succeeded(run.suite, child), latest_succeeded(run.suite, parent)
        if new is not None and old is not None:
            judged_comparison_request(user=None, run=new, against=old, judge=evaluator.name)


def parent_comparison(new: EvalRun, old: EvalRun, evaluator) -> JudgedComparison | None:
    """The judging of ``new`` against ``old`` by the suite's first llm_judge, if asked for."""
    return JudgedComparison.objects.filter(
        run=new, against=old, judge=evaluator.p["judge"], evaluator=evaluator.name
    ).first()


def _rate(summary: dict | None) -> dict | None:
    """A win-rate summary in the shape the ``interval`` filter reads."""
    if not summary:
        return None
    keys = ("ci_low", "ci_high", "n")
    return {"mean": summary.get("win_rate"), **{k: summary.get(k) for k in keys}}


def judged_panel(comparison: JudgedComparison) -> dict:
    """What the compare page shows of one judged comparison: its win rate in the ``interval``
    filter's shape, and each verdict with the run it picked and the run shown as A."""
    names = {"run": comparison.run_id, "against": comparison.against_id}
    verdicts = [
        {
            **v,
            "winner_run": names.get(v.get("winner")),
            "shown_first": comparison.against_id if v.get("swapped") else comparison.run_id,
        }
        for v in comparison.verdicts
    ]
    return {"comparison": comparison, "rate": _rate(comparison.summary), "verdicts": verdicts}


def _metric_pairs(suite, new, old) -> list[dict]:
    def metric(run, name):
        return ((run.metrics or {}).get("evaluators") or {}).get(name) if run else None

    rows = []
    for evaluator in evaluators_build(suite.evaluators):
        a, b = metric(new, evaluator.name), metric(old, evaluator.name)
        ok = a and b and a.get("mean") is not None and b.get("mean") is not None
        delta = a["mean"] - b["mean"] if ok else None
        rows.append({"name": evaluator.name, "new": a, "parent": b, "delta": delta})
    return rows


def model_parent_panel(*, user, model) -> dict:
    """The model page's panel for a model trained from another: its held-out pair figures, and
    per suite it was automatically evaluated on, the LLM judge's and the human reviewers' win
    rate against the parent (Wilson intervals) and each metric of both."""
    if not model.run.parent_model_id:
        return {}
    from .. import selectors
    from ..pairwise_models import PairwiseReview
    from .pairwise import pairwise_results

    parent = model.run.parent_model
    suite_ids = AutoEval.objects.filter(training_run_id=model.run_id).values_list(
        "suite_id", flat=True
    )
    suites = []
    for suite in selectors.suites_for_user(user).filter(pk__in=suite_ids).order_by("name", "id"):
        new, old = latest_succeeded(suite, model), latest_succeeded(suite, parent)
        judged = review = human = None
        judge = suite_judge(suite)
        if new is not None and old is not None:
            judged = parent_comparison(new, old, judge) if judge else None
            review = PairwiseReview.objects.filter(run=new, against=old).first()
            human = pairwise_results(review=review) if review else None
        suites.append(
            {
                "suite": suite,
                "new": new,
                "parent": old,
                "judge": judge,
                "judged": judged,
                "judged_rate": _rate(judged.summary if judged else None),
                "review": review,
                "human": human,
                "human_rate": _rate(human),
                "rows": _metric_pairs(suite, new, old),
            }
        )
    pairs = (model.eval_results or {}).get("preference") or None
    return {"parent_comparison": {"parent": parent, "pairs": pairs, "suites": suites}}
