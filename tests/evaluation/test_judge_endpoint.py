"""The llm_judge on an administrator-configured OpenAI-compatible endpoint (FINETUNEDB_JUDGES),
against a stub server on 127.0.0.1: scores parsed strictly, timeouts and garbage → judge_error."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evaluation.models import EvalResult, EvalRun, EvalSuite
from evaluation.services import execute
from evaluation.services.judges import judge_endpoint_answers

pytestmark = pytest.mark.django_db

SCORE_5 = '{"score": 5, "reason": "right"}'


def completion(content):
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}


class Judge(BaseHTTPRequestHandler):
    seen: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Judge.seen.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        asked = body["messages"][-1]["content"]
        if "Tom has 9 apples" in asked or "slow" in asked:
            time.sleep(1.0)
        if "Tom has 10 apples" in asked or "garbage" in asked:
            return self._send(200, b"<html>gateway</html>")
        if "http" in asked:
            return self._send(502, b"{}")
        self._send(200, json.dumps(completion(SCORE_5)).encode())

    def _send(self, status, payload):
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass  # the client gave up (timeout)


@pytest.fixture
def judge_server(settings, monkeypatch):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Judge)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Judge.seen = []
    monkeypatch.setenv("STUB_JUDGE_KEY", "sk-judge")
    settings.FINETUNEDB_JUDGES = {
        "stub": {
            "base_url": f"http://127.0.0.1:{server.server_port}/v1",
            "api_key_env": "STUB_JUDGE_KEY",
            "model": "judge-model",
            "timeout": 0.3,
        }
    }
    yield server
    server.shutdown()
    server.server_close()


def ask(text):
    return [{"role": "user", "content": text}]


def test_it_asks_the_endpoint_with_the_administrators_key_and_model(judge_server):
    answers = judge_endpoint_answers("stub", [ask("fine"), ask("also fine")], max_tokens=7)
    assert answers == [(SCORE_5, ""), (SCORE_5, "")]
    assert {s["path"] for s in Judge.seen} == {"/v1/chat/completions"}
    assert {s["auth"] for s in Judge.seen} == {"Bearer sk-judge"}
    assert {(s["model"], s["max_tokens"], s["temperature"]) for s in Judge.seen} == {
        ("judge-model", 7, 0)
    }


def test_it_names_why_each_call_gave_no_answer(judge_server):
    answers = judge_endpoint_answers(
        "stub", [ask("slow"), ask("garbage"), ask("http"), ask("ok")], max_tokens=4
    )
    assert answers[0] == (None, "the judge endpoint 'stub' timed out after 0.3 s")
    assert answers[1] == (None, "the judge endpoint 'stub' did not answer with a chat completion")
    assert answers[2] == (None, "the judge endpoint 'stub' answered HTTP 502")
    assert answers[3] == (SCORE_5, "")


def test_it_names_an_unreachable_endpoint(settings):
    settings.FINETUNEDB_JUDGES = {
        "gone": {"base_url": "http://127.0.0.1:9/v1", "model": "m", "timeout": 0.5}
    }
    [(answer, why)] = judge_endpoint_answers("gone", [ask("x")], max_tokens=4)
    assert answer is None and why.startswith("the judge endpoint 'gone' could not be reached")


def test_it_lets_a_suite_name_an_endpoint_judge_and_refuses_an_unknown_one(
    judge_server, api_for, owner, team, gsm_version
):
    def post(judge):
        return api_for(owner).post(
            "/api/v1/eval-suites/",
            {
                "team": team.pk,
                "name": f"judged by {judge}",
                "version": gsm_version.pk,
                "evaluators": [{"type": "llm_judge", "params": {"rubric": "Ok?", "judge": judge}}],
            },
            format="json",
        )

    assert post("stub").status_code == 201
    refused = post("http://evil.example/v1")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["path"] == "evaluators[0].params.judge"
    assert "stub" in refused.json()["errors"][0]["message"]
    assert EvalSuite.objects.count() == 1


def test_it_scores_a_run_with_the_endpoint_and_marks_timeouts_judge_error(
    judge_server, api_for, owner, make_suite, eval_settings, tiny_model_dir, no_enqueue
):
    suite = make_suite(
        name="judged",
        evaluators=[{"type": "llm_judge", "params": {"rubric": "Correct?", "judge": "stub"}}],
    )
    run_id = (
        api_for(owner)
        .post(
            f"/api/v1/eval-suites/{suite.pk}/runs/",
            {"base_model": str(tiny_model_dir), "max_new_tokens": 3},
            format="json",
        )
        .json()["id"]
    )
    execute.eval_run_execute(run_id=run_id)
    run = EvalRun.objects.get(pk=run_id)
    assert run.status == "succeeded", run.failure_reason
    metric = run.metrics["evaluators"]["llm_judge"]
    assert metric["n"] == 3 and metric["mean"] == 1.0
    assert metric["errors"] == 2 and metric["error_reasons"] == {"judge_error": 2}
    whys = sorted(
        r.scores["llm_judge"]["detail"].get("why", "")
        for r in EvalResult.objects.filter(run=run)
        if r.scores["llm_judge"]["value"] is None
    )
    assert whys == [
        "the judge endpoint 'stub' did not answer with a chat completion",
        "the judge endpoint 'stub' timed out after 0.3 s",
    ]
