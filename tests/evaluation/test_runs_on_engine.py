"""An eval run generates through the serving engine when one is running: every item submitted
with its batch at once (the engine decodes them together), the same greedy outputs as the
in-process generation, stored and scored as usual."""

from __future__ import annotations

import pytest

from evaluation.models import EvalResult
from evaluation.services import execute
from tests.serving.conftest import engine, engine_health, served, serving_models_dir  # noqa: F401
from training.recipe.base_models import load_model, load_tokenizer
from training.recipe.evaluate import generate_batch

pytestmark = pytest.mark.django_db


def test_it_generates_an_eval_run_through_the_engine(
    served,  # noqa: F811
    engine,  # noqa: F811
    api_for,
    owner,
    suite,
    eval_settings,
    tiny_model_dir,
    no_enqueue,
):
    served.FINETUNEDB_EVAL_BATCH_SIZE = 5
    body = {"base_model": str(tiny_model_dir), "max_new_tokens": 6}
    response = api_for(owner).post(f"/api/v1/eval-suites/{suite.pk}/runs/", body, format="json")
    assert response.status_code == 202, response.json()
    before = engine_health(engine)
    execute.eval_run_execute(run_id=response.json()["id"])
    after = engine_health(engine)

    done = api_for(owner).get(f"/api/v1/eval-runs/{response.json()['id']}/").json()
    assert done["status"] == "succeeded", done["failure_reason"]
    assert after["batched_requests"] - before.get("batched_requests", 0) == 5
    assert after["batches"] - before.get("batches", 0) < 5  # submitted together, decoded together

    results = list(EvalResult.objects.order_by("position"))
    from evaluation.services.items import suite_items

    items = suite_items(suite)
    model = load_model(str(tiny_model_dir)).eval()
    expected = generate_batch(
        model, load_tokenizer(str(tiny_model_dir)), [i.messages for i in items], max_new_tokens=6
    )
    assert [r.output for r in results] == expected
