"""The training app's job kinds: how runs, evaluations and playground requests hold their lease.

Each is a :class:`finetunedb.leases.JobKind`, registered in ``TrainingConfig.ready`` so that the
worker's start-up sweep and ``manage.py recover_jobs`` recover them with the others. Claims,
renewals and final writes go through ``finetunedb.leases`` only (tests/test_one_lease.py).
"""

from __future__ import annotations

from datetime import timedelta

from finetunedb.leases import JobKind

from ..models import EvalStatus, ModelArtifact, PlaygroundRequest, PlaygroundStatus, TrainingRun

# Every kind here runs on the ``training`` queue and names its team: its task is a token that
# runs the next job of the kind in turns between teams (finetunedb.leases.job_run_next).
# A run renews its lease at every throttled progress write (the reporter); evaluation and the
# playground renew from a thread around their one long call (leases.lease_kept).
RUN_LEASE = timedelta(minutes=5)
EVAL_LEASE = timedelta(minutes=5)
PLAYGROUND_LEASE = timedelta(minutes=2)
QUEUED_GRACE = timedelta(minutes=2)
MAX_ATTEMPTS = 3

RUN_GAVE_UP = "The run was interrupted {attempts} times (the worker stopped); it was given up."
EVAL_GAVE_UP = (
    "The evaluation was interrupted {attempts} times (the worker stopped); it was given up."
)
PLAYGROUND_GAVE_UP = (
    "The playground request was interrupted {attempts} times (the worker stopped); it was "
    "given up. Send it again."
)

TRAINING_RUNS = JobKind(
    name="training run",
    model=TrainingRun,
    enqueue="training.services.runs.training_run_enqueue",
    lease=RUN_LEASE,
    max_attempts=MAX_ATTEMPTS,
    gave_up=RUN_GAVE_UP.format(attempts=MAX_ATTEMPTS),
    queued_grace=QUEUED_GRACE,
    on_give_up={"phase": ""},
    team="version__dataset__team_id",  # in turns between teams (leases.job_run_next)
)

EVALUATIONS = JobKind(
    name="evaluation",
    model=ModelArtifact,
    enqueue="training.services.execute.model_evaluate_enqueue",
    lease=EVAL_LEASE,
    max_attempts=MAX_ATTEMPTS,
    gave_up=EVAL_GAVE_UP.format(attempts=MAX_ATTEMPTS),
    status="eval_status",
    queued=EvalStatus.PENDING,
    running=EvalStatus.RUNNING,
    failed=EvalStatus.FAILED,
    attempts="eval_attempts",
    lease_expires_at="eval_lease_expires_at",
    started_at="eval_started_at",
    finished_at=None,
    failure="eval_error",
    queued_grace=QUEUED_GRACE,
    team="run__version__dataset__team_id",
)

PLAYGROUND_REQUESTS = JobKind(
    name="playground request",
    model=PlaygroundRequest,
    enqueue="training.services.evaluation.playground_request_enqueue",
    lease=PLAYGROUND_LEASE,
    max_attempts=MAX_ATTEMPTS,
    gave_up=PLAYGROUND_GAVE_UP.format(attempts=MAX_ATTEMPTS),
    queued=PlaygroundStatus.QUEUED,
    running=PlaygroundStatus.RUNNING,
    failed=PlaygroundStatus.FAILED,
    failure="error",
    queued_grace=QUEUED_GRACE,
    team="model__run__version__dataset__team_id",
)

KINDS = (TRAINING_RUNS, EVALUATIONS, PLAYGROUND_REQUESTS)
