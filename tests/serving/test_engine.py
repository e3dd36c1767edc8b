"""The engine without Django or HTTP: batched answers equal ``model.generate`` one by one, stop
strings, seeds, the queue bound and the per-team cap, and the layer rule (no Django imports)."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from serving.engine.decoding import StopCutter
from serving.engine.models import ModelRefused, ModelStore
from serving.engine.scheduler import Busy, Params, PromptTooLong, Scheduler, TeamBusy
from training.recipe.config import BUNDLED_BASE_MODEL

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = [
    "Hi.",
    "What is two plus two? Answer briefly.",
    "Name a colour.",
    "Write one long sentence about the sea.",
]


@pytest.fixture(scope="module")
def scheduler(tiny_model_dir, tmp_path_factory):
    store = ModelStore(models_dir=tmp_path_factory.mktemp("m"), allowed_bases=[tiny_model_dir])
    return Scheduler(store, max_batch=8, max_queue=3, team_concurrency=2, window_s=0.05)


def ask(scheduler, base, question, team="t", **params):
    request = scheduler.prepare(
        base=str(base), adapter=None, messages=[{"role": "user", "content": question}],
        params=Params(**{"temperature": 0, **params}),
    )  # fmt: skip
    request.team = team
    return request


def collect(request) -> tuple[str, dict]:
    parts = []
    while True:
        kind, value = request.events.get(timeout=60)
        if kind == "delta":
            parts.append(value)
        elif kind == "done":
            return "".join(parts), value
        else:
            raise AssertionError(value)


def test_it_batches_concurrent_requests_into_the_answers_generate_gives_alone(
    scheduler, tiny_model_dir
):
    requests = [
        ask(scheduler, tiny_model_dir, q, team=str(i), max_tokens=5 + i)
        for i, q in enumerate(QUESTIONS[:3])
    ]
    batches = scheduler.stats["batches"]
    for r in requests:
        scheduler.submit(r)
    answers = [collect(r) for r in requests]
    assert scheduler.stats["batches"] == batches + 1  # all three decoded together
    loaded = scheduler.store.base(str(Path(tiny_model_dir).resolve()))
    for r, (text, done) in zip(requests, answers, strict=True):
        ids = torch.tensor([r.prompt])
        out = loaded.model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=r.params.max_tokens,
            do_sample=False, pad_token_id=loaded.tokenizer.pad_token_id,
        )  # fmt: skip
        expected = loaded.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
        assert text == expected
        assert done["completion_tokens"] == r.params.max_tokens


def test_it_cuts_the_answer_at_a_stop_string(scheduler, tiny_model_dir):
    text, _ = collect(scheduler.submit(ask(scheduler, tiny_model_dir, "Hi.", max_tokens=12)))
    assert len(text) > 6
    stop = text[len(text) // 2 : len(text) // 2 + 2]
    cut, done = collect(
        scheduler.submit(ask(scheduler, tiny_model_dir, "Hi.", max_tokens=12, stop=[stop]))
    )
    assert done["finish_reason"] == "stop"
    assert cut == text[: text.index(stop)]


def test_it_samples_the_same_answer_for_the_same_seed_in_any_batch(scheduler, tiny_model_dir):
    alone = collect(
        scheduler.submit(ask(scheduler, tiny_model_dir, "Hi.", max_tokens=8, temperature=1, seed=3))
    )
    pair = [
        ask(scheduler, tiny_model_dir, q, team=q, max_tokens=8, temperature=1, seed=3)
        for q in ("Hi.", "Name a colour.")
    ]
    for r in pair:
        scheduler.submit(r)
    assert collect(pair[0])[0] == alone[0]
    collect(pair[1])


def test_it_refuses_past_the_queue_bound_and_the_team_cap(scheduler, tiny_model_dir):
    long = [ask(scheduler, tiny_model_dir, "Hi.", team=f"x{i}", max_tokens=300) for i in range(3)]
    for r in long:
        scheduler.submit(r)
    with pytest.raises(Busy):
        scheduler.submit(ask(scheduler, tiny_model_dir, "Hi.", team="y"))
    for r in long:
        r.cancel()
        collect(r)
    mine = [ask(scheduler, tiny_model_dir, "Hi.", team="same", max_tokens=300) for _ in range(2)]
    for r in mine:
        scheduler.submit(r)
    with pytest.raises(TeamBusy):
        scheduler.submit(ask(scheduler, tiny_model_dir, "Hi.", team="same"))
    for r in mine:
        r.cancel()
        assert collect(r)[1]["finish_reason"] == "cancelled"


def test_it_refuses_what_it_was_not_started_to_serve(scheduler, tiny_model_dir, tmp_path):
    with pytest.raises(ModelRefused):
        ask(scheduler, "/etc", "Hi.")
    with pytest.raises(ModelRefused):
        scheduler.prepare(
            base=str(tiny_model_dir),
            adapter=str(tmp_path),
            messages=[{"role": "user", "content": "x"}],
            params=Params(),
        )
    with pytest.raises(PromptTooLong):
        ask(scheduler, tiny_model_dir, "Hi.", max_tokens=10_000)


def test_it_resolves_the_apps_relative_folders_against_its_own_models_folder(tmp_path):
    # The web names a model's folders relative to the models folder (serving.selectors): an
    # engine on the training machine finds them in its own folder, wherever the web's is.
    models = tmp_path / "engine-models"
    adapter = models / "runs" / "7" / "model" / "weights"
    adapter.mkdir(parents=True)
    (adapter / "adapter_config.json").write_text('{"peft_type": "LORA"}')
    merged = models / "runs" / "8" / "model" / "merged"
    merged.mkdir(parents=True)
    store = ModelStore(models_dir=models, allowed_bases=[])
    base, folder = store.check(BUNDLED_BASE_MODEL, "runs/7/model/weights")
    assert folder == str(adapter.resolve())
    assert store.check("runs/8/model/merged", None) == (str(merged.resolve()), None)
    for outside in ("../elsewhere", "runs/../../elsewhere", str(tmp_path)):
        with pytest.raises(ModelRefused):
            store.check(BUNDLED_BASE_MODEL, outside)
    with pytest.raises(ModelRefused):
        store.check("../../etc", None)


@given(st.text(max_size=40), st.lists(st.text(min_size=1, max_size=4), max_size=3), st.data())
def test_it_streams_deltas_that_add_up_to_the_text_before_the_first_stop(text, stops, data):
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), max_size=6)))
    cutter = StopCutter(stops)
    sent, stopped = "", False
    for end in [*cuts, len(text)]:
        delta, stopped = cutter.feed(text[:end], final=end == len(text))
        sent += delta
        if stopped:
            break
    hits = [text.find(s) for s in stops if s in text]
    # A stop string seen in a prefix already ends the answer there, which is the first in text.
    assert sent == text[: min(hits)] if hits else sent == text
    assert all(s not in sent for s in stops)


# The project's Django-free modules the engine may use: the object store's fetch and its
# configuration (tests/serving/test_engine_store.py imports the engine and finds no Django).
DJANGO_FREE = {"finetunedb.storage_fetch", "finetunedb.storage_config"}


def test_it_keeps_django_out_of_the_engine():
    for path in sorted((ROOT / "serving" / "engine").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
                if node.module == "finetunedb":
                    names = [f"finetunedb.{a.name}" for a in node.names]
            assert not any(
                n.split(".")[0] in ("django", "rest_framework", "finetunedb", "datasets_app")
                and n not in DJANGO_FREE
                for n in names
            ), path
    for module in DJANGO_FREE:
        path = ROOT / (module.replace(".", "/") + ".py")
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 1 or not (node.module or "").startswith("django"), path
                assert node.level == 0 or node.module in {m.split(".")[1] for m in DJANGO_FREE}
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("django") for a in node.names), path
    assert not threading.current_thread().daemon
