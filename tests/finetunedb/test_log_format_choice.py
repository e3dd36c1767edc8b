"""`make run` prints readable lines to a person at a terminal; deployments get JSON lines
(issue 16.10h)."""

import io
import json
import logging
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from finetunedb.logs import JsonFormatter, TextFormatter, log_format_choose

ROOT = Path(__file__).resolve().parents[2]


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_it_writes_text_when_a_terminal_reads_and_json_otherwise():
    assert log_format_choose(None, [Terminal()]) == "text"
    assert log_format_choose("auto", [io.StringIO(), Terminal()]) == "text"
    assert log_format_choose(None, [io.StringIO()]) == "json"
    assert log_format_choose("", [io.StringIO()]) == "json"


def test_an_explicit_format_wins_over_the_terminal():
    assert log_format_choose("json", [Terminal()]) == "json"
    assert log_format_choose("TEXT", [io.StringIO()]) == "text"
    with pytest.raises(ValueError, match="json, text, auto"):
        log_format_choose("xml", [Terminal()])


def test_a_closed_stream_counts_as_no_terminal():
    closed = io.StringIO()
    closed.close()
    assert log_format_choose(None, [closed]) == "json"


def _record(**extra):
    record = logging.LogRecord(
        "datasets_app.imports", logging.INFO, __file__, 1, "Imported %s examples", (5,), None
    )
    record.created = 1796592600.5  # 2026-12-06 21:30:00.5 UTC
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_the_text_line_reads_like_a_sentence_with_its_context_after():
    line = TextFormatter().format(_record(job_id=7))
    assert (
        line == "2026-12-06 21:30:00 INFO    datasets_app.imports: Imported 5 examples [job_id=7]"
    )
    assert json.loads(JsonFormatter().format(_record(job_id=7)))["message"] == "Imported 5 examples"


def _settings_format_on_a_terminal(log_format=None):
    env = {k: v for k, v in os.environ.items() if k != "FINETUNEDB_LOG_FORMAT"}
    env.update(SECRET_KEY="x7Gq2LmP9vRtY4wZb8NcKd3FhJs6AeUoIi1Ml5Xn0QyTzVrWpBg")
    if log_format is not None:
        env["FINETUNEDB_LOG_FORMAT"] = log_format
    leader, follower = pty.openpty()
    code = (
        "import sys, finetunedb.settings.dev as s; "
        "sys.__stdout__.write(s.LOGGING['handlers']['console']['formatter'] + '\\n')"
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=env,
            stdout=follower,
            stderr=follower,
            timeout=60,
        )
        os.close(follower)
        follower = None
        output = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    finally:
        if follower is not None:
            os.close(follower)
        os.close(leader)
    assert result.returncode == 0, output
    return output.decode().strip()


def test_a_process_started_at_a_terminal_logs_text_unless_told_json():
    assert _settings_format_on_a_terminal() == "text"
    assert _settings_format_on_a_terminal("json") == "json"


def test_make_run_asks_for_text_and_lets_a_deployment_choose_json():
    serve = (ROOT / "scripts" / "serve.sh").read_text()
    assert re.search(
        r'^export FINETUNEDB_LOG_FORMAT="\$\{FINETUNEDB_LOG_FORMAT:-text\}"$', serve, re.M
    )
