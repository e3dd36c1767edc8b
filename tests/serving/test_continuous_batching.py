"""Continuous batching: the admission rule (pure), the scheduling on a model-free backend (a
request arriving mid-batch joins at the next step, adapters of one base share the batch up to
the loaded-adapter bound, another base waits for the batch to drain, finished and cancelled
rows leave, a failing step answers everyone), and on the tiny model:
requests that join a running batch get exactly the greedy answers ``generate`` gives alone."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from serving.engine.admission import admit
from serving.engine.backend import TorchBackend
from serving.engine.models import ModelStore
from serving.engine.scheduler import Params, Request, Scheduler

VOCAB = 50


KEYS = st.tuples(st.sampled_from("bc"), st.sampled_from([None, "x", "y", "z"]))


@given(
    st.lists(KEYS, max_size=20),
    st.sets(st.sampled_from("xyz"), max_size=3),
    st.integers(1, 3),
    st.integers(-1, 10),
    st.booleans(),
)
def test_it_admits_the_batchs_base_oldest_first_within_the_rows_and_adapter_slots(
    keys, in_use, slots, free, joining
):
    in_use = set(sorted(in_use)[:slots])  # a running batch never holds more than the slots
    chosen = admit(keys, base="b", in_use=in_use, slots=slots, free=free, joining=joining)
    assert len(chosen) <= max(free, 0)
    assert chosen == sorted(chosen)
    assert all(keys[i][0] == "b" for i in chosen)
    needed = in_use | {keys[i][1] for i in chosen} - {None}
    assert len(needed) <= slots
    if joining:
        # Never past a request that cannot join (another base, no adapter slot): it goes next.
        assert chosen == list(range(len(chosen)))
    # Maximal: a request passed over while rows were free could not have started.
    for i, (base, adapter) in enumerate(keys):
        before = [j for j in chosen if j < i]
        if i in chosen or len(before) >= free:
            continue
        if joining and i > len(chosen):
            break  # behind the first that could not join: they wait their turn
        used = in_use | {keys[j][1] for j in before} - {None}
        assert not (base == "b" and (adapter is None or adapter in used or len(used) < slots))


def test_it_drains_per_adapter_with_one_slot_and_the_base_counted_as_an_adapter():
    keys = [("b", "x"), ("b", ""), ("b", "x"), ("b", "y")]
    assert admit(keys, base="b", in_use=set(), slots=1, free=8, joining=False) == [0, 2]
    assert admit(keys, base="b", in_use={"x"}, slots=1, free=8, joining=True) == [0]
    assert admit(keys[1:], base="b", in_use={"x"}, slots=1, free=8, joining=True) == []


class FakeTokenizer:
    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(ord("a") + i % 26) for i in ids)


class FakeBatch:
    """A 'model' whose next token is the last one plus one: scheduling without weights."""

    def __init__(self, backend):
        self.backend = backend
        self.adapters = []  # each row's adapter
        self.joinable = True

    @property
    def size(self) -> int:
        return len(self.adapters)

    def _logits(self, last: list[int]) -> torch.Tensor:
        out = torch.zeros((len(last), VOCAB))
        for row, token in enumerate(last):
            out[row, (token + 1) % VOCAB] = 1.0
        return out

    def add(self, prompts, adapters):
        if "broken" in adapters:
            raise OSError("adapter_model.safetensors is truncated")
        self.adapters += adapters
        assert len(set(self.adapters) - {None}) <= self.backend.adapter_slots
        self.backend.added.append(len(prompts))
        return self._logits([p[-1] for p in prompts])

    def step(self, tokens):
        assert len(tokens) == self.size
        self.backend.sizes.append(self.size)
        self.backend.mixes.append(tuple(self.adapters))
        self.backend.hook(len(self.backend.sizes))
        return self._logits(tokens)

    def keep(self, rows):
        self.adapters = [self.adapters[i] for i in rows]


class FakeBackend:
    def __init__(self, adapter_slots=4):
        self.sizes, self.added, self.opened, self.mixes = [], [], [], []
        self.adapter_slots = adapter_slots
        self.hook = lambda step: None

    @contextlib.contextmanager
    def open(self, base):
        self.opened.append(base)
        yield FakeBatch(self), FakeTokenizer(), {VOCAB - 1}


def fake_scheduler(adapter_slots=4, **kwargs):
    backend = FakeBackend(adapter_slots)
    options = {"max_batch": 4, "max_queue": 8, "team_concurrency": 8, "window_s": 0, **kwargs}
    return Scheduler(None, backend=backend, **options), backend


def request(start: int, max_tokens: int, adapter=None, team="t", base="b") -> Request:
    return Request(
        base=base,
        adapter=adapter,
        prompt=[start],
        params=Params(max_tokens=max_tokens, temperature=0),
        team=team,
    )


def letters(start: int, n: int) -> str:
    return "".join(chr(ord("a") + (start + i) % 26) for i in range(1, n + 1))


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


def test_it_decodes_requests_of_different_adapters_and_the_base_in_one_batch():
    scheduler, backend = fake_scheduler(window_s=0.5)
    late = request(30, 3, adapter="z")
    backend.hook = lambda step: step == 2 and scheduler.submit(late)
    together = [request(0, 6, "x"), request(10, 6, "y"), request(20, 6)]
    for r in together:
        scheduler.submit(r)
    assert [answer(r)[0] for r in [*together, late]] == [
        letters(0, 6), letters(10, 6), letters(20, 6), letters(30, 3)
    ]  # fmt: skip
    assert backend.opened == ["b"] and scheduler.stats["joined"] == 1
    assert backend.mixes[0] == ("x", "y", None)
    assert backend.mixes[2] == ("x", "y", None, "z")


def test_it_queues_an_adapter_past_the_loaded_bound_until_a_slot_frees():
    scheduler, backend = fake_scheduler(adapter_slots=2, window_s=0.5)
    third, again = request(0, 3, adapter="z"), request(5, 3, adapter="x")

    def hook(step):
        if step == 1:
            scheduler.submit(third)  # x and y hold both slots: waits for one to free
            scheduler.submit(again)  # behind it; x is loaded, but it does not overtake

    backend.hook = hook
    first, second = scheduler.submit(request(0, 3, "x")), scheduler.submit(request(0, 10, "y"))
    assert [answer(r)[0] for r in (first, second, third, again)] == [
        letters(0, 3), letters(0, 10), letters(0, 3), letters(5, 3)
    ]  # fmt: skip
    x, y, z = ("x", "y"), ("y", "z"), ("y", "x")
    assert backend.mixes == [x, x, y, y, z, z, ("y",), ("y",), ("y",)]
    assert backend.opened == ["b"]


def test_it_drains_the_batch_before_another_base_and_keeps_arrival_order():
    scheduler, backend = fake_scheduler()
    other, same = request(0, 3, base="c"), request(0, 3, adapter="y")

    def hook(step):
        if step == 2:
            scheduler.submit(other)
            scheduler.submit(same)  # arrives after the other base's request: waits behind it

    backend.hook = hook
    answer(scheduler.submit(request(0, 10, adapter="x")))
    answer(other), answer(same)
    assert backend.opened == ["b", "c", "b"]
    assert max(backend.sizes) == 1


def test_it_runs_one_adapter_at_a_time_under_the_drain_policy():
    scheduler, backend = fake_scheduler(mix_adapters=False)
    other, base, same = request(0, 3, adapter="y"), request(0, 3), request(0, 3, adapter="x")

    def hook(step):
        if step == 2:
            for r in (other, base, same):
                scheduler.submit(r)

    backend.hook = hook
    answer(scheduler.submit(request(0, 10, adapter="x")))
    for r in (other, base, same):
        answer(r)
    runs = [mix[0] for i, mix in enumerate(backend.mixes) if i == 0 or mix != backend.mixes[i - 1]]
    assert all(len(set(mix)) == 1 for mix in backend.mixes)
    assert runs == ["x", "y", None, "x"]


def test_it_fails_only_the_joining_requests_when_their_adapter_does_not_load():
    scheduler, backend = fake_scheduler(team_concurrency=2)
    broken, after = request(0, 3, adapter="broken"), request(0, 3, adapter="y")
    backend.hook = lambda step: step == 2 and scheduler.submit(broken)
    running = scheduler.submit(request(0, 8, adapter="x"))
    with pytest.raises(AssertionError, match="OSError: adapter_model.safetensors is truncated"):
        answer(broken)
    assert answer(running)[0] == letters(0, 8)
    assert answer(scheduler.submit(after))[0] == letters(0, 3)  # the team's slot was freed
    assert backend.opened == ["b", "b"] and scheduler.stats["failed_joins"] == 1


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
    def open(self, base):
        with super().open(base) as (batch, tokenizer, eos):
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
