"""Continuous batching: the admission rule (pure), the scheduling on a model-free backend (a
request arriving mid-batch joins at the next step, finished and cancelled rows leave, another
adapter waits for the batch to drain, a failing step answers everyone), and on the tiny model:
requests that join a running batch get exactly the greedy answers ``generate`` gives alone."""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch
from hypothesis import given
from hypothesis import strategies as st

from serving.engine.admission import admit
from serving.engine.models import ModelStore
from serving.engine.scheduler import Params, Request, Scheduler, TorchBackend

VOCAB = 50


@given(
    st.lists(st.sampled_from("abc"), max_size=20),
    st.sampled_from("abc"),
    st.integers(-1, 10),
    st.booleans(),
)
def test_it_admits_only_the_batchs_pair_oldest_first_within_the_free_rows(
    keys, pair, free, joining
):
    chosen = admit(keys, pair=pair, free=free, joining=joining)
    assert len(chosen) <= max(free, 0)
    assert chosen == sorted(chosen)
    assert all(keys[i] == pair for i in chosen)
    if joining:
        # Never past a request of another pair: the batch drains and that one goes next.
        assert all(keys[i] == pair for i in range(max(chosen, default=-1) + 1))
    waiting = [i for i, k in enumerate(keys) if k == pair]
    if not joining:
        assert chosen == waiting[: max(free, 0)]


class FakeTokenizer:
    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(ord("a") + i % 26) for i in ids)


class FakeBatch:
    """A 'model' whose next token is the last one plus one: scheduling without weights."""

    def __init__(self, backend):
        self.backend = backend
        self.size = 0
        self.joinable = True

    def _logits(self, last: list[int]) -> torch.Tensor:
        out = torch.zeros((len(last), VOCAB))
        for row, token in enumerate(last):
            out[row, (token + 1) % VOCAB] = 1.0
        return out

    def add(self, prompts):
        self.size += len(prompts)
        self.backend.added.append(len(prompts))
        return self._logits([p[-1] for p in prompts])

    def step(self, tokens):
        assert len(tokens) == self.size
        self.backend.sizes.append(self.size)
        self.backend.hook(len(self.backend.sizes))
        return self._logits(tokens)

    def keep(self, rows):
        self.size = len(rows)


class FakeBackend:
    def __init__(self):
        self.sizes, self.added, self.opened = [], [], []
        self.hook = lambda step: None

    @contextlib.contextmanager
    def open(self, base, adapter):
        self.opened.append(adapter)
        yield FakeBatch(self), FakeTokenizer(), {VOCAB - 1}


def fake_scheduler(**kwargs):
    backend = FakeBackend()
    options = {"max_batch": 4, "max_queue": 8, "team_concurrency": 8, "window_s": 0, **kwargs}
    return Scheduler(None, backend=backend, **options), backend


def request(start: int, max_tokens: int, adapter=None, team="t") -> Request:
    return Request(
        base="b",
        adapter=adapter,
        prompt=[start],
        params=Params(max_tokens=max_tokens, temperature=0),
        team=team,
    )


def answer(r: Request) -> tuple[str, dict]:
    parts = []
    while True:
        kind, value = r.events.get(timeout=30)
        if kind == "delta":
            parts.append(value)
        elif kind == "done":
            return "".join(parts), value
        else:
            raise AssertionError(value)


def test_it_lets_a_request_arriving_mid_batch_join_at_the_next_step():
    scheduler, backend = fake_scheduler()
    late = request(10, 5)
    backend.hook = lambda step: step == 3 and scheduler.submit(late)
    first = scheduler.submit(request(0, 20))
    text, done = answer(first)
    assert answer(late) == ("lmnop", {**answer_usage(late, 5), "finish_reason": "length"})
    assert text == "".join(chr(ord("a") + i) for i in range(1, 21))
    assert done["completion_tokens"] == 20
    # One batch: 3 steps alone, 4 steps with the late request (its first token came from its
    # prefill), then alone again once it left.
    assert backend.sizes == [1] * 3 + [2] * 4 + [1] * 12
    assert backend.added == [1, 1]
    assert scheduler.stats["batches"] == 1 and scheduler.stats["joined"] == 1


def answer_usage(r: Request, n: int) -> dict:
    return {"prompt_tokens": len(r.prompt), "completion_tokens": n}


