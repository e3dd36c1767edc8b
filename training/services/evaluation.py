"""After training: base against fine-tuned on held-out records; and the playground.

Both run in the worker (the ``training`` queue), never on a request thread: loading a model and
generating takes seconds to minutes. Both are leased jobs (``training.services.jobs``): claimed
once, renewed from a thread around the long call, finished only by the attempt that holds the
lease; a worker killed mid-answer leaves a lease that runs out, and recovery re-enqueues the job.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from finetunedb import faults
from finetunedb.exceptions import ApplicationError
from finetunedb.leases import lease_claim, lease_finish, lease_kept
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..models import EvalStatus, ModelArtifact, PlaygroundRequest, PlaygroundStatus
from .base_models import base_cache_dir
from .jobs import EVALUATIONS, PLAYGROUND_REQUESTS
from .model_store import model_folder
from .records import training_splits, version_records

logger = logging.getLogger(__name__)

PREFERENCE_METHODS = ("dpo", "orpo")

NO_HELD_OUT = (
    "This version has no test or validation split; there was nothing held out to compare on."
)
EVAL_FAILED = "The evaluation failed ({kind}: {detail})."
PLAYGROUND_FAILED = "The playground failed ({kind}: {detail})."

MAX_MESSAGES = 50
MAX_CHARS = 20_000
ROLES = ("system", "user", "assistant")
BAD_MESSAGES = "messages must be a list of 1–50 {role, content} objects (roles system, user, assistant) ending with a user turn"
TOO_LONG = f"the conversation is longer than {MAX_CHARS} characters"
MAX_SEED = 2**31 - 1
BAD_SEEDS = f"seeds: two different whole numbers from 0 to {MAX_SEED:,}, one per answer"
BAD_TEMPERATURE = "temperature: a number above 0 and at most 2 (sampling needs it above 0)"
TEMPERATURE_WITHOUT_SEEDS = "temperature is for two sampled answers: send seeds [a, b] with it"


def _device() -> str:
    import torch

    return settings.FINETUNEDB_TRAINING_DEVICE or ("cuda" if torch.cuda.is_available() else "cpu")


def model_evaluate(*, model_id: int) -> None:
    """Score base and fine-tuned on the version's test split (validation if none); store it."""
    attempt = lease_claim(EVALUATIONS, pk=model_id)
    if attempt is None:
        return

    def finish(status, **fields) -> None:
        lease_finish(EVALUATIONS, pk=model_id, attempt=attempt, status=status, **fields)

    model = ModelArtifact.objects.select_related("run__version").get(pk=model_id)
    version = model.run.version
    split = training_splits(version)["test"]
    records = version_records(version, split, limit=settings.FINETUNEDB_EVAL_MAX_RECORDS)
    if not records:
        finish(EvalStatus.DONE, eval_results={"split": None, "note": NO_HELD_OUT})
        return
    config = model.run.config
    try:
        with lease_kept(EVALUATIONS, pk=model_id, attempt=attempt):
            results = _compare(model, records, config)
    except Exception as exc:
        logger.exception("evaluation of model %s failed", model_id)
        detail = (str(exc).splitlines() or [""])[0][:300]
        finish(
            EvalStatus.FAILED, eval_error=EVAL_FAILED.format(kind=type(exc).__name__, detail=detail)
        )
        return
    results.update(split=split, records=len(records))
    finish(EvalStatus.DONE, eval_results=results, eval_error="")


def _compare(model: ModelArtifact, records: list[dict], config: dict) -> dict:
    """Base against fine-tuned on the held-out records; a DPO/ORPO model is also scored on
    their pairs (reward accuracy and margin: training/recipe/preference_eval.py)."""
    from training.recipe.evaluate import compare
    from training.recipe.preference_eval import compare_pairs

    common = {
        "models_dir": base_cache_dir(),
        "max_seq_len": config["max_seq_len"],
        "batch_size": config["batch_size"],
        "device": _device(),
    }
    plain = [{k: v for k, v in r.items() if k not in ("id", "rejected")} for r in records]
    results = compare(
        model_folder(model),
        plain,
        samples=settings.FINETUNEDB_EVAL_SAMPLES,
        max_new_tokens=settings.FINETUNEDB_EVAL_MAX_NEW_TOKENS,
        **common,
    )
    pairs = [{k: v for k, v in r.items() if k != "id"} for r in records if r.get("rejected")]
    if model.run.method in PREFERENCE_METHODS and pairs:
        results["preference"] = compare_pairs(model_folder(model), pairs, **common)
    return results


