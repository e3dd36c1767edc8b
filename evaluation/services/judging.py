"""An LLM judge on any two succeeded runs of one suite, pairwise: asked for by a user (the API's
``eval-runs/{id}/judge/``, the compare page's "Judge with LLM") or by automatic evaluation for
a model and the model it started from (:mod:`.judged`). Both go through
:func:`judged_comparison_request` and are judged by :func:`judged_comparison_execute`, a leased
job on the training queue's worker (never in the web process).

Per shared item, both answers under the rubric, which one is shown as A drawn from the
comparison's seed (``pairwise_order``, as the human review draws it), the verdict parsed
strictly (``pairwise_parse``; anything else is an error, never a win), added up by
``judged_summary`` (win rate, Wilson interval, ties as half, errors apart, position bias).

A comparison is made once per (run, against, judge, evaluator): asking again returns it (one
that failed is replaced by a new one). The verdicts and the summary are written once, by the
update that finishes the job while this attempt holds its lease (``lease_finish``); progress
(``processed``) is the only thing written before. A worker that dies leaves no verdict: the
lease runs out and recovery judges the pair again from the start.
"""

from __future__ import annotations

import logging
import secrets

from django.db import IntegrityError, transaction

from finetunedb.exceptions import ApplicationError, ConflictError
from finetunedb.leases import lease_claim, lease_finish, lease_kept, lease_renew
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role
from finetunedb.teams.services import team_lock

from ..conf import judge_names
from ..evaluators import evaluators_build
from ..evaluators.judge import (
    NOT_ASKED_FORMAT,
    judged_summary,
    pairwise_order,
    pairwise_parse,
    pairwise_prompt,
    pairwise_reason,
)
from ..judged_models import JUDGED_FINISHED, JudgedComparison, JudgedStatus
from ..models import EvalResult, EvalRun, EvalRunStatus
from .items import suite_items
from .jobs import JUDGED_COMPARISONS
from .judges import PARALLEL_CALLS, is_endpoint

logger = logging.getLogger(__name__)

MAX_SEED = 2**62
MAX_ACTIVE_PER_TEAM = 4
# Judge calls between two progress writes (an endpoint's calls run PARALLEL_CALLS at a time).
CHUNK = 4 * PARALLEL_CALLS
DEFAULT_RUBRIC = (
    "Which answer fulfils the user's request better: correct first, then complete, then clear "
    "and no longer than it needs to be?"
)
SAME_RUN = "judge a run against another run, not against itself"
OTHER_SUITE = "run {other} is on another suite; judging compares two runs of the same suite"
NOT_SUCCEEDED = "run {run} is {status}; judging needs two succeeded runs"
NO_SHARED_ITEMS = "runs {run} and {other} have no suite item both answered"
UNKNOWN_JUDGE = (
    "unknown judge {name!r}: name one of the suite's llm_judge evaluators ({evaluators}) or a "
    "judge the administrator configured ({judges})"
)
NO_JUDGE = (
    "the suite has no llm_judge evaluator; name a judge the administrator configured ({judges})"
)
TOO_MANY_ACTIVE = (
    "this team has {count} judgings queued or running (at most {limit}); wait for one to finish"
)
JUDGE_FAILED = "the judge failed ({kind})"
JUDGING_FAILED = "{kind}: {detail}"


class _LeaseLost(Exception):
    pass


def _field_error(path: str, message: str, cls=ApplicationError) -> ApplicationError:
    return cls(message, errors=[{"path": path, "message": message}])


def judge_options(suite) -> list[dict]:
    """What may judge two runs of ``suite``: its llm_judge evaluators (their judge and rubric)
    first, then each judge the administrator configured (with :data:`DEFAULT_RUBRIC`)."""
    evaluators = [e for e in evaluators_build(suite.evaluators) if e.type == "llm_judge"]
    options = [
        {"name": e.name, "judge": e.p["judge"], "evaluator": e.name, "rubric": e.p["rubric"]}
        for e in evaluators
    ]
    taken = {o["name"] for o in options}
    options += [
        {"name": n, "judge": n, "evaluator": "", "rubric": DEFAULT_RUBRIC}
        for n in judge_names()
        if n not in taken
    ]
    return options


