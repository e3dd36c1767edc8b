"""Several LoRA adapters of one base in one batch, on the tiny model with two random (non-zero)
adapters: each request's greedy answer in the mixed batch is the one it gets decoded alone with
its adapter (peft's single-adapter path, ``generate``), and the store never holds more adapters
than its bound, unloading only adapters no running row uses."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import torch

from serving.engine.backend import TorchBackend
from serving.engine.models import BASE_ROW, ModelRefused, ModelStore
from serving.engine.scheduler import Params, Scheduler
from tests.serving.conftest import build_adapter
from training.recipe.config import BUNDLED_BASE_MODEL

QUESTIONS = [
    "Write one long sentence about the sea and the ships on it, please.",
    "Hi.",
    "Name a colour.",
    "What is two plus two?",
    "Say something kind.",
]


@pytest.fixture(scope="module")
def adapters(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("mixed-models")
    return root, [
        str(build_adapter(tiny_model_dir, root / "runs" / str(n) / "model" / "weights", 10 + n))
        for n in (1, 2, 3)
    ]


class SteppedBackend(TorchBackend):
    """The real backend, calling ``hook(step)`` before each decode step."""

    hook = staticmethod(lambda step: None)

    @contextlib.contextmanager
    def open(self, base):
        with super().open(base) as (batch, tokenizer, eos):
            steps, step = [0], batch.step

            def hooked(tokens):
                steps[0] += 1
                self.hook(steps[0])
                return step(tokens)

            batch.step = hooked
            yield batch, tokenizer, eos


def alone(loaded, prompt: list[int], adapter: str | None, max_tokens: int) -> list[int]:
    """The request decoded on its own: ``generate`` with its adapter set active (or the
    adapters disabled for the base)."""
    model = loaded.model
    if adapter is None:
        plain = model.disable_adapter()
    else:
        model.set_adapter(next(k for k, v in loaded.adapters.items() if v == adapter))
        plain = contextlib.nullcontext()
    ids = torch.tensor([prompt])
    with plain, torch.no_grad():
        out = model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens,
            do_sample=False, pad_token_id=loaded.tokenizer.pad_token_id,
        )  # fmt: skip
    return out[0, ids.shape[1] :].tolist()


def test_it_gives_each_row_of_a_mixed_batch_the_answer_its_adapter_gives_alone(
    tiny_model_dir, adapters
):
    root, (one, two, _) = adapters
    store = ModelStore(models_dir=root, allowed_bases=[tiny_model_dir], max_adapters=2)
    backend = SteppedBackend(store)
    scheduler = Scheduler(store, backend=backend, max_batch=8, window_s=0.5)

    def ask(question, adapter, max_tokens):
        return scheduler.prepare(
            base=str(tiny_model_dir), adapter=adapter,
            messages=[{"role": "user", "content": question}],
            params=Params(max_tokens=max_tokens, temperature=0),
        )  # fmt: skip

    # The base starts alone (a plain model), the adapters arrive mid-batch (the first one
    # turns the base into a peft model under the running row), the longest prompt leaves first.
    together = [ask(QUESTIONS[0], None, 10), ask(QUESTIONS[1], None, 16)]
    late = [ask(QUESTIONS[2], one, 16), ask(QUESTIONS[3], two, 14), ask(QUESTIONS[4], one, 12)]
    backend.hook = lambda step: step == 3 and [scheduler.submit(r) for r in late]
    for r in together:
        scheduler.submit(r)
    answers = [collect(r) for r in [*together, *late]]
    assert scheduler.stats["batches"] == 1 and scheduler.stats["joined"] == 3
    assert scheduler.stats["mixed_steps"] > 0
    loaded = store.base(str(Path(tiny_model_dir).resolve()))
    assert sorted(loaded.adapters.values()) == sorted([one, two])
    for r, (text, done) in zip([*together, *late], answers, strict=True):
        expected = alone(loaded, r.prompt, r.adapter, r.params.max_tokens)
        assert text == loaded.tokenizer.decode(expected, skip_special_tokens=True)
        assert done["completion_tokens"] == len(expected) - (done["finish_reason"] == "stop")
    # The adapters are not no-ops: each changes the answer the base gives the same prompt.
    for r in late:
        assert alone(loaded, r.prompt, r.adapter, 12) != alone(loaded, r.prompt, None, 12)


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


def test_it_unloads_the_least_recently_used_adapter_no_running_row_uses(tiny_model_dir, adapters):
    root, (one, two, three) = adapters
    store = ModelStore(models_dir=root, allowed_bases=[tiny_model_dir], max_adapters=2)
    loaded = store.base(str(Path(tiny_model_dir).resolve()))
    first = store.adapter_names(loaded, [one, None, two], keep=set())
    assert first[1] == BASE_ROW and len(set(first)) == 3
    # ``one`` is the least recently used, but a running row uses it: ``two`` goes instead.
    store.adapter_names(loaded, [three], keep={first[0], BASE_ROW})
    assert list(loaded.adapters.values()) == [one, three]
    assert (store.adapter_loads, store.adapter_evictions) == (3, 1)
    assert set(loaded.model.peft_config) == set(loaded.adapters)


def test_it_refuses_a_batch_needing_more_adapters_than_the_bound(tiny_model_dir, adapters):
    root, (one, two, three) = adapters
    store = ModelStore(models_dir=root, allowed_bases=[tiny_model_dir], max_adapters=1)
    loaded = store.base(str(Path(tiny_model_dir).resolve()))
    with pytest.raises(RuntimeError, match="asked for 2 adapters at once; at most 1"):
        store.adapter_names(loaded, [one, two], keep=set())
    assert store.adapter_loads == 0 and not loaded.adapters
    name = store.adapter_names(loaded, [one], keep=set())[0]
    with pytest.raises(RuntimeError, match="asked for 2 adapters"):
        store.adapter_names(loaded, [three], keep={name})
    assert list(loaded.adapters.values()) == [one]
    with pytest.raises(ValueError, match="max_adapters must be at least 1"):
        ModelStore(models_dir=root, allowed_bases=[], max_adapters=0)


def test_it_refuses_a_dora_adapter_which_peft_cannot_batch_with_others(tmp_path):
    folder = tmp_path / "runs" / "9" / "model" / "weights"
    folder.mkdir(parents=True)
    (folder / "adapter_config.json").write_text('{"peft_type": "LORA", "use_dora": true}')
    store = ModelStore(models_dir=tmp_path, allowed_bases=[])
    with pytest.raises(ModelRefused, match="DoRA adapter"):
        store.check(BUNDLED_BASE_MODEL, str(folder))
