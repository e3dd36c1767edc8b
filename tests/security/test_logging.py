"""C51 log injection and C20 secrets in logs, through the logging the settings configure.

Records are captured as the configured console handler writes them (its own formatter on a
buffer), so what is asserted is what an operator's log shows.
"""

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from finetunedb.logs import JsonFormatter

ROOT = Path(__file__).resolve().parents[2]
FORGED = "\n[CRITICAL] fake"
PROMPT = "Summarise this" + FORGED + "\r\nand \x1b[2Jthis"
PASSWORD = "correct horse battery staple"


class JsonLog:
    def __init__(self, formatter):
        self.buffer = io.StringIO()
        self.handler = logging.StreamHandler(self.buffer)
        self.handler.setFormatter(formatter)

    @property
    def text(self) -> str:
        return self.buffer.getvalue()

    def records(self) -> list[dict]:
        lines = self.text.splitlines()
        assert self.text.count("\n") == len(lines), "a record spans more than one line"
        return [json.loads(line) for line in lines]

    def by_logger(self, name: str) -> list[dict]:
        return [r for r in self.records() if r["logger"] == name]


def console_formatter():
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    return handler.formatter


@pytest.fixture
def json_log():
    formatter = console_formatter()
    assert isinstance(formatter, JsonFormatter), "the test settings log JSON by default"
    log = JsonLog(formatter)
    root = logging.getLogger()
    root.addHandler(log.handler)
    try:
        yield log
    finally:
        root.removeHandler(log.handler)


def fail_with_the_prompt(**kwargs):
    raise RuntimeError("could not store: " + kwargs["messages"][1]["content"])


def test_it_logs_a_crashing_view_with_hostile_content_as_json_naming_the_request(
    owner, dataset, api_for, json_log, monkeypatch
):
    """C51: the prompt reaches the log inside an exception, escaped, on the request's lines."""
    from datasets_app.services import examples

    monkeypatch.setattr(examples, "example_create", fail_with_the_prompt)
    messages = [{"role": "user", "content": PROMPT}, {"role": "assistant", "content": "ok"}]
    api = api_for(owner)
    response = api.post(
        f"/api/v1/datasets/{dataset.pk}/examples/",
        {"messages": [{"role": "system", "content": "s"}, *messages]},
        format="json",
        HTTP_X_REQUEST_ID="trace-51",
    )
    assert response.status_code == 500
    assert response["X-Request-ID"] == "trace-51"
    crash = json_log.by_logger("finetunedb.exceptions")
    assert len(crash) == 1
    assert crash[0]["exception"].endswith("RuntimeError: could not store: " + PROMPT)
    assert crash[0]["request_id"] == "trace-51"
    assert crash[0]["user_id"] == owner.pk
    assert crash[0]["method"] == "POST"
    assert crash[0]["path"] == f"/api/v1/datasets/{dataset.pk}/examples/"
    served = json_log.by_logger("django.request")
    assert [r["request_id"] for r in served] == ["trace-51"]
    assert not any(line.startswith("[CRITICAL]") for line in json_log.text.splitlines())


def test_it_keeps_a_forged_line_in_the_request_path_inside_one_json_record(
    owner, api_for, json_log
):
    response = api_for(owner).get("/api/v1/nothing%0A%5BCRITICAL%5D%20fake%0D%0A/")
    assert response.status_code == 404
    (record,) = json_log.by_logger("django.request")
    assert record["path"] == "/api/v1/nothing" + FORGED + "\r\n/"
    assert record["request_id"] == response["X-Request-ID"]
    assert record["level"] == "WARNING"
    assert not any(line.startswith("[CRITICAL]") for line in json_log.text.splitlines())


def test_it_generates_a_request_id_when_the_client_sends_none_or_a_bad_one(client):
    given = client.get("/api/v1/schema/", HTTP_X_REQUEST_ID="ok-1").headers["X-Request-ID"]
    generated = client.get("/api/v1/schema/").headers["X-Request-ID"]
    refused = client.get("/api/v1/schema/", HTTP_X_REQUEST_ID="a b<script>" + "x" * 80)
    assert given == "ok-1"
    assert len(generated) == 32 and int(generated, 16) >= 0
    assert refused["X-Request-ID"] not in {"ok-1", generated} and "<" not in refused["X-Request-ID"]