def judge_resolve(suite, name: str | None) -> dict:
    """The option ``name`` picks (None: the suite's first llm_judge evaluator), or a 400 on
    ``judge`` listing what may be named."""
    options = judge_options(suite)
    evaluators = [o["name"] for o in options if o["evaluator"]]
    judges = ", ".join(o["name"] for o in options if not o["evaluator"]) or "none"
    if name is None:
        if not evaluators:
            raise _field_error("judge", NO_JUDGE.format(judges=judges))
        return options[0]
    chosen = next((o for o in options if o["name"] == name), None)
    if chosen is None:
        known = ", ".join(evaluators) or "none"
        raise _field_error(
            "judge", UNKNOWN_JUDGE.format(name=name, evaluators=known, judges=judges)
        )
    return chosen


def _check_runs(run: EvalRun, against: EvalRun) -> None:
    if run.pk == against.pk:
        raise _field_error("against", SAME_RUN)
    if run.suite_id != against.suite_id:
        raise _field_error("against", OTHER_SUITE.format(other=against.pk))
    for field, each in (("run", run), ("against", against)):
        if each.status != EvalRunStatus.SUCCEEDED:
            raise _field_error(
                field, NOT_SUCCEEDED.format(run=each.pk, status=each.status), ConflictError
            )


def _shared_count(run: EvalRun, against: EvalRun) -> int:
    theirs = EvalResult.objects.filter(run=against).values("entry_id")
    return EvalResult.objects.filter(run=run, entry_id__in=theirs).count()


def judged_comparison_request(
    *, user, run: EvalRun, against: EvalRun, judge: str | None = None
) -> tuple[JudgedComparison, bool]:
    """Queue the judging of ``run`` against ``against`` (two succeeded runs of one suite,
    reached through the scoped selector) by ``judge`` (:func:`judge_resolve`), or return the
    comparison that exists: ``(comparison, created)``. ``user`` None: automatic evaluation
    asks (no role, no per-team limit)."""
    if user is not None:
        require_role(user, run.suite.team_id, Action.TRAIN)
    _check_runs(run, against)
    chosen = judge_resolve(run.suite, judge)
    key = {"run": run, "against": against, "judge": chosen["judge"]}
    key["evaluator"] = chosen["evaluator"]
    existing = JudgedComparison.objects.filter(**key).first()
    if existing is not None and existing.status != JudgedStatus.FAILED:
        return existing, False
    total = _shared_count(run, against)
    if not total:
        raise _field_error(
            "against", NO_SHARED_ITEMS.format(run=run.pk, other=against.pk), ConflictError
        )
    try:
        with transaction.atomic():
            if user is not None:
                team_lock(run.suite.team_id)  # two POSTs at once are counted one after the other
                active = (
                    JudgedComparison.objects.filter(run__suite__team_id=run.suite.team_id)
                    .exclude(status__in=JUDGED_FINISHED)
                    .count()
                )
                if active >= MAX_ACTIVE_PER_TEAM:
                    raise ConflictError(
                        TOO_MANY_ACTIVE.format(count=active, limit=MAX_ACTIVE_PER_TEAM)
                    )
            if existing is not None:  # it failed: judged again, as a new comparison
                JudgedComparison.objects.filter(pk=existing.pk, status=existing.status).delete()
            comparison = JudgedComparison.objects.create(
                **key,
                rubric=chosen["rubric"],
                seed=secrets.randbelow(MAX_SEED),
                total=total,
                created_by=user,
            )
            transaction.on_commit(lambda: judged_comparison_enqueue(comparison.pk))
    except IntegrityError:  # asked for by someone else meanwhile: theirs stands
        return JudgedComparison.objects.get(**key), False
    return comparison, True


def judged_comparison_enqueue(comparison_id: int) -> None:
    from ..tasks import judged_comparison_execute as task

    task.delay(comparison_id)


