"""The rule of datasets_app/services/imports/ (its package docstring), enforced:

* only the package writes ImportJob rows or touches staging files;
* stage.py is pure: loaded alone, it imports no Django;
* admission is decided in the service: nothing outside the package calls the checks, the API
  view calls import_job_admit before it reads the body, and each check runs once per moment.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from datasets_app.models import ImportJob
from datasets_app.services.imports import admission, jobs

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "datasets_app" / "services" / "imports"
SOURCES = ("datasets_app", "finetunedb", "training")
WRITES = {
    "update",
    "create",
    "delete",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
    "save",
}
CHECKS = {
    "import_admission_check",
    "import_admission_size_check",
    "import_admission_recheck",
    "import_publish_require_room",
    "import_slots_require_free",
    "import_limits",
}


def _outside_the_package():
    for top in SOURCES:
        for path in (ROOT / top).rglob("*.py"):
            if PACKAGE in path.parents or "migrations" in path.parts:
                continue
            yield path, ast.parse(path.read_text())


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)
    }


def import_job_writes(tree: ast.AST) -> list[int]:
    """Lines that write an ImportJob row (a queryset write on ImportJob, or ImportJob(...))."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "ImportJob":
            found.append(node.lineno)
        elif (
            isinstance(func, ast.Attribute)
            and func.attr in WRITES
            and "ImportJob" in _names_in(func.value)
        ):
            found.append(node.lineno)
    return found


def staging_uses(tree: ast.AST) -> list[int]:
    return [
        n.lineno for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "STAGING"
    ]


def admission_uses(tree: ast.AST) -> list[int]:
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and (
                node.module.endswith("imports.admission")
                or node.module.endswith("imports_admission")
            )
        ):
            found.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and any(
            a.name in {"admission", *CHECKS} for a in node.names
        ):
            if node.module and "imports" in node.module:
                found.append(node.lineno)
        elif (
            isinstance(node, ast.Name | ast.Attribute)
            and (getattr(node, "id", None) or getattr(node, "attr", None)) in CHECKS
        ):
            found.append(node.lineno)
    return found


def test_it_finds_the_writes_and_checks_the_rule_forbids():
    # the walkers themselves: a rule that finds nothing could never fail
    tree = ast.parse(
        textwrap.dedent("""
        from datasets_app.services.imports.admission import import_limits
        ImportJob.objects.filter(pk=1).update(status="failed")
        ImportJob(stored_name="x").save()
        ImportJob.objects.filter(pk=1).values_list("pk").first()
        path = storage.path_for(storage.STAGING, name)
        svc.import_admission_check(team_id=1, upload_bytes=0)
    """)
    )
    assert import_job_writes(tree) == [3, 4, 4]
    assert staging_uses(tree) == [6]
    assert admission_uses(tree) == [2, 7]


def test_it_writes_import_jobs_and_staging_only_in_the_imports_package():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path, tree in _outside_the_package()
        for line in import_job_writes(tree) + staging_uses(tree)
    ]
    assert found == []


def test_it_calls_admission_checks_only_from_the_imports_package():
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path, tree in _outside_the_package()
        for line in admission_uses(tree)
    ]
    assert found == []


def test_it_admits_an_api_upload_before_the_view_reads_the_body():
    tree = ast.parse((ROOT / "datasets_app" / "api" / "transfer.py").read_text())
    view = next(
        n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "DatasetImportApi"
    )
    post = next(n for n in view.body if isinstance(n, ast.FunctionDef) and n.name == "post")
    admit = [
        n.lineno
        for n in ast.walk(post)
        if isinstance(n, ast.Attribute) and n.attr == "import_job_admit"
    ]
    body = [
        n.lineno
        for n in ast.walk(post)
        if isinstance(n, ast.Attribute) and n.attr in {"FILES", "data"}
    ]
    assert admit and body and max(admit) < min(body)


def test_it_stages_without_django():
    # stage.py loaded on its own (not through the package, whose other modules need Django),
    # with any import of django refused
    script = textwrap.dedent(f"""
        import importlib.abc, importlib.util, sys

        class NoDjango(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name == "django" or name.startswith("django."):
                    raise ImportError("stage.py imported " + name)

        sys.meta_path.insert(0, NoDjango())
        spec = importlib.util.spec_from_file_location("stage_alone", {str(PACKAGE / "stage.py")!r})
        module = sys.modules["stage_alone"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert not any(m == "django" or m.startswith("django.") for m in sys.modules)
        print("pure", module.stage_rows.__name__)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "pure stage_rows"


@pytest.mark.django_db
def test_it_runs_each_admission_check_once_per_moment_for_an_api_upload(
    api_for, owner, dataset, settings, tmp_path, monkeypatch
):
    settings.DATA_DIR = tmp_path / "data"
    settings.FINETUNEDB_TEAM_STORAGE_QUOTA_BYTES = 10**9
    calls = {"slots": 0, "usage": 0}
    slots, usage = admission.import_slots_require_free, admission.team_storage_usage_to_check

    def counted_slots(**kwargs):
        calls["slots"] += 1
        return slots(**kwargs)

    def counted_usage(**kwargs):
        calls["usage"] += 1
        return usage(**kwargs)

    monkeypatch.setattr(admission, "import_slots_require_free", counted_slots)
    monkeypatch.setattr(admission, "team_storage_usage_to_check", counted_usage)
    monkeypatch.setattr(jobs, "import_job_enqueue", lambda job_id: None)
    line = (
        b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n'
    )

    response = api_for(owner).post(
        f"/api/v1/datasets/{dataset.pk}/imports/",
        {"file": SimpleUploadedFile("a.jsonl", line)},
        format="multipart",
    )

    assert response.status_code == 202, response.content
    assert ImportJob.objects.filter(pk=response.json()["id"]).exists()
    # slots: before the body and under the team lock; usage: measured once, before the body
    assert calls == {"slots": 2, "usage": 1}