def test_it_drains_the_batch_before_another_adapter_and_keeps_arrival_order():
    scheduler, backend = fake_scheduler()
    other, same = request(0, 3, adapter="y"), request(0, 3, adapter="x")

    def hook(step):
        if step == 2:
            scheduler.submit(other)
            scheduler.submit(same)  # arrives after the other adapter's request: waits behind it

    backend.hook = hook
    answer(scheduler.submit(request(0, 10, adapter="x")))
    answer(other), answer(same)
    assert backend.opened == ["x", "y", "x"]
    assert max(backend.sizes) == 1


def test_it_frees_a_cancelled_rows_slot_at_the_next_step():
    scheduler, backend = fake_scheduler(team_concurrency=2)
    stays, leaves, next_one = request(0, 12), request(20, 12), request(30, 2)

    def hook(step):
        if step == 3:
            leaves.cancel()
        if step == 5:  # the team is at its cap of 2 unless the cancelled slot was freed
            scheduler.submit(next_one)

    backend.hook = hook
    scheduler.submit(stays)
    scheduler.submit(leaves)
    _, done = answer(leaves)
    assert done["finish_reason"] == "cancelled" and done["completion_tokens"] == 3
    assert answer(next_one)[0] == "fg"
    answer(stays)
    assert backend.sizes[:6] == [2, 2, 2, 1, 1, 2]


def test_it_answers_every_running_request_with_the_error_of_a_failed_step():
    scheduler, backend = fake_scheduler(team_concurrency=2)

    def hook(step):
        if step == 2:
            raise RuntimeError("out of memory")

    backend.hook = hook
    pair = [scheduler.submit(request(0, 8)), scheduler.submit(request(5, 8))]
    for r in pair:
        while (event := r.events.get(timeout=30))[0] == "delta":
            pass
        assert event == ("error", "RuntimeError: out of memory")
    backend.hook = lambda step: None
    # Both slots were freed: the team's next two requests are accepted and answered.
    after = [scheduler.submit(request(0, 2)), scheduler.submit(request(1, 2))]
    assert [answer(r)[0] for r in after] == ["bc", "cd"]


class HookedBackend(TorchBackend):
    """The real backend, calling ``hook(step)`` before each decode step and recording the
    cache's width after each change of rows."""

    def __init__(self, store):
        super().__init__(store)
        self.hook = lambda step: None
        self.widths = []

    @contextlib.contextmanager
    def open(self, base, adapter):
        with super().open(base, adapter) as (batch, tokenizer, eos):
            steps = [0]
            step, keep = batch.step, batch.keep

            def hooked_step(tokens):
                steps[0] += 1
                self.hook(steps[0])
                return step(tokens)

            def recorded_keep(rows):
                keep(rows)
                if batch.mask is not None:
                    self.widths.append(int(batch.mask.shape[1]))

            batch.step, batch.keep = hooked_step, recorded_keep
            yield batch, tokenizer, eos


def test_it_gives_requests_joining_a_running_batch_the_answers_generate_gives_alone(
    tiny_model_dir, tmp_path
):
    store = ModelStore(models_dir=tmp_path, allowed_bases=[tiny_model_dir])
    backend = HookedBackend(store)
    scheduler = Scheduler(store, backend=backend, max_batch=8, window_s=0)

    def ask(question, max_tokens):
        return scheduler.prepare(
            base=str(tiny_model_dir), adapter=None,
            messages=[{"role": "user", "content": question}],
            params=Params(max_tokens=max_tokens, temperature=0),
        )  # fmt: skip

    # The first has the longest prompt and leaves first: the later rows' padding is trimmed.
    first = ask("Write one long sentence about the sea and the ships on it, please.", 12)
    second, third = ask("Hi.", 6), ask("Name a colour.", 20)
    backend.hook = lambda step: (
        (step == 2 and scheduler.submit(second)) or (step == 5 and scheduler.submit(third))
    )
    requests = [scheduler.submit(first), second, third]
    answers = [answer(r) for r in requests]
    assert scheduler.stats["joined"] == 2 and scheduler.stats["batches"] == 1
    assert backend.widths and min(backend.widths) < max(backend.widths)
    loaded = store.base(str(Path(tiny_model_dir).resolve()))
    for r, (text, done) in zip(requests, answers, strict=True):
        ids = torch.tensor([r.prompt])
        out = loaded.model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=r.params.max_tokens,
            do_sample=False, pad_token_id=loaded.tokenizer.pad_token_id,
        )  # fmt: skip
        expected = loaded.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
        assert text == expected
        assert done["completion_tokens"] == out.shape[1] - ids.shape[1] - (
            done["finish_reason"] == "stop"
        )