def test_it_keeps_tokens_and_passwords_out_of_the_log_across_a_login_flow(
    owner, json_log, caplog, monkeypatch
):
    """C20: sign in (once wrongly), get a token, use it, leak it in a query string, crash."""
    from rest_framework.test import APIClient

    caplog.set_level(logging.DEBUG)
    anonymous = APIClient()
    assert anonymous.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD + "!"}, format="json"
    ).status_code in (400, 401)
    login = anonymous.post(
        "/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json"
    )
    raw = login.json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/me/").status_code == 200
    assert APIClient().get("/api/v1/me/?token=" + raw).status_code == 401
    monkeypatch.setattr("finetunedb.teams.api.teams.TeamListCreateApi.get", _crash_with_headers)
    assert api.get("/api/v1/teams/").status_code == 500

    text = json_log.text
    assert len(json_log.records()) >= 3
    for secret in (raw, raw[len("ftdb_") :], PASSWORD):
        assert secret not in text
    assert "?token=" not in text


def _crash_with_headers(self, request):
    logging.getLogger("finetunedb.test").error("headers", extra={"headers": dict(request.headers)})
    raise RuntimeError("teams unavailable")


def test_it_names_the_celery_task_in_the_records_it_logs(json_log, settings):
    from finetunedb.celery import app

    @app.task(name="tests.security.log_from_a_task")
    def log_from_a_task(name):
        logging.getLogger("finetunedb.test").warning("task got %s", name)

    result = log_from_a_task.delay("set" + FORGED)
    (record,) = json_log.by_logger("finetunedb.test")
    assert record["task_id"] == result.id
    assert record["task_name"] == "tests.security.log_from_a_task"
    assert record["message"] == "task got set" + FORGED
    logging.getLogger("finetunedb.test").warning("after")
    assert "task_id" not in json_log.by_logger("finetunedb.test")[-1]


def test_it_keeps_the_project_log_format_when_celery_sets_up_a_worker():
    from finetunedb.celery import app

    app.log.already_setup = False
    try:
        app.log.setup_logging_subsystem(loglevel="INFO")
    finally:
        app.log.already_setup = True
    formatters = [h.formatter for h in logging.getLogger().handlers if h.name == "console"]
    assert len(formatters) == 1 and isinstance(formatters[0], JsonFormatter)


def _settings_logging(module, log_format=None):
    env = {k: v for k, v in os.environ.items() if k != "FINETUNEDB_LOG_FORMAT"}
    env.update(SECRET_KEY="x7Gq2LmP9vRtY4wZb8NcKd3FhJs6AeUoIi1Ml5Xn0QyTzVrWpBg")
    if log_format is not None:
        env["FINETUNEDB_LOG_FORMAT"] = log_format
    code = (
        f"import json, {module} as s; "
        "print(json.dumps([s.FINETUNEDB_LOG_FORMAT, s.LOGGING['handlers']['console']['formatter'],"
        " s.LOGGING['formatters'][s.FINETUNEDB_LOG_FORMAT]['()']]))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("module", ["finetunedb.settings.production", "finetunedb.settings.dev"])
def test_it_logs_json_by_default_in_production_and_dev(module):
    result = _settings_logging(module)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["json", "json", "finetunedb.logs.JsonFormatter"]


def test_it_switches_to_escaped_text_and_refuses_unknown_formats():
    text = _settings_logging("finetunedb.settings.production", "text")
    assert json.loads(text.stdout) == ["text", "text", "finetunedb.logs.TextFormatter"]
    refused = _settings_logging("finetunedb.settings.production", "xml")
    assert refused.returncode != 0 and "FINETUNEDB_LOG_FORMAT" in refused.stderr


def test_it_serves_gunicorn_with_the_project_logger():
    serve = (ROOT / "scripts" / "serve.sh").read_text()
    assert "--logger-class finetunedb.logs.GunicornLogger" in serve
