"""Checklist E50 (Celery CVE-2021-23727, django-celery-results CVE-2020-17495): the broker
carries JSON only, and task messages carry ids only — never tokens, file contents or text."""

import io

import pytest
from celery.app.task import Task


def test_it_accepts_only_json_on_the_broker():
    from finetunedb.celery import app

    assert set(app.conf.accept_content) == {"json"}
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"


@pytest.mark.django_db
def test_it_sends_only_ids_to_tasks(
    owner, api_for, dataset, make_example, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    original = Task.apply_async

    def record(self, args=None, kwargs=None, **options):
        sent.append((self.name, tuple(args or ()), dict(kwargs or {})))
        return original(self, args, kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", record)
    make_example(dataset, owner)
    alice = api_for(owner)
    upload = io.BytesIO(
        b'{"messages": [{"role": "user", "content": "secret text"}, '
        b'{"role": "assistant", "content": "a"}]}\n'
    )
    upload.name = "x.jsonl"
    with django_capture_on_commit_callbacks(execute=True):
        alice.post(f"/api/v1/datasets/{dataset.pk}/imports/", {"file": upload}, format="multipart")
        alice.post(f"/api/v1/datasets/{dataset.pk}/dedup/", {"method": "exact"}, format="json")
    assert {name for name, _, _ in sent} >= {"datasets_app.import_job_run"}
    for name, args, kwargs in sent:
        values = [*args, *kwargs.values()]
        assert all(isinstance(v, int) and not isinstance(v, bool) for v in values), (name, values)
