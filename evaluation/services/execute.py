"""An eval run on the worker: generate in batches, store and score each output, judge, aggregate.

The run is a leased job (:data:`.jobs.EVAL_RUNS`): claimed once; every batch's results are
written only while this attempt still holds the lease, and renew it; a worker killed mid-run
leaves a lease that runs out, recovery re-enqueues the run, and the next attempt generates only
the items that have no result yet (results are unique per run and item). Cancellation is read
between batches; what was generated before it is kept.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import IntegrityError, transaction

from finetunedb.events import event_emit
from finetunedb.leases import lease_claim, lease_finish, lease_held, lease_kept, lease_renew
from training.services.base_models import base_cache_dir
from training.services.model_store import model_folder

from ..comparison import metrics_aggregate
from ..conf import eval_judges, eval_setting
from ..evaluators import evaluators_build
from ..models import EvalResult, EvalRun, EvalRunStatus
from .items import suite_items
from .jobs import EVAL_RUNS
from .judges import is_endpoint, judge_endpoint_answers

logger = logging.getLogger(__name__)

RUN_FAILED = "The eval run failed ({kind}: {detail})."
JUDGE_FAILED = "the judge failed ({kind})"
LEASE_LOST = "lease lost"
HASH_CHANGED = "the suite's version no longer has the hash it was created with"


def _device() -> str:
    import torch

    return settings.FINETUNEDB_TRAINING_DEVICE or ("cuda" if torch.cuda.is_available() else "cpu")


class _LeaseLost(Exception):
    pass


def eval_run_execute(*, run_id: int) -> None:
    attempt = lease_claim(EVAL_RUNS, pk=run_id)
    if attempt is None:
        return
    run = EvalRun.objects.select_related("suite", "suite__version", "model").get(pk=run_id)

    def finish(status, **fields) -> None:
        if lease_finish(EVAL_RUNS, pk=run_id, attempt=attempt, status=status, **fields):
            eval_run_announce(run_id=run_id)

    if run.cancel_requested:
        finish(EvalRunStatus.CANCELLED)
        return
    if run.suite.version.content_hash != run.suite.version_hash:
        finish(
            EvalRunStatus.FAILED,
            failure_reason=RUN_FAILED.format(kind="Suite", detail=HASH_CHANGED),
        )
        return
    try:
        cancelled = _generate_and_score(run, attempt)
        if not cancelled:
            _judge(run, attempt)
        metrics = _metrics(run)
    except _LeaseLost:
        logger.warning("eval run %s lost its lease; another attempt owns it", run_id)
        return
    except Exception as exc:
        logger.exception("eval run %s failed", run_id)
        detail = (str(exc).splitlines() or [""])[0][:300]
        finish(
            EvalRunStatus.FAILED,
            failure_reason=RUN_FAILED.format(kind=type(exc).__name__, detail=detail),
        )
        return
    status = EvalRunStatus.CANCELLED if cancelled else EvalRunStatus.SUCCEEDED
    finish(status, metrics=metrics)
    if status == EvalRunStatus.SUCCEEDED:
        _judge_against_parent(run_id)


def _judge_against_parent(run_id: int) -> None:
    """A chained model's run (or its parent's) finished: judge the two pairwise (.judged). Its
    failure is logged; the eval run stays succeeded."""
    from .judged import judged_comparisons_after_run

    try:
        judged_comparisons_after_run(run_id=run_id)
    except Exception:
        logger.exception("judging eval run %s against its parent model's failed", run_id)


def eval_run_announce(*, run_id: int) -> None:
    """``eval_run.finished`` (succeeded, failed or cancelled) for the suite's team, sent once
    the caller's transaction commits (finetunedb/events.py; docs/webhooks.md)."""
    run = EvalRun.objects.select_related("suite").get(pk=run_id)
    event_emit(
        team_id=run.suite.team_id,
        type="eval_run.finished",
        data={
            "eval_run": {
                "id": run.pk,
                "status": run.status,
                "metrics": run.metrics,
                "failure_reason": run.failure_reason,
                "url": f"/api/v1/eval-runs/{run.pk}/",
            },
            "suite": {"id": run.suite_id, "name": run.suite.name},
            "model": {"id": run.model_id, "base_model": run.base_model},
        },
    )


def _load(run: EvalRun):
    from training.recipe.evaluate import load_for_generation

    if run.model_id:
        return load_for_generation(
            model_folder(run.model), models_dir=base_cache_dir(), device=_device()
        )
    return load_for_generation(
        base_model=run.base_model, models_dir=base_cache_dir(), device=_device()
    )


def _generator(run: EvalRun, attempt: int):
    """``generate(conversations, **options)`` with :func:`generate_batch`'s contract: through
    the serving engine when it is running (its batching, the base loaded once), else with the
    model loaded here for this run (tests, a worker without an engine)."""
    from functools import partial

    from serving.generation import engine_generate_batch, engine_ready

    # The engine cannot apply repetition options (refused when the run was created): a run that
    # has them generates in process even if an engine started since.
    repetition = run.repetition_penalty != 1.0 or run.no_repeat_ngram_size
    if not repetition and engine_ready():
        if run.model_id:
            from serving.selectors import served_model_for_artifact

            served = served_model_for_artifact(run.model)
            base, adapter, store = served.base, served.adapter, served.store
        else:
            base, adapter, store = run.base_model, None, None
        return partial(
            engine_generate_batch,
            base=base,
            adapter=adapter,
            store=store,
            team=f"team-{run.suite.team_id}",
        )
    from training.recipe.evaluate import generate_batch

    with lease_kept(EVAL_RUNS, pk=run.pk, attempt=attempt) as lost:
        model, tokenizer = _load(run)
    if lost.is_set():
        raise _LeaseLost
    if repetition:
        return partial(
            generate_batch,
            model,
            tokenizer,
            repetition_penalty=run.repetition_penalty,
            no_repeat_ngram_size=run.no_repeat_ngram_size,
        )
    return partial(generate_batch, model, tokenizer)


