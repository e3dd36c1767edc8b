"""finetunedb.logs as a pure unit: one line per record, exact text back, no secrets (C51)."""

import io
import json
import logging
from datetime import timedelta

import pytest
from gunicorn.config import Config
from hypothesis import given
from hypothesis import strategies as st

from finetunedb.logs import (
    REDACTED,
    GunicornLogger,
    JsonFormatter,
    TextFormatter,
    escape_text,
    formatter_for,
    log_context,
    log_context_bind,
    log_context_fields,
    log_context_reset,
    request_id_accept,
    request_id_new,
)

FORGED = "\n[CRITICAL] fake"
HOSTILE = [
    "prompt" + FORGED,
    "one\r\ntwo",
    "red \x1b[31mALERT\x1b[0m",
    "nul\x00byte",
    "lone \ud800 surrogate",
    "line\u2028separator\u2029paragraph",
    "next\x85line and csi\x9b2J",
    "bidi \u202etxt.exe",
    "back\\slash\\n literal",
]
# Every character, surrogates included (hypothesis leaves them out by default).
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()))


def record(msg, *args, exc_info=None, **extra):
    rec = logging.LogRecord(
        "datasets_app.imports", logging.WARNING, __file__, 1, msg, args, exc_info
    )
    rec.__dict__.update(extra)
    return rec


def one_line(text: str) -> str:
    assert len(text.splitlines()) == 1, text
    assert "\n" not in text and "\r" not in text
    return text


def json_line(rec) -> dict:
    return json.loads(one_line(JsonFormatter().format(rec)))


@pytest.mark.parametrize("text", HOSTILE)
def test_it_writes_hostile_text_as_one_json_line_with_the_exact_message(text):
    out = json_line(record("example %s failed", text))
    assert out["message"] == f"example {text} failed"
    assert out["level"] == "WARNING"
    assert out["logger"] == "datasets_app.imports"
    assert out["ts"].endswith("Z") and "T" in out["ts"]


@given(ANY_TEXT)
def test_it_keeps_any_text_on_one_json_line_that_round_trips(text):
    assert json_line(record(text))["message"] == text


@given(ANY_TEXT)
def test_it_keeps_any_text_on_one_text_line_without_control_characters(text):
    line = one_line(TextFormatter().format(record("name=%s", text)))
    assert not any(ord(c) < 0x20 and c != "\t" or 0x7F <= ord(c) <= 0x9F for c in line)
    assert "\u2028" not in line and "\u2029" not in line


def test_it_never_lets_a_forged_line_start_in_text_format():
    line = one_line(TextFormatter().format(record("dataset %s", "x" + FORGED)))
    assert "x\\n[CRITICAL] fake" in line
    assert not line.startswith("[CRITICAL]")


def test_it_escapes_the_backslash_so_text_escapes_are_unambiguous():
    assert escape_text("a\nb") != escape_text("a\\nb")
    assert escape_text("a\\nb") == "a\\\\nb"


def test_it_writes_the_exception_as_one_escaped_string():
    try:
        raise RuntimeError("bad row" + FORGED)
    except RuntimeError:
        import sys

        out = json_line(record("import crashed", exc_info=sys.exc_info()))
    assert out["exception"].startswith("Traceback (most recent call last):")
    assert out["exception"].endswith("RuntimeError: bad row" + FORGED)


def test_it_writes_serialisable_extras_as_they_are_and_others_as_repr():
    out = json_line(record("x", job_id=7, counts={"ok": 3}, tags={"b"}, path_obj=object()))
    assert out["job_id"] == 7
    assert out["counts"] == {"ok": 3}
    assert out["tags"] == "{'b'}"
    assert out["path_obj"].startswith("<object object at")


def test_it_never_lets_extras_override_the_record_fields():
    out = json_line(record("real", level="CRITICAL", logger="forged", ts="1970"))
    assert (out["level"], out["logger"], out["message"]) == (
        "WARNING",
        "datasets_app.imports",
        "real",
    )
    assert out["ts"] != "1970"


def test_it_redacts_secret_keys_in_extras_at_any_depth():
    out = json_line(
        record(
            "x",
            password="hunter2",
            headers={"Authorization": "Token abc", "Cookie": "sessionid=s", "Accept": "*/*"},
            forms=[{"csrfmiddlewaretoken": "c", "new_password": "p2"}],
            max_tokens=512,
        )
    )
    assert out["password"] == REDACTED
    assert out["headers"] == {"Authorization": REDACTED, "Cookie": REDACTED, "Accept": "*/*"}
    assert out["forms"] == [{"csrfmiddlewaretoken": REDACTED, "new_password": REDACTED}]
    assert out["max_tokens"] == 512


def test_it_redacts_api_token_values_wherever_they_appear():
    raw = "ftdb_" + "Ab3-_x" * 7
    out = json_line(record("auth with %s", raw, note=f"token was {raw}"))
    assert raw not in json.dumps(out)
    assert out["message"] == f"auth with {REDACTED}"


