"""The evaluation app's job kinds: how an eval run and an LLM judge's pairwise comparison hold
their lease (finetunedb/leases.py).

Registered in ``EvaluationConfig.ready`` so the worker's start-up sweep and ``manage.py
recover_jobs`` recover eval runs with every other kind. A run renews its lease at every batch
it stores, and from a thread around model loading and judging (``leases.lease_kept``).
"""

from __future__ import annotations

from datetime import timedelta

from finetunedb.leases import JobKind

from ..judged_models import JudgedComparison, JudgedStatus
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

# A judged comparison renews its lease at every chunk of judge calls it gets back, and from a
# thread around each call (a served judge loads a model).
JUDGED_COMPARISON_LEASE = timedelta(minutes=5)
JUDGED_COMPARISON_GAVE_UP = (
    "The judging was interrupted {attempts} times (the worker stopped); it was given up."
)

JUDGED_COMPARISONS = JobKind(
    name="judged comparison",
    model=JudgedComparison,
    enqueue="evaluation.services.judging.judged_comparison_enqueue",
    lease=JUDGED_COMPARISON_LEASE,
    max_attempts=MAX_ATTEMPTS,
    gave_up=JUDGED_COMPARISON_GAVE_UP.format(attempts=MAX_ATTEMPTS),
    queued=JudgedStatus.QUEUED,
    running=JudgedStatus.RUNNING,
    failed=JudgedStatus.FAILED,
    queued_grace=QUEUED_GRACE,
    # on the training queue with the eval runs, in turns between teams
    team="run__suite__team_id",
)

KINDS = (EVAL_RUNS, JUDGED_COMPARISONS)
