"""Checklist E46–E48 (MLflow path-traversal family): files are named by our ids, and a download
can only ever return a file of the model's own folder."""

import os

import pytest

from training.models import ModelArtifact

pytestmark = pytest.mark.django_db

TRAVERSALS = [
    "../../settings.py",
    "..%2f..%2fsettings.py",
    "%2e%2e/%2e%2e/etc/passwd",
    "/etc/passwd",
    "file:///#/../../etc/passwd",
    "..\\..\\x",
    "C:\\Windows\\win.ini",
    "weights/../../../secret.txt",
    "manifest.json\x00.png",
    "a" * 300,
    "link.safetensors",
]


@pytest.fixture
def model(objects, settings, tmp_path):
    """A model folder with a listed weights file, a secret beside it and a symlink out of it."""
    settings.FINETUNEDB_MODELS_DIR = tmp_path / "models"
    artifact = ModelArtifact.objects.get(pk=objects["model_id"])
    folder = settings.FINETUNEDB_MODELS_DIR / artifact.path
    (folder / "weights").mkdir(parents=True)
    (folder / "weights" / "adapter_model.safetensors").write_bytes(b"weights")
    (folder / "manifest.json").write_text("{}")
    (settings.FINETUNEDB_MODELS_DIR / "secret.txt").write_text("top secret")
    os.symlink(settings.FINETUNEDB_MODELS_DIR / "secret.txt", folder / "link.safetensors")
    artifact.manifest = {
        "weights_file": "weights/adapter_model.safetensors",
        # a listed name that is a symlink out of the folder must still be refused
        "files": {"weights/adapter_model.safetensors": "0" * 64, "link.safetensors": "0" * 64},
    }
    artifact.save()
    return artifact


@pytest.fixture
def alice(owner, api_for):
    return api_for(owner)


def test_it_downloads_a_listed_file_as_an_attachment(alice, model):
    response = alice.get(f"/api/v1/models/{model.pk}/download/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"weights"
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"


@pytest.mark.parametrize("name", TRAVERSALS)
def test_it_refuses_every_path_outside_the_models_folder(alice, model, name):
    """E47: ``../``, absolute, URL-encoded, fragment-smuggled, NUL, over-long, symlinks → 404."""
    from urllib.parse import quote

    for value in (name, quote(name, safe="")):
        response = alice.get(f"/api/v1/models/{model.pk}/download/", {"file": value})
        assert response.status_code == 404, value
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert b"top secret" not in body


def test_it_refuses_a_model_whose_stored_path_points_outside(alice, model):
    """E46: even a row whose path escapes the models folder serves nothing."""
    for path in ("../../", "/etc", "."):
        ModelArtifact.objects.filter(pk=model.pk).update(path=path)
        assert alice.get(f"/api/v1/models/{model.pk}/download/").status_code == 404


def test_it_names_run_folders_by_id_whatever_the_dataset_is_called(owner, team, settings):
    """E46: a dataset named like a path changes no folder name."""
    from datasets_app.models import Dataset
    from training.services.base_models import model_relative_path, run_dir

    Dataset.objects.create(team=team, name="../../etc", created_by=owner)
    assert model_relative_path(7).startswith("runs/7")
    root = settings.FINETUNEDB_MODELS_DIR.resolve()
    assert run_dir(7).resolve().is_relative_to(root)


def test_it_serves_import_error_reports_as_attachments(alice, objects):
    """F55: an error report (user text inside) is a download, never HTML."""
    from datasets_app.models import ImportJob
    from datasets_app.services.imports import import_job_error_report_path

    job = ImportJob.objects.get(pk=objects["import_id"])
    path = import_job_error_report_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"line": 1, "message": "<script>alert(1)</script>"}\n')
    report = alice.get(f"/api/v1/imports/{job.pk}/errors/")
    assert report.status_code == 200
    assert report["Content-Disposition"].startswith("attachment")
    assert "html" not in report["Content-Type"]
    assert report["X-Content-Type-Options"] == "nosniff"