def judged_comparison_execute(*, comparison_id: int) -> None:
    """The job: claim the comparison, judge every shared item, write the verdicts once."""
    attempt = lease_claim(JUDGED_COMPARISONS, pk=comparison_id)
    if attempt is None:
        return
    comparison = JudgedComparison.objects.select_related("run__suite", "against").get(
        pk=comparison_id
    )
    try:
        fields = _judge(comparison, attempt)
    except _LeaseLost:
        logger.warning(
            "judged comparison %s lost its lease; another attempt owns it", comparison_id
        )
        return
    except Exception as exc:
        logger.exception("judged comparison %s failed", comparison_id)
        detail = (str(exc).splitlines() or [""])[0][:300]
        kind = type(exc).__name__
        fields = {
            "status": JudgedStatus.FAILED,
            "failure_reason": JUDGING_FAILED.format(kind=kind, detail=detail),
        }
    status = fields.pop("status")
    lease_finish(JUDGED_COMPARISONS, pk=comparison_id, attempt=attempt, status=status, **fields)


def _renew(comparison: JudgedComparison, attempt: int, **fields) -> None:
    if not lease_renew(JUDGED_COMPARISONS, pk=comparison.pk, attempt=attempt, **fields):
        raise _LeaseLost


def _answers(comparison: JudgedComparison, attempt: int, prompts: list) -> list:
    """Each prompt's ``(answer, why-not)``, a chunk at a time with the progress written after
    each; a served judge answers them all in one call (it loads a model)."""
    # The eval worker's judge call: an administrator's endpoint or a model loaded here.
    from .execute import _judge_answers

    chunk = CHUNK if is_endpoint(comparison.judge) else max(len(prompts), 1)
    answers: list = []
    for start in range(0, len(prompts), chunk):
        part = prompts[start : start + chunk]
        with lease_kept(JUDGED_COMPARISONS, pk=comparison.pk, attempt=attempt) as lost:
            try:
                got = _judge_answers(comparison.judge, part)
            except Exception as exc:
                logger.exception(
                    "judge %s of comparison %s failed", comparison.judge, comparison.pk
                )
                got = [(None, JUDGE_FAILED.format(kind=type(exc).__name__))] * len(part)
        if lost.is_set():
            raise _LeaseLost
        answers += got
        _renew(comparison, attempt, processed=len(answers))
    return answers


def _judge(comparison: JudgedComparison, attempt: int) -> dict:
    run, against, seed = comparison.run, comparison.against, comparison.seed
    prompts_by_entry = {item.entry_id: item for item in suite_items(run.suite)}
    theirs = {r.entry_id: r.output for r in EvalResult.objects.filter(run=against)}
    shared = [
        r
        for r in EvalResult.objects.filter(run=run).order_by("position")
        if r.entry_id in theirs and r.entry_id in prompts_by_entry
    ]
    _renew(comparison, attempt, processed=0, total=len(shared))
    if not shared:
        message = NO_SHARED_ITEMS.format(run=run.pk, other=against.pk)
        return {"status": JudgedStatus.FAILED, "failure_reason": message}
    swaps, prompts = [], []
    for result in shared:
        swapped = pairwise_order(seed, str(result.position))
        ours, other = result.output, theirs[result.entry_id]
        first, second = (other, ours) if swapped else (ours, other)
        prompt = prompts_by_entry[result.entry_id].evaluator_item(ours).prompt
        swaps.append(swapped)
        prompts.append(pairwise_prompt(prompt, first, second, rubric=comparison.rubric))
    answers = _answers(comparison, attempt, prompts)
    verdicts, judgments = [], []
    for result, swapped, (answer, why) in zip(shared, swaps, answers, strict=True):
        verdict = pairwise_parse(answer, swapped=swapped)
        judgments.append((verdict, swapped))
        winner = {"a": "run", "b": "against", "tie": "tie"}.get(verdict)
        if verdict is None and not why:
            why = NOT_ASKED_FORMAT
        verdicts.append(
            {
                "position": result.position,
                "swapped": swapped,
                "winner": winner,
                "reason": pairwise_reason(answer)[:500],
                "why": why,
            }
        )
    return {
        "status": JudgedStatus.SUCCEEDED,
        "verdicts": verdicts,
        "summary": judged_summary(judgments),
    }