def _generate_and_score(run: EvalRun, attempt: int) -> bool:
    """Generate every item without a result; True when cancelled part way."""
    evaluators = [e for e in evaluators_build(run.suite.evaluators) if not e.needs_judge]
    items = suite_items(run.suite)
    done = set(EvalResult.objects.filter(run=run).values_list("entry_id", flat=True))
    todo = [(position, item) for position, item in enumerate(items) if item.entry_id not in done]
    lease_renew(EVAL_RUNS, pk=run.pk, attempt=attempt, total=len(items), processed=len(done))
    if not todo:
        return False
    generate = _generator(run, attempt)
    state = {"processed": len(done), "cancelled": False}

    def store(indices: list[int], answers: list[str]) -> bool:
        rows = []
        for i, output in zip(indices, answers, strict=True):
            position, item = todo[i]
            scored = item.evaluator_item(output)
            scores = {e.name: e.score(scored).as_dict() for e in evaluators}
            rows.append(
                EvalResult(
                    run_id=run.pk,
                    entry_id=item.entry_id,
                    position=position,
                    reference=item.reference,
                    output=output,
                    scores=scores,
                )
            )
        state["processed"] += len(rows)
        with transaction.atomic():
            if not lease_held(EVAL_RUNS, pk=run.pk, attempt=attempt).exists():
                raise _LeaseLost
            try:
                EvalResult.objects.bulk_create(rows)
            except IntegrityError:  # another attempt stored them: it owns the run now
                raise _LeaseLost from None
            if not lease_renew(EVAL_RUNS, pk=run.pk, attempt=attempt, processed=state["processed"]):
                raise _LeaseLost
        cancel = EvalRun.objects.filter(pk=run.pk).values_list("cancel_requested", flat=True)
        state["cancelled"] = bool(cancel.first())
        return state["cancelled"]

    generate(
        [item.messages for _, item in todo],
        max_new_tokens=run.max_new_tokens,
        temperature=run.temperature,
        seed=run.seed,
        batch_size=eval_setting("FINETUNEDB_EVAL_BATCH_SIZE"),
        on_batch=store,
    )
    del generate  # the in-process model, when there is one
    return state["cancelled"]


def _judge(run: EvalRun, attempt: int) -> None:
    """Score the llm_judge evaluators: every result's judge prompt, answered in batches by the
    judge the administrator configured (a served model or an endpoint); an answer the strict
    parser refuses, or a judge that fails or times out, is ``judge_error`` on those items,
    never a 0."""
    judged = [e for e in evaluators_build(run.suite.evaluators) if e.needs_judge]
    if not judged:
        return
    results = list(EvalResult.objects.filter(run=run).select_related("entry__revision"))
    items = {item.entry_id: item for item in suite_items(run.suite)}
    for evaluator in judged:
        pending = [r for r in results if evaluator.name not in r.scores]
        if not pending:
            continue
        prompts = [evaluator.prompt(items[r.entry_id].evaluator_item(r.output)) for r in pending]
        try:
            with lease_kept(EVAL_RUNS, pk=run.pk, attempt=attempt):
                answers = _judge_answers(evaluator.p["judge"], prompts)
        except Exception as exc:
            logger.exception("judge %s of eval run %s failed", evaluator.p["judge"], run.pk)
            answers = [(None, JUDGE_FAILED.format(kind=type(exc).__name__))] * len(pending)
        for result, (answer, failure) in zip(pending, answers, strict=True):
            score = evaluator.parse(answer).as_dict()
            if failure:
                score["detail"]["why"] = failure
            result.scores = {**result.scores, evaluator.name: score}
        with transaction.atomic():
            if not lease_held(EVAL_RUNS, pk=run.pk, attempt=attempt).exists():
                raise _LeaseLost
            EvalResult.objects.bulk_update(pending, ["scores"])


def _judge_answers(judge: str, prompts: list[list[dict]]) -> list[tuple[str | None, str]]:
    """Each prompt's ``(answer, why-not)`` from the named judge: an administrator's endpoint
    (:mod:`.judges`), or a model loaded here on the worker."""
    max_tokens = eval_setting("FINETUNEDB_EVAL_JUDGE_MAX_NEW_TOKENS")
    if is_endpoint(judge):
        return judge_endpoint_answers(judge, prompts, max_tokens=max_tokens)
    from training.recipe.evaluate import generate_batch, load_for_generation
    from training.services.base_models import base_model_check

    model, tokenizer = load_for_generation(
        base_model=base_model_check(eval_judges()[judge].get("base_model")),
        models_dir=base_cache_dir(),
        device=_device(),
    )
    answers = generate_batch(
        model,
        tokenizer,
        prompts,
        max_new_tokens=max_tokens,
        batch_size=eval_setting("FINETUNEDB_EVAL_BATCH_SIZE"),
    )
    return [(answer, "") for answer in answers]


def _metrics(run: EvalRun) -> dict:
    names = [e.name for e in evaluators_build(run.suite.evaluators)]
    scores = list(EvalResult.objects.filter(run=run).values_list("scores", flat=True))
    started = run.started_at
    elapsed = time.time() - started.timestamp() if started else None
    return {
        "evaluators": metrics_aggregate(names, scores),
        "items": len(scores),
        "seconds": round(elapsed, 1) if elapsed is not None else None,
    }
