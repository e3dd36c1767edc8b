"""The LLM judge between a model and the model it started from (SFT → DPO), after automatic
evaluation ran both on a suite.

When an eval run succeeds (:func:`judged_comparisons_after_run`, called by the eval worker), and
it is the run of a chained model — or of a model another was chained on — on a suite that
model's launch named (``AutoEval``), and both the child's and the parent's runs on that suite
have succeeded, the suite's first ``llm_judge`` evaluator judges them pairwise: per shared
item, both answers under the evaluator's rubric, which one is shown as A drawn from the
comparison's seed (``pairwise_order``, as the human review draws it), the verdict parsed
strictly (``pairwise_parse``; anything else is an error, never a win), added up by
``judged_summary`` (win rate, Wilson interval, ties as half, position bias).

A comparison is made once per pair of runs: the row is written when the judging is done, unique
on the two runs. There is no claim (claims belong to ``finetunedb.leases``): two workers that
finish the child's and the parent's runs at the same moment may both judge, and the first row
written stands; a worker that dies while judging leaves nothing, and the next eval run of either
model judges again.
"""

from __future__ import annotations

import logging
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from training.models import ModelArtifact

from ..auto_models import AutoEval
from ..evaluators import evaluators_build
from ..evaluators.judge import (
    NOT_ASKED_FORMAT,
    judged_summary,
    pairwise_order,
    pairwise_parse,
    pairwise_prompt,
)
from ..judged_models import JudgedComparison, JudgedStatus
from ..models import EvalResult, EvalRun, EvalRunStatus
from .items import suite_items

logger = logging.getLogger(__name__)

MAX_SEED = 2**62
JUDGE_FAILED = "the judge failed ({kind})"
NO_SHARED_ITEMS = "the two runs have no suite item both answered"


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
    """After eval run ``run_id`` succeeded: judge each child/parent pair it completes."""
    run = EvalRun.objects.select_related("suite", "model__run__parent_model").get(pk=run_id)
    if run.status != EvalRunStatus.SUCCEEDED or run.model_id is None:
        return
    evaluator = suite_judge(run.suite)
    if evaluator is None:
        return
    for child, parent in _chained_pairs(run):
        new, old = latest_succeeded(run.suite, child), latest_succeeded(run.suite, parent)
        if new is not None and old is not None:
            judged_comparison_run(run=new, against=old, evaluator=evaluator)


def judged_comparison_run(*, run: EvalRun, against: EvalRun, evaluator) -> JudgedComparison:
    """Judge ``run`` against ``against`` (two finished runs of one suite) with ``evaluator``'s
    judge and rubric, once: an existing comparison is returned as it is."""
    existing = JudgedComparison.objects.filter(run=run, against=against).first()
    if existing is not None:
        return existing
    fields = {
        "judge": evaluator.p["judge"],
        "rubric": evaluator.p["rubric"],
        "seed": secrets.randbelow(MAX_SEED),
    }
    try:
        fields |= _judge(run, against, **fields)
    except Exception as exc:
        logger.exception("judging eval run %s against %s failed", run.pk, against.pk)
        detail = (str(exc).splitlines() or [""])[0][:300]
        fields |= {
            "status": JudgedStatus.FAILED,
            "failure_reason": f"{type(exc).__name__}: {detail}",
        }
    try:
        with transaction.atomic():
            return JudgedComparison.objects.create(
                run=run, against=against, finished_at=timezone.now(), **fields
            )
    except IntegrityError:  # another worker judged the same two runs meanwhile: its row stands
        return JudgedComparison.objects.get(run=run, against=against)


def _judge(run: EvalRun, against: EvalRun, *, judge: str, rubric: str, seed: int) -> dict:
    # The eval worker's judge call: an administrator's endpoint or a model loaded here.
    from .execute import _judge_answers

    prompts_by_entry = {item.entry_id: item for item in suite_items(run.suite)}
    theirs = {r.entry_id: r.output for r in EvalResult.objects.filter(run=against)}
    shared = [
        r
        for r in EvalResult.objects.filter(run=run).order_by("position")
        if r.entry_id in theirs and r.entry_id in prompts_by_entry
    ]
    if not shared:
        return {"status": JudgedStatus.FAILED, "failure_reason": NO_SHARED_ITEMS}
    swaps, prompts = [], []
    for result in shared:
        swapped = pairwise_order(seed, str(result.position))
        ours, other = result.output, theirs[result.entry_id]
        first, second = (other, ours) if swapped else (ours, other)
        prompt = prompts_by_entry[result.entry_id].evaluator_item(ours).prompt
        swaps.append(swapped)
        prompts.append(pairwise_prompt(prompt, first, second, rubric=rubric))
    try:
        answers = _judge_answers(judge, prompts)
    except Exception as exc:
        logger.exception("judge %s of eval run %s failed", judge, run.pk)
        answers = [(None, JUDGE_FAILED.format(kind=type(exc).__name__))] * len(prompts)
    verdicts, judgments = [], []
    for result, swapped, (answer, why) in zip(shared, swaps, answers, strict=True):
        verdict = pairwise_parse(answer, swapped=swapped)
        judgments.append((verdict, swapped))
        winner = {"a": "run", "b": "against", "tie": "tie"}.get(verdict)
        if verdict is None and not why:
            why = NOT_ASKED_FORMAT
        verdicts.append(
            {"position": result.position, "swapped": swapped, "winner": winner, "why": why}
        )
    return {
        "status": JudgedStatus.SUCCEEDED,
        "verdicts": verdicts,
        "summary": judged_summary(judgments),
    }


def _rate(summary: dict | None) -> dict | None:
    """A win-rate summary in the shape the ``interval`` filter reads."""
    if not summary:
        return None
    keys = ("ci_low", "ci_high", "n")
    return {"mean": summary.get("win_rate"), **{k: summary.get(k) for k in keys}}


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
        if new is not None and old is not None:
            judged = JudgedComparison.objects.filter(run=new, against=old).first()
            review = PairwiseReview.objects.filter(run=new, against=old).first()
            human = pairwise_results(review=review) if review else None
        suites.append(
            {
                "suite": suite,
                "new": new,
                "parent": old,
                "judge": suite_judge(suite),
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
