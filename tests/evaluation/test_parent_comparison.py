"""A DPO model trained from an SFT model is evaluated against that SFT model: SFT trained with a
suite named → DPO launched from it with no suite named (it inherits the parent's) → its eval
run, the parent's run reused → the suite's LLM judge (a stub OpenAI-compatible server on
127.0.0.1, FINETUNEDB_JUDGES) judges the two pairwise with both orders drawn per item → the
model page shows the held-out pair accuracy and margin next to the judge's win rate against the
parent with its interval, and a human blind review of the same two runs adds its own."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from evaluation.auto_models import AutoEval
from evaluation.evaluators.judge import pairwise_order
from evaluation.judged_models import JudgedComparison
from evaluation.models import EvalResult, EvalRun
from evaluation.services import execute as eval_execute
from evaluation.services.judged import judged_comparisons_after_run
from evaluation.services.judging import judged_comparison_execute
from tests.training.test_preference_chain import HYPER, pairs_version, quiet  # noqa: F401
from training.models import ModelArtifact

pytestmark = pytest.mark.django_db

GARBLED_ITEM = "Tom has 11 apples"  # the stub answers this item's prompt with prose


class AlwaysFirst(BaseHTTPRequestHandler):
    """A judge that always picks the answer shown as A (prose for one item) and keeps the
    pairwise prompts it was asked; it scores single answers 4 of 5."""

    asked: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = body["messages"][-1]["content"]
        if "Answer A:" not in text:  # a run's own llm_judge score of one answer
            verdict = json.dumps({"score": 4, "reason": "fine"})
        elif GARBLED_ITEM in text:
            verdict = "A is better, I think."
        else:
            verdict = json.dumps({"winner": "A", "reason": "first"})
        if "Answer A:" in text:
            AlwaysFirst.asked.append(text)
        reply = {"choices": [{"index": 0, "message": {"role": "assistant", "content": verdict}}]}
        payload = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def judge_server(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), AlwaysFirst)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    AlwaysFirst.asked = []
    settings.FINETUNEDB_JUDGES = {
        "stub": {
            "base_url": f"http://127.0.0.1:{server.server_port}/v1",
            "api_key": "sk-test",
            "model": "judge-model",
            "timeout": 5,
        }
    }
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def judged_suite(make_suite, judge_server):
    return make_suite(
        name="judged gsm",
        evaluators=[
            {"type": "final_number"},
            {"type": "llm_judge", "params": {"rubric": "Which answer is right?", "judge": "stub"}},
        ],
    )


def _train(api, version, body, capture):
    from training.services import execute

    response = api.post(f"/api/v1/versions/{version.pk}/training-runs/", body, format="json")
    assert response.status_code == 201, response.json()
    with capture(execute=True):  # the after-training hook: automatic evaluation starts
        execute.training_run_execute(run_id=response.json()["id"])
    return ModelArtifact.objects.get(run_id=response.json()["id"])


def _evaluate_queued():
    for run in EvalRun.objects.filter(status="queued"):
        EvalRun.objects.filter(pk=run.pk).update(max_new_tokens=3)
        eval_execute.eval_run_execute(run_id=run.pk)


def _judge_queued():
    """What the training worker does with the judging jobs the eval runs asked for."""
    for pk in JudgedComparison.objects.filter(status="queued").values_list("pk", flat=True):
        judged_comparison_execute(comparison_id=pk)


def test_it_judges_a_dpo_model_against_the_sft_model_it_started_from(
    api_for, owner, client, gsm_version, judged_suite, pairs_version, eval_settings,  # noqa: F811
    tiny_model_dir, judge_server, quiet, no_enqueue, django_capture_on_commit_callbacks,  # noqa: F811
):  # fmt: skip
    api = api_for(owner)
    sft = _train(
        api,
        gsm_version,
        {
            "base_model": str(tiny_model_dir),
            "hyperparameters": HYPER,
            "eval_suites": [judged_suite.pk],
        },
        django_capture_on_commit_callbacks,
    )
    _evaluate_queued()  # the SFT model's and the base's runs
    assert not JudgedComparison.objects.exists()  # SFT has no parent: nothing to judge

    # DPO from the SFT model, naming no suite: it is evaluated where its parent was
    dpo = _train(
        api,
        pairs_version,
        {"method": "dpo", "start_from_model": sft.pk, "hyperparameters": HYPER},
        django_capture_on_commit_callbacks,
    )
    auto = AutoEval.objects.get(training_run=dpo.run)
    assert auto.suite_id == judged_suite.pk and auto.started
    assert f"the suites the parent model {sft.pk} was evaluated on" in auto.note
    assert f"parent model {sft.pk} already has run" in auto.note
    queued = EvalRun.objects.filter(status="queued")
    assert [r.model_id for r in queued] == [dpo.pk]  # the base's and the parent's are reused
    from training.services import evaluation

    evaluation.model_evaluate(model_id=dpo.pk)  # the held-out pairs
    _evaluate_queued()
    queued = JudgedComparison.objects.get()  # asked for, judged by its own job
    assert (queued.status, queued.total, queued.verdicts) == ("queued", 5, [])
    _judge_queued()

    comparison = JudgedComparison.objects.get()
    new_run = EvalRun.objects.get(model=dpo)
    parent_run = EvalRun.objects.get(model=sft)
    assert (comparison.run, comparison.against) == (new_run, parent_run)
    assert comparison.status == "succeeded" and comparison.judge == "stub"
    # the stub always picks A: the DPO model wins exactly where its answer was drawn to be A
    items = {r.entry_id: r.position for r in EvalResult.objects.filter(run=new_run)}
    assert len(comparison.verdicts) == len(items) == 5
    garbled = [p for p, q in enumerate(AlwaysFirst.asked) if GARBLED_ITEM in q]
    assert len(AlwaysFirst.asked) == 5 and len(garbled) == 1
    for v in comparison.verdicts:
        assert v["swapped"] == pairwise_order(comparison.seed, str(v["position"]))
    decisive = [v for v in comparison.verdicts if v["winner"] is not None]
    assert len(decisive) == 4
    assert all(v["winner"] == ("against" if v["swapped"] else "run") for v in decisive)
    summary = comparison.summary
    wins = sum(1 for v in decisive if not v["swapped"])
    assert (summary["wins"], summary["losses"], summary["errors"]) == (wins, 4 - wins, 1)
    assert summary["win_rate"] == wins / 4 and summary["n"] == 4
    assert summary["ci_low"] <= summary["win_rate"] <= summary["ci_high"]
    assert summary["position_bias"]["rate"] == 1.0
    # what the judge saw: both answers and the rubric, the DPO model's as A where not swapped
    prompt = AlwaysFirst.asked[0]
    assert "Which answer is right?" in prompt and "Answer A:" in prompt and "Answer B:" in prompt
    judged_comparisons_after_run(run_id=new_run.pk)  # a redelivery judges nothing again
    assert len(AlwaysFirst.asked) == 5 and JudgedComparison.objects.count() == 1

    client.force_login(owner)
    page = client.get(f"/models/{dpo.pk}/").content.decode()
    assert f'data-parent-comparison="{sft.pk}"' in page
    dpo.refresh_from_db()
    accuracy = dpo.eval_results["preference"]["reward_accuracy"]
    assert f'data-pair="reward_accuracy">{100 * accuracy:.1f} %<' in page
    lo, hi = 100 * summary["ci_low"], 100 * summary["ci_high"]
    assert f"{100 * wins / 4:.1f} % [{lo:.1f} %, {hi:.1f} %] (n=4)" in page
    assert "1 without a verdict" in page
    assert f"Start a blind review against model {sft.pk}" in page

    # the human blind review of the same two runs, started from that button
    created = client.post(f"/evals/runs/{new_run.pk}/pairwise/", {"against": parent_run.pk})
    assert created.status_code == 302
    from evaluation.pairwise_models import PairwiseReview
    from evaluation.services.pairwise import pairwise_item_next, pairwise_judge

    review = PairwiseReview.objects.get(run=new_run, against=parent_run)
    item = pairwise_item_next(user=owner, review=review)
    shown_a = "b" if item.swapped else "a"  # the DPO model's answer, wherever it is shown
    pairwise_judge(user=owner, review=review, item_id=item.pk, winner=shown_a)
    page = client.get(f"/models/{dpo.pk}/").content.decode()
    human = page[page.index("data-human-win-rate") :]
    assert "100.0 % [" in human[:200] and "(n=1)" in human[:200]
    assert "1 of 5 items judged" in human


def test_it_says_what_a_suite_without_a_judge_needs(
    api_for, owner, client, gsm_version, suite, pairs_version, eval_settings, tiny_model_dir,  # noqa: F811
    quiet, no_enqueue, django_capture_on_commit_callbacks,  # noqa: F811
):  # fmt: skip
    api = api_for(owner)
    sft = _train(
        api,
        gsm_version,
        {"base_model": str(tiny_model_dir), "hyperparameters": HYPER, "eval_suites": [suite.pk]},
        django_capture_on_commit_callbacks,
    )
    _evaluate_queued()
    dpo = _train(
        api,
        pairs_version,
        {"method": "dpo", "start_from_model": sft.pk, "hyperparameters": HYPER,
         "eval_suites": [suite.pk]},
        django_capture_on_commit_callbacks,
    )  # fmt: skip
    _evaluate_queued()
    assert not JudgedComparison.objects.exists()
    client.force_login(owner)
    page = client.get(f"/models/{dpo.pk}/").content.decode()
    assert "the suite has no llm_judge evaluator" in page
    assert 'data-parent-metric="format"' in page and "Δ" in page
    # the SFT model's own page has no such panel: it started from the base
    assert "data-parent-comparison" not in client.get(f"/models/{sft.pk}/").content.decode()
