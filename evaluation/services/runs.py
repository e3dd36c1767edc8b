"""Starting and cancelling eval runs. The work itself is :mod:`.execute`, on the training
queue's worker, never in the web process (loading a model takes seconds, generating minutes)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from finetunedb.exceptions import ApplicationError, ConflictError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role
from finetunedb.teams.services import team_lock
from training.models import ModelArtifact
from training.services.base_models import base_model_check

from ..conf import eval_setting
from ..models import EVAL_FINISHED, EvalRun, EvalRunStatus, EvalSuite

MAX_ACTIVE_PER_TEAM = 4
BOTH_MODELS = "give either model or base_model, not both"
OTHER_TEAM_MODEL = "the model belongs to another team; a suite runs its own team's models"
MODEL_NOT_READY = "model {id} has no saved weights yet"
BAD_TOKENS = "max_new_tokens must be an integer from 1 to {limit}"
BAD_TEMPERATURE = "temperature must be a number from 0 to 2"
BAD_SEED = "seed must be an integer from 0 to 2147483647"
BAD_REPETITION_PENALTY = "repetition_penalty must be a number from 1.0 (off) to 2.0"
BAD_NO_REPEAT = "no_repeat_ngram_size must be an integer from 0 (off) to 20"
ENGINE_NO_REPETITION = (
    "repetition_penalty and no_repeat_ngram_size are applied by in-process generation only; "
    "this server's eval runs generate through the serving engine, which does not support "
    "them: leave them at 1.0 and 0"
)
TOO_MANY_ACTIVE = (
    "this team has {count} eval runs queued or running (at most {limit}); wait for one to "
    "finish or cancel one"
)
ALREADY_FINISHED = "the eval run has already finished ({status})"
CANCELLED_BEFORE_START = "Cancelled before it started."


def _field_error(path: str, message: str) -> ApplicationError:
    return ApplicationError(message, errors=[{"path": path, "message": message}])


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def eval_run_settings_check(*, max_new_tokens, temperature, seed) -> tuple[int, float, int]:
    limit = eval_setting("FINETUNEDB_EVAL_RUN_MAX_NEW_TOKENS")
    if not _is_int(max_new_tokens) or not 1 <= max_new_tokens <= limit:
        raise _field_error("max_new_tokens", BAD_TOKENS.format(limit=limit))
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not 0 <= temperature <= 2
    ):
        raise _field_error("temperature", BAD_TEMPERATURE)
    if not _is_int(seed) or not 0 <= seed <= 2**31 - 1:
        raise _field_error("seed", BAD_SEED)
    return max_new_tokens, float(temperature), seed


def eval_run_repetition_check(*, repetition_penalty, no_repeat_ngram_size) -> tuple[float, int]:
    """The repetition-aware decoding options, or a 400 naming the field; refused (400) when
    this server's runs generate through the engine, which cannot apply them."""
    if (
        isinstance(repetition_penalty, bool)
        or not isinstance(repetition_penalty, int | float)
        or not 1.0 <= repetition_penalty <= 2.0
    ):
        raise _field_error("repetition_penalty", BAD_REPETITION_PENALTY)
    if not _is_int(no_repeat_ngram_size) or not 0 <= no_repeat_ngram_size <= 20:
        raise _field_error("no_repeat_ngram_size", BAD_NO_REPEAT)
    if repetition_penalty != 1.0 or no_repeat_ngram_size:
        from serving.generation import engine_ready

        if engine_ready():
            path = "repetition_penalty" if repetition_penalty != 1.0 else "no_repeat_ngram_size"
            raise _field_error(path, ENGINE_NO_REPETITION)
    return float(repetition_penalty), no_repeat_ngram_size


def eval_run_start(
    *,
    user,
    suite: EvalSuite,
    model: ModelArtifact | None = None,
    base_model: str | None = None,
    max_new_tokens=128,
    temperature=0.0,
    seed=0,
    repetition_penalty=1.0,
    no_repeat_ngram_size=0,
) -> EvalRun:
    """Queue a run of ``suite`` with a fine-tuned ``model`` (reached through the scoped
    selector) or an allowed ``base_model`` (the bundled default when neither is given)."""
    require_role(user, suite.team_id, Action.TRAIN)
    if model is not None and base_model:
        raise _field_error("model", BOTH_MODELS)
    if model is not None:
        if model.run.version.dataset.team_id != suite.team_id:
            raise _field_error("model", OTHER_TEAM_MODEL)
        if not model.path:
            raise _field_error("model", MODEL_NOT_READY.format(id=model.pk))
        base = ""
    else:
        base = base_model_check(base_model)
    tokens, temperature, seed = eval_run_settings_check(
        max_new_tokens=max_new_tokens, temperature=temperature, seed=seed
    )
    penalty, no_repeat = eval_run_repetition_check(
        repetition_penalty=repetition_penalty, no_repeat_ngram_size=no_repeat_ngram_size
    )
    with transaction.atomic():
        team_lock(suite.team_id)  # two launches at once are counted one after the other
        active = (
            EvalRun.objects.filter(suite__team_id=suite.team_id)
            .exclude(status__in=EVAL_FINISHED)
            .count()
        )
        if active >= MAX_ACTIVE_PER_TEAM:
            raise ConflictError(TOO_MANY_ACTIVE.format(count=active, limit=MAX_ACTIVE_PER_TEAM))
        run = EvalRun.objects.create(
            suite=suite,
            model=model,
            base_model=base,
            max_new_tokens=tokens,
            temperature=temperature,
            seed=seed,
            repetition_penalty=penalty,
            no_repeat_ngram_size=no_repeat,
            total=suite.item_count,
            created_by=user,
        )
        transaction.on_commit(lambda: eval_run_enqueue(run.pk))
    return run


def eval_run_enqueue(run_id: int) -> None:
    from ..tasks import eval_run_execute as task

    task.delay(run_id)


def eval_run_cancel(*, user, run: EvalRun) -> EvalRun:
    """Stop a run: a queued one ends cancelled now; a running one at its next batch (its
    outputs so far are kept)."""
    require_role(user, run.suite.team_id, Action.TRAIN)
    if run.is_finished:
        raise ConflictError(ALREADY_FINISHED.format(status=run.status))
    EvalRun.objects.filter(pk=run.pk, status=EvalRunStatus.QUEUED).update(
        status=EvalRunStatus.CANCELLED,
        cancel_requested=True,
        failure_reason=CANCELLED_BEFORE_START,
        finished_at=timezone.now(),
    )
    EvalRun.objects.filter(pk=run.pk).exclude(status__in=EVAL_FINISHED).update(
        cancel_requested=True
    )
    run.refresh_from_db()
    return run
