"""`manage.py recover_jobs`: the worker's start-up sweep, by hand or from cron."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from datasets_app.models import ImportJob
from datasets_app.services import imports
from datasets_app.services.imports import jobs as import_jobs

pytestmark = pytest.mark.django_db


def test_it_re_enqueues_an_import_whose_worker_died_and_leaves_a_live_one(
    owner, dataset, monkeypatch
):
    enqueued: list[int] = []
    monkeypatch.setattr(import_jobs, "import_job_enqueue", enqueued.append)
    dead, alive = (
        imports.import_job_create(
            user=owner, dataset=dataset, upload=SimpleUploadedFile(f"{n}.jsonl", b"{}\n")
        )
        for n in ("dead", "alive")
    )
    now = timezone.now()
    ImportJob.objects.filter(pk=dead.pk).update(
        status="running", attempts=1, lease_expires_at=now - timedelta(seconds=1)
    )
    ImportJob.objects.filter(pk=alive.pk).update(
        status="running", attempts=1, lease_expires_at=now + timedelta(minutes=1)
    )
    out = StringIO()
    call_command("recover_jobs", stdout=out)
    assert enqueued == [dead.pk]
    # every registered kind is named, in registration order (action jobs come first)
    assert "1 import job(s), 0 dedup job(s), 0 training run(s)" in out.getvalue()
    assert out.getvalue().startswith("re-enqueued ")