def test_it_drops_the_request_object_django_passes_as_extra():
    class Request:
        def __repr__(self):
            return "<WSGIRequest: GET '/api/v1/me/?token=secret'>"

    out = json_line(record("Unauthorized: /api/v1/me/", request=Request(), status_code=401))
    assert "request" not in out and "secret" not in json.dumps(out)
    assert out["status_code"] == 401


def test_it_adds_the_bound_context_and_resolves_callables_when_formatting():
    user = {"id": None}
    with log_context(request_id="r-1", method="GET", path="/x", user_id=lambda: user["id"]):
        assert "user_id" not in json_line(record("before auth"))
        user["id"] = 42
        out = json_line(record("after auth"))
    assert (out["request_id"], out["method"], out["path"], out["user_id"]) == (
        "r-1",
        "GET",
        "/x",
        42,
    )
    assert "request_id" not in json_line(record("outside"))


def test_it_survives_a_context_callable_that_raises():
    def broken():
        raise LookupError("no user")

    with log_context(user_id=broken, request_id="r-2"):
        out = json_line(record("still logged"))
    assert out["request_id"] == "r-2" and "user_id" not in out


def test_it_restores_the_outer_context_on_reset():
    outer = log_context_bind(task_id="t-1")
    inner = log_context_bind(request_id="r-3")
    assert log_context_fields() == {"task_id": "t-1", "request_id": "r-3"}
    log_context_reset(inner)
    assert log_context_fields() == {"task_id": "t-1"}
    log_context_reset(outer)
    assert log_context_fields() == {}


@pytest.mark.parametrize("value", ["abc", "0f3c-77:trace.1", "A" * 64])
def test_it_accepts_sane_request_ids(value):
    assert request_id_accept(value) == value


@pytest.mark.parametrize("value", [None, "", "a" * 65, "a\nb", "a b", "-lead", "é", "a;b"])
def test_it_refuses_other_request_ids(value):
    assert request_id_accept(value) is None


@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=80))
def test_it_only_accepts_request_ids_that_are_short_and_plain(value):
    accepted = request_id_accept(value)
    if accepted is not None:
        assert len(accepted) <= 64 and accepted.isascii() and accepted.isprintable()
        assert " " not in accepted


def test_it_generates_distinct_acceptable_request_ids():
    ids = {request_id_new() for _ in range(50)}
    assert len(ids) == 50 and all(request_id_accept(i) == i for i in ids)


def test_it_names_its_formats_and_refuses_others():
    assert isinstance(formatter_for("json"), JsonFormatter)
    assert isinstance(formatter_for("text"), TextFormatter)
    with pytest.raises(ValueError, match="xml"):
        formatter_for("xml")


class FakeResponse:
    status = "200 OK"
    sent = 1234
    headers = [("Content-Type", "application/json"), ("X-Request-ID", "req-9")]


def gunicorn_logger(monkeypatch, fmt="json"):
    monkeypatch.setenv("FINETUNEDB_LOG_FORMAT", fmt)
    cfg = Config()
    cfg.set("accesslog", "-")
    logger = GunicornLogger(cfg)
    stream = io.StringIO()
    for handler in logger.access_log.handlers + logger.error_log.handlers:
        if getattr(handler, "_gunicorn", False):  # pytest adds its own capture handlers
            handler.setStream(stream)
    return logger, stream


def test_it_writes_gunicorn_access_lines_as_json_without_the_query_string(monkeypatch):
    logger, stream = gunicorn_logger(monkeypatch)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": "/api/v1/me/" + FORGED,
        "QUERY_STRING": "token=ftdb_secret",
        "RAW_URI": "/api/v1/me/?token=ftdb_secret",
        "REMOTE_ADDR": "10.0.0.1",
        "HTTP_USER_AGENT": "curl\r\n[CRITICAL] ua",
    }
    logger.access(FakeResponse(), None, environ, timedelta(milliseconds=12))
    text = stream.getvalue()
    out = json.loads(one_line(text.rstrip("\n")))
    assert "token" not in text
    assert out["message"] == f"GET /api/v1/me/{FORGED} 200"
    assert (out["status"], out["bytes"], out["request_id"]) == (200, 1234, "req-9")
    assert out["user_agent"] == "curl\r\n[CRITICAL] ua" and out["duration_ms"] == 12.0


def test_it_formats_gunicorn_errors_in_the_chosen_format(monkeypatch):
    logger, stream = gunicorn_logger(monkeypatch, fmt="text")
    logger.error("worker %s" + FORGED, "7")
    line = one_line(stream.getvalue().rstrip("\n"))
    assert " ERROR   gunicorn.error: worker 7\\n[CRITICAL] fake" in line


def test_it_takes_the_request_context_django_attaches_to_its_own_records():
    class Request:
        log_context = {"request_id": "r-7", "user_id": 3, "path": "/x"}

    out = json_line(record("Not Found: /x", request=Request(), status_code=404))
    assert (out["request_id"], out["user_id"], out["status_code"]) == ("r-7", 3, 404)
