"""Repetition-aware decoding on eval runs (issue 24): repetition_penalty and
no_repeat_ngram_size, validated, passed to generation, reported apart from plain greedy runs,
and refused where runs generate through the serving engine, which cannot apply them."""

import pytest

from evaluation.models import EvalResult, EvalRun
from evaluation.services import execute

pytestmark = pytest.mark.django_db


@pytest.fixture
def start(api_for, owner, suite, eval_settings, tiny_model_dir, no_enqueue):
    def post(**body):
        body.setdefault("base_model", str(tiny_model_dir))
        body.setdefault("max_new_tokens", 16)
        return api_for(owner).post(f"/api/v1/eval-suites/{suite.pk}/runs/", body, format="json")

    return post


def test_it_reports_a_repetition_aware_run_apart_from_the_greedy_one(start, api_for, owner):
    from transformers import AutoTokenizer

    greedy = start().json()
    aware = start(repetition_penalty=1.3, no_repeat_ngram_size=2)
    assert aware.status_code == 202, aware.json()
    aware = aware.json()
    assert greedy["decoding"] == "greedy"
    assert aware["decoding"] == "greedy+repetition_penalty=1.3,no_repeat_ngram_size=2"
    assert (aware["repetition_penalty"], aware["no_repeat_ngram_size"]) == (1.3, 2)
    for run in (greedy, aware):
        execute.eval_run_execute(run_id=run["id"])
        done = api_for(owner).get(f"/api/v1/eval-runs/{run['id']}/").json()
        assert done["status"] == "succeeded", done["failure_reason"]
    outputs = {
        run["id"]: list(
            EvalResult.objects.filter(run_id=run["id"])
            .order_by("position")
            .values_list("output", flat=True)
        )
        for run in (greedy, aware)
    }
    assert outputs[greedy["id"]] != outputs[aware["id"]]
    tokenizer = AutoTokenizer.from_pretrained(EvalRun.objects.get(pk=aware["id"]).base_model)
    for output in outputs[aware["id"]]:
        ids = tokenizer(output, add_special_tokens=False)["input_ids"]
        bigrams = list(zip(ids, ids[1:], strict=False))
        assert len(bigrams) == len(set(bigrams)), output


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"repetition_penalty": 0.5}, "repetition_penalty"),
        ({"repetition_penalty": 2.5}, "repetition_penalty"),
        ({"repetition_penalty": True}, "repetition_penalty"),
        ({"repetition_penalty": "1.2"}, "repetition_penalty"),
        ({"no_repeat_ngram_size": -1}, "no_repeat_ngram_size"),
        ({"no_repeat_ngram_size": 21}, "no_repeat_ngram_size"),
        ({"no_repeat_ngram_size": 2.0}, "no_repeat_ngram_size"),
    ],
)
def test_it_refuses_bad_repetition_settings_naming_the_field(start, body, path):
    response = start(**body)
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["path"] == path
    assert not EvalRun.objects.exists()


def test_it_refuses_repetition_options_when_runs_use_the_engine(start, monkeypatch):
    from serving import generation

    monkeypatch.setattr(generation, "engine_ready", lambda: True)
    response = start(no_repeat_ngram_size=3)
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["path"] == "no_repeat_ngram_size"
    assert "serving engine" in body["detail"]
    assert not EvalRun.objects.exists()
    assert start().status_code == 202  # plain decoding still goes to the engine
