"""Continuous batching: requests decode in one batch per base, whichever LoRA adapters of that
base they use (each row names its own; at most the base's loaded-adapter bound at once), a
request that arrives while the batch decodes joins it at the next step and a finished one
leaves it at once (iteration-level scheduling, :mod:`.admission` decides who starts,
:mod:`.kvbatch` keeps the cache). Each request has its own max_tokens, stop strings,
temperature, top_p and seed; tokens stream out per request through its event queue. A bounded queue refuses work it cannot start
soon (:class:`Busy`), a per-team cap keeps one team from filling it, and a cancelled request
leaves its batch at the next step and frees its slot.
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import torch

from training.recipe.data import template_messages

from .admission import admit
from .backend import TorchBackend
from .decoding import StopCutter, next_token
from .models import ModelStore

# The bare base counted as an adapter: with one slot, admission drains per adapter.
_BASE_KEY = ""

ERR_BUSY = "the serving queue is full; retry shortly"
ERR_TEAM_BUSY = "your team already has {n} requests running; retry when one finishes"
ERR_CONTEXT = (
    "max_tokens {max_tokens} plus the prompt's {prompt} tokens exceed the model's context of "
    "{context} tokens; lower max_tokens or shorten the messages"
)
ERR_EMPTY = "messages must hold at least one message"


class Busy(RuntimeError):
    """The queue (or the team's share of it) is full; the client should retry later."""


class TeamBusy(Busy):
    pass


class PromptTooLong(ValueError):
    pass


@dataclass
class Params:
    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@dataclass
class Request:
    base: str
    adapter: str | None
    prompt: list[int]
    params: Params
    team: str = ""
    id: int = 0
    events: queue.Queue = field(default_factory=queue.Queue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    submitted: float = field(default_factory=time.perf_counter)
    released: bool = False

    def cancel(self) -> None:
        self.cancelled.set()


@dataclass(eq=False)
class _Row:
    """A request while it decodes: its sampler, its stop cutter, what it produced so far."""

    request: Request
    produced: list[int] = field(default_factory=list)
    last: int = 0
    finished: bool = False

    def __post_init__(self):
        self.cutter = StopCutter(self.request.params.stop)
        self.generator = torch.Generator(device="cpu")
        seed = self.request.params.seed
        self.generator.manual_seed(seed if seed is not None else torch.seed())

    @property
    def prompt(self) -> list[int]:
        return self.request.prompt


class Scheduler:
    def __init__(
        self,
        store: ModelStore,
        *,
        max_batch: int = 8,
        max_queue: int = 32,
        team_concurrency: int = 8,
        window_s: float = 0.02,
        default_max_tokens: int = 256,
        mix_adapters: bool = True,
        backend=None,
    ):
        self.store = store
        # ``backend.open(base)`` gives (batch, tokenizer, eos ids) and ``backend.adapter_slots``
        # the adapters a batch may use at once; tests pass their own to check the scheduling
        # without a model.
        self.backend = backend or TorchBackend(store)
        # False: the older policy, one adapter (or the bare base) per batch, drained before the
        # next; kept to measure against (bench/serving.py) and as a fallback.
        self.mix_adapters = mix_adapters
        self.rows: list[_Row] = []  # the running batch; the decode thread's own
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.team_concurrency = team_concurrency
        self.window_s = window_s
        self.default_max_tokens = default_max_tokens
        self.pending: list[Request] = []
        self.active: Counter = Counter()  # team -> requests queued or running
        self.cond = threading.Condition()
        self.ids = itertools.count(1)
        self.stats = Counter()
        self.tokenizer_lock = threading.Lock()
        self.thread = threading.Thread(target=self._loop, name="decode", daemon=True)
        self.thread.start()

    # -- called from request threads -----------------------------------------------------------

    def prepare(
        self, *, base, adapter, messages, tools=None, tool_choice=None, params: Params, store=None
    ):
        """A :class:`Request` with its prompt tokenized and its length checked (loads the base on
        first use). Raises ModelRefused, PromptTooLong, ValueError for bad input. ``store``:
        the fine-tune's published folder, fetched when not on this disk (ModelStore.check)."""
        base, adapter = self.store.check(base, adapter, store)
        if not messages:
            raise PromptTooLong(ERR_EMPTY)
        loaded = self.store.base(base)
        tokenizer = loaded.tokenizer
        with self.tokenizer_lock:
            template = tokenizer.chat_template if isinstance(tokenizer.chat_template, str) else ""
            extra = {"tool_choice": tool_choice} if tool_choice is not None else {}
            text = tokenizer.apply_chat_template(
                template_messages(messages, template),
                tools=tools or None,
                tokenize=False,
                add_generation_prompt=True,
                **extra,
            )
            prompt = tokenizer(text, add_special_tokens=False)["input_ids"]
        room = loaded.context - len(prompt)
        if params.max_tokens is None:
            params.max_tokens = min(self.default_max_tokens, max(room, 0))
        if params.max_tokens < 1 or params.max_tokens > room:
            raise PromptTooLong(
                ERR_CONTEXT.format(
                    max_tokens=params.max_tokens, prompt=len(prompt), context=loaded.context
                )
            )
        return Request(base=base, adapter=adapter, prompt=prompt, params=params)

    def submit(self, request: Request) -> Request:
        with self.cond:
            if sum(self.active.values()) >= self.max_queue:
                self.stats["refused_busy"] += 1
                raise Busy(ERR_BUSY)
            if self.active[request.team] >= self.team_concurrency:
                self.stats["refused_team"] += 1
                raise TeamBusy(ERR_TEAM_BUSY.format(n=self.team_concurrency))
            request.id = next(self.ids)
            request.submitted = time.perf_counter()  # the batching window counts from here
            self.active[request.team] += 1
            self.pending.append(request)
            self.cond.notify()
        return request

    def snapshot(self) -> dict:
        with self.cond:
            return {
                "active": sum(self.active.values()),
                "pending": len(self.pending),
                "running": len(self.rows),
                **self.stats,
                "adapter_loads": self.store.adapter_loads,
                "adapter_evictions": self.store.adapter_evictions,
                "last_adapter_load_s": self.store.last_adapter_load_s,
                "loaded": self.store.loaded_summary(),
            }

    # -- the decode thread ---------------------------------------------------------------------

    def _release(self, request: Request) -> None:
        with self.cond:
            if request.released:
                return
            request.released = True
            self.active[request.team] -= 1
            if self.active[request.team] <= 0:
                del self.active[request.team]

    def _wait_for_work(self) -> None:
        with self.cond:
            while not self.pending:
                self.cond.wait()
            first = self.pending[0].submitted
        # Requests that arrive together start together (one prefill): wait out the window once.
        delay = first + self.window_s - time.perf_counter()
        if delay > 0:
            time.sleep(delay)

    def _admission_key(self, request: Request):
        if self.mix_adapters or request.adapter is not None:
            return request.adapter
        return _BASE_KEY

    def _admit(self, base, free: int, *, joining: bool) -> list[Request]:
        """Take the waiting requests that start now (:func:`.admission.admit`); requests
        cancelled while they waited are answered here and never start."""
        in_use = {self._admission_key(row.request) for row in self.rows} - {None}
        slots = self.backend.adapter_slots if self.mix_adapters else 1
        with self.cond:
            gone = [r for r in self.pending if r.cancelled.is_set()]
            self.pending = [r for r in self.pending if not r.cancelled.is_set()]
            keys = [(r.base, self._admission_key(r)) for r in self.pending]
            picked = admit(keys, base=base, in_use=in_use, slots=slots, free=free, joining=joining)
            chosen = [self.pending[i] for i in picked]
            self.pending = [r for r in self.pending if r not in chosen]
        for r in gone:
            self.stats["cancelled"] += 1
            self._finish(r, {"finish_reason": "cancelled", "completion_tokens": 0})
        return chosen

    def _loop(self) -> None:
        while True:
            self._wait_for_work()
            with self.cond:
                base = self.pending[0].base if self.pending else None
            if base is None:
                continue
            try:
                with self.backend.open(base) as (batch, tokenizer, eos):
                    self._decode(base, batch, tokenizer, eos)
            except Exception as exc:  # noqa: BLE001 - every request gets the error, the loop goes on
                self.stats["failed_batches"] += 1
                for row in self.rows:
                    if not row.request.released:
                        self._release(row.request)
                        row.request.events.put(("error", f"{type(exc).__name__}: {exc}"))
            finally:
                for row in self.rows:
                    self._release(row.request)
                self.rows = []

    def _decode(self, base, batch, tokenizer, eos: set[int]) -> None:
        """Continuous batching: every step, finished rows leave and waiting requests of this
        base join (prefilled together, then one row each), until none is left to run."""
        self.stats["batches"] += 1
        started = False
        while True:
            self._leave(batch)  # before admission: a finished row's adapter slot is free
            joining = self._admit(base, self.max_batch - len(self.rows), joining=started)
            started = True
            if joining and self.rows and not batch.joinable:
                with self.cond:  # this model's cache cannot take rows mid-batch: wait for it
                    self.pending[:0] = joining
                joining = []
            if joining:
                if self.rows:
                    self.stats["joined"] += len(joining)
                self.stats["batched_requests"] += len(joining)
                new = [_Row(r) for r in joining]
                try:
                    logits = batch.add([r.prompt for r in joining], [r.adapter for r in joining])
                except Exception as exc:  # noqa: BLE001 - e.g. an adapter that fails to load
                    # The batch is as it was (the cache joins after the prefill): only the
                    # joining requests fail, the running rows go on.
                    self.stats["failed_joins"] += 1
                    for r in joining:
                        self._release(r)
                        r.events.put(("error", f"{type(exc).__name__}: {exc}"))
                    continue
                self.rows += new
                for row, row_logits in zip(new, logits, strict=True):
                    self._advance(row, row_logits, tokenizer, eos)
            elif not self.rows:
                return
            self._leave(batch)
            if not self.rows:
                continue
            self.stats["steps"] += 1
            if len({row.request.adapter for row in self.rows}) > 1:
                self.stats["mixed_steps"] += 1
            logits = batch.step([row.last for row in self.rows])
            for row, row_logits in zip(self.rows, logits, strict=True):
                self._advance(row, row_logits, tokenizer, eos)

    def _leave(self, batch) -> None:
        live = [i for i, row in enumerate(self.rows) if not row.finished]
        if len(live) < len(self.rows):
            batch.keep(live)
            self.rows = [self.rows[i] for i in live]

    def _advance(self, row: _Row, logits, tokenizer, eos: set[int]) -> None:
        """Choose ``row``'s next token from ``logits``, stream what became visible, and finish
        it at EOS, a stop string, its max_tokens or a cancellation."""
        r = row.request
        if r.cancelled.is_set():
            self.stats["cancelled"] += 1
            row.finished = True
            self._finish(r, self._usage(r, row.produced, "cancelled"))
            return
        token = next_token(
            logits, temperature=r.params.temperature, top_p=r.params.top_p, generator=row.generator
        )
        row.last = token
        finish = None
        if token in eos:
            finish = "stop"
        else:
            row.produced.append(token)
            self.stats["tokens"] += 1
            if len(row.produced) >= r.params.max_tokens:
                finish = "length"
        text = tokenizer.decode(row.produced, skip_special_tokens=True)
        delta, stopped = row.cutter.feed(text, final=finish is not None)
        if stopped:
            finish = "stop"
        if delta:
            r.events.put(("delta", delta))
        if finish is not None:
            row.finished = True
            self._finish(r, self._usage(r, row.produced, finish))

    def _finish(self, request: Request, info: dict) -> None:
        # The slot is free before the client hears "done", so its next request finds room.
        self._release(request)
        request.events.put(("done", info))

    @staticmethod
    def _usage(request: Request, produced: list[int], finish: str) -> dict:
        return {
            "finish_reason": finish,
            "prompt_tokens": len(request.prompt),
            "completion_tokens": len(produced),
        }
