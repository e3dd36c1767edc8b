"""Imports set the initial status of their examples (issue 16.6) and name the valid choices of
every option they refuse (issue 16.10b)."""

import io
import json

import pytest

from datasets_app.models import Example, ImportJob

GOOD = b"".join(
    json.dumps(
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": "a"}]}
    ).encode()
    + b"\n"
    for i in range(3)
)


@pytest.fixture
def post(api_for, owner, dataset, django_capture_on_commit_callbacks):
    client = api_for(owner)

    def send(**fields):
        handle = io.BytesIO(GOOD)
        handle.name = "data.jsonl"
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                f"/api/v1/datasets/{dataset.pk}/imports/",
                {"file": handle, **fields},
                format="multipart",
            )

    return client, send


def test_it_imports_examples_as_needs_review_when_asked(post, dataset):
    client, send = post
    response = send(status="needs_review")
    assert response.status_code == 202, response.content
    job = client.get(response["Location"]).json()
    assert job["status"] == "succeeded" and job["initial_status"] == "needs_review"
    statuses = set(Example.objects.filter(dataset=dataset).values_list("status", flat=True))
    assert statuses == {"needs_review"}


def test_it_imports_drafts_by_default(post, dataset):
    client, send = post
    response = send()
    assert client.get(response["Location"]).json()["initial_status"] == "draft"
    statuses = set(Example.objects.filter(dataset=dataset).values_list("status", flat=True))
    assert statuses == {"draft"}


def test_it_refuses_an_unknown_status_naming_the_field_and_the_choices(post):
    _, send = post
    response = send(status="reviewed")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["path"] == "status"
    assert "draft, needs_review, approved, rejected, archived" in error["message"]
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "listed"),
    [("format", "chatml", "openai, "), ("mode", "sometimes", "strict, skip_invalid")],
)
def test_it_lists_the_valid_names_for_an_unknown_option(post, field, value, listed):
    _, send = post
    response = send(**{field: value})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["path"] == field
    assert f'"{value}" is not a valid {field}; use one of:' in error["message"]
    assert listed in error["message"]
    assert not ImportJob.objects.exists()


def test_the_service_refuses_an_unknown_status_and_stores_nothing(owner, dataset):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from datasets_app.services.imports import import_job_create
    from finetunedb.exceptions import ApplicationError

    with pytest.raises(ApplicationError) as caught:
        import_job_create(
            user=owner,
            dataset=dataset,
            upload=SimpleUploadedFile("d.jsonl", GOOD),
            status="done",
        )
    assert caught.value.errors[0]["path"] == "status"
    assert "use one of: draft" in caught.value.errors[0]["message"]
    assert not ImportJob.objects.exists()
