import gzip
import io
import json

import pytest

from datasets_app.models import Example, ImportJob

GOOD = b"".join(
    json.dumps(
        {
            "messages": [
                {"role": "user", "content": f"q{i}"},
                {"role": "assistant", "content": f"a{i}"},
            ]
        }
    ).encode()
    + b"\n"
    for i in range(5)
)


@pytest.fixture
def upload(api_for, owner, dataset, django_capture_on_commit_callbacks):
    client = api_for(owner)

    def post(data: bytes, name="data.jsonl", **fields):
        with django_capture_on_commit_callbacks(execute=True):
            response = (
                client.post(
                    f"/api/v1/datasets/{dataset.pk}/imports/",
                    {"file": io.BytesIO(data), **fields} if data is not None else fields,
                    format="multipart",
                )
                if data is None
                else client.post(
                    f"/api/v1/datasets/{dataset.pk}/imports/",
                    {"file": _named(data, name), **fields},
                    format="multipart",
                )
            )
        return client, response

    return post


def _named(data, name):
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def poll(client, response):
    assert response.status_code == 202, response.content
    return client.get(response["Location"]).json()


def test_it_imports_a_jsonl_file_and_reports_counts(upload, dataset):
    client, response = upload(GOOD)
    job = poll(client, response)
    assert job["status"] == "succeeded", job
    assert job["examples_created"] == 5 and job["rows_valid"] == 5 and job["progress"] == 1.0
    assert job["detected_format"] == "openai"
    assert Example.objects.filter(dataset=dataset).count() == 5
    example = Example.objects.filter(dataset=dataset).order_by("id").first()
    assert example.current_revision.messages[0]["content"] == "q0"
    assert example.source_format == "openai"


def test_it_keeps_the_file_name_as_metadata_only(upload, dataset, settings):
    client, response = upload(GOOD, name="../../etc/passwd")
    job = ImportJob.objects.get()
    assert job.original_name == "passwd"
    assert "/" not in job.stored_name and len(job.stored_name) == 32


def test_it_stores_nothing_in_strict_mode_when_a_line_is_bad(upload, dataset):
    bad = GOOD + b'{"messages": [{"role": "user", "content": NaN}]}\n' + b"not json\n"
    client, response = upload(bad)
    job = poll(client, response)
    assert job["status"] == "failed"
    assert "nothing was imported" in job["failure_reason"]
    assert [(e["line"], e["code"]) for e in job["first_errors"]] == [
        (6, "nan_not_allowed"),
        (7, "invalid_json"),
    ]
    assert Example.objects.count() == 0
    report = client.get(job["error_report"])
    assert report["Content-Disposition"].startswith("attachment")
    lines = b"".join(report.streaming_content).splitlines()
    assert [json.loads(x)["line"] for x in lines] == [6, 7]


def test_it_keeps_the_good_lines_in_skip_invalid_mode(upload, dataset):
    client, response = upload(GOOD + b"[1, 2]\n", mode="skip_invalid")
    job = poll(client, response)
    assert job["status"] == "succeeded"
    assert job["rows_invalid"] == 1 and job["examples_created"] == 5
    assert job["first_errors"][0]["code"] == "not_an_object"


def test_it_counts_and_optionally_skips_duplicates(upload, dataset):
    client, response = upload(GOOD + GOOD.splitlines(keepends=True)[0])
    job = poll(client, response)
    assert job["duplicates_in_file"] == 1 and job["examples_created"] == 6
    client, response = upload(GOOD, skip_duplicates="true")
    job = poll(client, response)
    assert job["status"] == "failed" and job["duplicates_in_dataset"] == 5
    assert Example.objects.count() == 6


def test_it_reads_gzip_alpaca_json_arrays(upload, dataset):
    rows = [
        {"instruction": "Add", "input": "2+2", "output": "4"},
        {"instruction": "Greet", "input": "", "output": "Hi"},
    ]
    client, response = upload(gzip.compress(json.dumps(rows).encode()), name="alpaca.json.gz")
    job = poll(client, response)
    assert job["status"] == "succeeded", job
    assert job["detected_format"] == "alpaca" and job["compressed"] is True
    assert Example.objects.count() == 2


def test_it_answers_413_for_an_upload_over_the_cap_and_stores_nothing(upload, dataset, settings):
    settings.FINETUNEDB_MAX_UPLOAD_BYTES = 1000
    client, response = upload(GOOD * 20)
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"
    assert not ImportJob.objects.exists()


def test_it_requires_a_file_and_valid_options(upload, api_for, owner, dataset):
    client = api_for(owner)
    response = client.post(
        f"/api/v1/datasets/{dataset.pk}/imports/", {"mode": "strict"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "file"
    _, response = upload(GOOD, mode="sometimes")
    assert response.status_code == 400
    _, response = upload(GOOD, column_mapping="{not json")
    assert response.status_code == 400
    assert not ImportJob.objects.exists()


def test_it_forbids_annotators_to_import(api_for, teammate, dataset):
    response = api_for(teammate).post(
        f"/api/v1/datasets/{dataset.pk}/imports/",
        {"file": _named(GOOD, "x.jsonl")},
        format="multipart",
    )
    assert response.status_code == 403


def test_it_runs_a_job_once_even_when_delivered_twice(upload, dataset):
    from datasets_app.services.imports import import_job_run

    client, response = upload(GOOD)
    job_id = response.json()["id"]
    import_job_run(job_id=job_id)
    assert Example.objects.count() == 5
    assert ImportJob.objects.get().attempts == 1
