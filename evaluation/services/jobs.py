"""The evaluation app's job kind: how an eval run holds its lease (finetunedb/leases.py).

Registered in ``EvaluationConfig.ready`` so the worker's start-up sweep and ``manage.py
recover_jobs`` recover eval runs with every other kind. A run renews its lease at every batch
it stores, and from a thread around model loading and judging (``leases.lease_kept``).
"""

from __future__ import annotations

from datetime import timedelta

from finetunedb.leases import JobKind

from ..models import EvalRun, EvalRunStatus

EVAL_RUN_LEASE = timedelta(minutes=5)
QUEUED_GRACE = timedelta(minutes=2)
MAX_ATTEMPTS = 3
EVAL_RUN_GAVE_UP = (
    "The eval run was interrupted {attempts} times (the worker stopped); it was given up."
)

EVAL_RUNS = JobKind(
    name="eval run",
    model=EvalRun,
    enqueue="evaluation.services.runs.eval_run_enqueue",
    lease=EVAL_RUN_LEASE,
    max_attempts=MAX_ATTEMPTS,
    gave_up=EVAL_RUN_GAVE_UP.format(attempts=MAX_ATTEMPTS),
    queued=EvalRunStatus.QUEUED,
    running=EvalRunStatus.RUNNING,
    failed=EvalRunStatus.FAILED,
    queued_grace=QUEUED_GRACE,
    # on the shared training queue: in turns between teams (finetunedb.leases.job_run_next)
    team="suite__team_id",
)

KINDS = (EVAL_RUNS,)
