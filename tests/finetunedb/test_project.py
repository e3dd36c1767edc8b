"""Project-level guarantees: migrations in sync, a valid OpenAPI schema, production settings."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
STRONG_SECRET = "x7Gq2LmP9vRtY4wZb8NcKd3FhJs6AeUoIi1Ml5Xn0QyTzVrWpBg"


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_has_no_missing_migrations():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_it_generates_a_valid_openapi_schema(tmp_path):
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
    )
    text = (tmp_path / "schema.yml").read_text()
    assert "/api/v1/examples/{example_id}/" in text
    assert "tokenAuth" in text


def _manage(*args, env_extra):
    # Only what a deployment would have: the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE must not leak in.
    dropped = ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_check_deploy_with_production_settings(tmp_path):
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "DJANGO_SETTINGS_MODULE": "finetunedb.settings.production",
            "SECRET_KEY": STRONG_SECRET,
            "DATA_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("secret", [None, "short", "django-insecure-" + "a" * 60, "a" * 60])
def test_it_refuses_to_start_production_with_a_weak_secret(tmp_path, secret):
    extra = {"DJANGO_SETTINGS_MODULE": "finetunedb.settings.production", "DATA_DIR": str(tmp_path)}
    if secret is not None:
        extra["SECRET_KEY"] = secret
    result = _manage("check", env_extra=extra)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.postgres
@pytest.mark.django_db
def test_it_runs_on_the_database_it_was_asked_for():
    from django.db import connection

    wanted = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == wanted


def test_it_registers_every_model_in_the_admin():
    from django.apps import apps
    from django.contrib import admin

    ours = [
        m for m in apps.get_models() if m._meta.app_label in ("teams", "datasets_app", "training")
    ]
    assert ours
    missing = [m._meta.label for m in ours if m not in admin.site._registry]
    assert missing == []


@pytest.mark.django_db
def test_it_serves_the_admin_pages_of_every_model(admin_client):
    from django.contrib import admin

    for model in admin.site._registry:
        opts = model._meta
        response = admin_client.get(f"/admin/{opts.app_label}/{opts.model_name}/")
        assert response.status_code == 200, opts.label
