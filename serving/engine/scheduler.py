"""Dynamic batching: requests that arrive within ``window_s`` of each other, or while a batch
runs, decode together (one adapter per batch, left-padded, one forward pass per token for the
whole batch), each request with its own max_tokens, stop strings, temperature, top_p and seed.
Tokens stream out per request through its event queue. A bounded queue refuses work it cannot
start soon (:class:`Busy`), a per-team cap keeps one team from filling it, and a cancelled
request leaves its batch at the next token and frees its slot.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import torch

from training.recipe.data import template_messages

from .decoding import StopCutter, next_token
from .models import ModelStore

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
    ):
        self.store = store
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

    def prepare(self, *, base, adapter, messages, tools=None, tool_choice=None, params: Params):
        """A :class:`Request` with its prompt tokenized and its length checked (loads the base on
        first use). Raises ModelRefused, PromptTooLong, ValueError for bad input."""
        base, adapter = self.store.check(base, adapter)
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
            self.active[request.team] += 1
            self.pending.append(request)
            self.cond.notify()
        return request

    def snapshot(self) -> dict:
        with self.cond:
            return {
                "active": sum(self.active.values()),
                "pending": len(self.pending),
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

    def _take_batch(self) -> list[Request]:
        with self.cond:
            while not self.pending:
                self.cond.wait()
            first = self.pending[0].submitted
        # Requests that arrive together decode together: wait out the window once.
        delay = first + self.window_s - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        with self.cond:
            key = (self.pending[0].base, self.pending[0].adapter)
            batch = [r for r in self.pending if (r.base, r.adapter) == key][: self.max_batch]
            self.pending = [r for r in self.pending if r not in batch]
        return batch

    def _loop(self) -> None:
        while True:
            batch = self._take_batch()
            live = [r for r in batch if not r.cancelled.is_set()]
            for r in batch:
                if r.cancelled.is_set():
                    self.stats["cancelled"] += 1
                    self._finish(r, {"finish_reason": "cancelled", "completion_tokens": 0})
            if not live:
                continue
            try:
                self._run(live)
            except Exception as exc:  # noqa: BLE001 - every request gets the error, the loop goes on
                self.stats["failed_batches"] += 1
                for r in live:
                    if not r.released:
                        self._release(r)
                        r.events.put(("error", f"{type(exc).__name__}: {exc}"))
            finally:
                for r in live:
                    self._release(r)

    @torch.no_grad()
    def _run(self, batch: list[Request]) -> None:
        loaded = self.store.base(batch[0].base)
        model = self.store.activate(loaded, batch[0].adapter)
        plain = (
            model.disable_adapter()
            if batch[0].adapter is None and loaded.peft
            else contextlib.nullcontext()
        )
        with plain:
            self._decode(model, loaded.tokenizer, batch)

    def _decode(self, model, tokenizer, batch: list[Request]) -> None:
        device = next(model.parameters()).device
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        eos = _eos_ids(model, tokenizer)
        width = max(len(r.prompt) for r in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, r in enumerate(batch):
            ids[row, width - len(r.prompt) :] = torch.tensor(r.prompt)
            mask[row, width - len(r.prompt) :] = 1
        ids, mask = ids.to(device), mask.to(device)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        generators = []
        for r in batch:
            g = torch.Generator(device="cpu")
            g.manual_seed(r.params.seed if r.params.seed is not None else torch.seed())
            generators.append(g)
        cutters = [StopCutter(r.params.stop) for r in batch]
        produced: list[list[int]] = [[] for _ in batch]
        done = [False] * len(batch)
        self.stats["batches"] += 1
        self.stats["batched_requests"] += len(batch)
        past = None
        step_ids = ids
        step_positions = positions
        longest = max(r.params.max_tokens for r in batch)
        for _ in range(longest):
            out = model(
                input_ids=step_ids,
                attention_mask=mask,
                position_ids=step_positions,
                past_key_values=past,
                use_cache=True,
                # Only the last position's logits: the prefill would otherwise project every
                # prompt token onto the vocabulary (most of its time on a small model).
                logits_to_keep=1,
            )
            past = out.past_key_values
            logits = out.logits[:, -1, :].float().cpu()
            chosen = []
            for row, r in enumerate(batch):
                if done[row]:
                    chosen.append(pad)
                    continue
                if r.cancelled.is_set():
                    done[row] = True
                    self.stats["cancelled"] += 1
                    self._finish(r, self._usage(r, produced[row], "cancelled"))
                    chosen.append(pad)
                    continue
                token = next_token(
                    logits[row],
                    temperature=r.params.temperature,
                    top_p=r.params.top_p,
                    generator=generators[row],
                )
                chosen.append(token)
                finish = None
                if token in eos:
                    finish = "stop"
                else:
                    produced[row].append(token)
                    self.stats["tokens"] += 1
                    if len(produced[row]) >= r.params.max_tokens:
                        finish = "length"
                text = tokenizer.decode(produced[row], skip_special_tokens=True)
                delta, stopped = cutters[row].feed(text, final=finish is not None)
                if stopped:
                    finish = "stop"
                if delta:
                    r.events.put(("delta", delta))
                if finish is not None:
                    done[row] = True
                    self._finish(r, self._usage(r, produced[row], finish))
            if all(done):
                return
            step_ids = torch.tensor(chosen, dtype=torch.long, device=device)[:, None]
            mask = torch.cat(
                [mask, torch.ones((len(batch), 1), dtype=mask.dtype, device=device)], 1
            )
            step_positions = step_positions[:, -1:] + 1

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


def _eos_ids(model, tokenizer) -> set[int]:
    ids = set()
    configured = getattr(getattr(model, "generation_config", None), "eos_token_id", None)
    for value in (configured, tokenizer.eos_token_id):
        if isinstance(value, int):
            ids.add(value)
        elif value:
            ids.update(value)
    return ids
