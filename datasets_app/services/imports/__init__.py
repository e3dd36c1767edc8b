"""Imports: an uploaded file becomes examples all at once or not at all.

Read in order: :mod:`.create` (admission, the upload stored, the job queued), :mod:`.run` (the
job claimed, the file staged, the rows published in one transaction), :mod:`.stage` (the pure
step: hash, count duplicates, write the staging and error lines, the verdict), :mod:`.recover`
(jobs and files a dead worker left), :mod:`.admission` (slots and storage quota), :mod:`.jobs`
(the lease kind and file paths), :mod:`.stored` (the files in object storage).

The rule, enforced by tests/datasets_app/test_imports_rule.py:

* only this package writes ImportJob rows or staging files (the lease fields go through
  ``finetunedb.leases``);
* :mod:`.stage` is pure: it imports no Django and no database code;
* admission is decided here: views call :func:`import_job_admit` before the body is read and
  pass its result to :func:`import_job_create`; nothing outside this package calls the checks
  of :mod:`.admission`, and each check runs once per moment.
"""

from .admission import import_active_count, import_active_limit
from .create import import_job_admit, import_job_create, import_job_retry
from .jobs import (
    GAVE_UP,
    IMPORT_JOBS,
    LEASE,
    MAX_ATTEMPTS,
    import_job_enqueue,
    import_job_error_report_path,
)
from .recover import import_jobs_recover
from .run import import_job_fail_killed, import_job_run
from .stage import PROGRESS_EVERY_S
from .stored import import_job_error_report_local

__all__ = [
    "GAVE_UP",
    "IMPORT_JOBS",
    "LEASE",
    "MAX_ATTEMPTS",
    "PROGRESS_EVERY_S",
    "import_active_count",
    "import_active_limit",
    "import_job_admit",
    "import_job_create",
    "import_job_enqueue",
    "import_job_error_report_local",
    "import_job_error_report_path",
    "import_job_fail_killed",
    "import_job_retry",
    "import_job_run",
    "import_jobs_recover",
]