def playground_messages_check(messages) -> list[dict]:
    def bad(message):
        return ApplicationError(message, errors=[{"path": "messages", "message": message}])

    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        raise bad(BAD_MESSAGES)
    clean = []
    for message in messages:
        if (
            not isinstance(message, dict)
            or message.get("role") not in ROLES
            or not isinstance(message.get("content"), str)
        ):
            raise bad(BAD_MESSAGES)
        clean.append({"role": message["role"], "content": message["content"]})
    if clean[-1]["role"] != "user":
        raise bad(BAD_MESSAGES)
    if sum(len(m["content"]) for m in clean) > MAX_CHARS:
        raise bad(TOO_LONG)
    return clean


def playground_sampling_check(*, temperature=None, seeds=None) -> dict:
    """``{}`` (base against fine-tuned, greedy) or ``{temperature, seeds}`` for two sampled
    answers of the fine-tuned model; refused input names its field."""

    def bad(path, message):
        return ApplicationError(message, errors=[{"path": path, "message": message}])

    if seeds is None:
        if temperature is not None:
            raise bad("temperature", TEMPERATURE_WITHOUT_SEEDS)
        return {}
    if (
        not isinstance(seeds, list | tuple)
        or len(seeds) != 2
        or any(
            isinstance(s, bool) or not isinstance(s, int) or not 0 <= s <= MAX_SEED for s in seeds
        )
        or seeds[0] == seeds[1]
    ):
        raise bad("seeds", BAD_SEEDS)
    if (
        temperature is None
        or isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not 0 < temperature <= 2
    ):
        raise bad("temperature", BAD_TEMPERATURE)
    return {"temperature": float(temperature), "seeds": [int(seeds[0]), int(seeds[1])]}


def playground_request_create(
    *, user, model: ModelArtifact, messages, temperature=None, seeds=None
) -> PlaygroundRequest:
    """Queue a conversation for the model's playground; the worker answers it. With ``seeds``
    (two) and ``temperature`` the fine-tuned model answers twice, sampled at each seed, so a
    curator picks between two answers of the same model."""
    require_role(user, model.run.version.dataset.team_id, Action.TRAIN)
    clean = playground_messages_check(messages)
    sampling = playground_sampling_check(temperature=temperature, seeds=seeds)
    with transaction.atomic():
        request = PlaygroundRequest.objects.create(
            model=model, messages=clean, sampling=sampling, created_by=user
        )
        transaction.on_commit(lambda: playground_request_enqueue(request.pk))
    return request


def playground_request_enqueue(request_id: int) -> None:
    from ..tasks import playground_request_run as task

    task.delay(request_id)


def playground_request_run(*, request_id: int) -> None:
    from training.recipe.evaluate import playground, playground_seeds

    attempt = lease_claim(PLAYGROUND_REQUESTS, pk=request_id)
    if attempt is None:
        return

    def finish(status, **fields) -> None:
        lease_finish(PLAYGROUND_REQUESTS, pk=request_id, attempt=attempt, status=status, **fields)

    from serving.generation import engine_playground, engine_ready

    request = PlaygroundRequest.objects.select_related("model__run__version__dataset__team").get(
        pk=request_id
    )
    max_new_tokens = settings.FINETUNEDB_PLAYGROUND_MAX_NEW_TOKENS
    try:
        with lease_kept(PLAYGROUND_REQUESTS, pk=request_id, attempt=attempt):
            faults.fault_point("playground.generate")
            # The serving engine has the base loaded once and the adapter on demand; without
            # one (tests, a worker alone) the worker loads the model for this request.
            if request.sampling:
                # Seeded sampling runs in process: the serving engine batches requests
                # together, so a seed would not give the same answer twice.
                answers = playground_seeds(
                    model_folder(request.model),
                    request.messages,
                    models_dir=base_cache_dir(),
                    temperature=request.sampling["temperature"],
                    seeds=tuple(request.sampling["seeds"]),
                    max_new_tokens=max_new_tokens,
                    device=_device(),
                )
            elif engine_ready():
                answers = engine_playground(
                    request.model, request.messages, max_new_tokens=max_new_tokens
                )
            else:
                answers = playground(
                    model_folder(request.model),
                    request.messages,
                    models_dir=base_cache_dir(),
                    max_new_tokens=max_new_tokens,
                    device=_device(),
                )
    except Exception as exc:
        logger.exception("playground request %s failed", request_id)
        detail = (str(exc).splitlines() or [""])[0][:300]
        error = PLAYGROUND_FAILED.format(kind=type(exc).__name__, detail=detail)
        finish(PlaygroundStatus.FAILED, error=error)
        return
    finish(PlaygroundStatus.DONE, answers=answers)
