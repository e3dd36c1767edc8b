"""Serving engine throughput (issue 18): aggregate tokens/s of 8 concurrent clients through the
engine's continuous batching against one ``model.generate`` per request, serially, on the same
prompts and token budgets (same run, same process, same threads); time to first token p50/p95
of the concurrent clients; the same clients arriving one every ``--stagger-ms`` (each joins the
running batch at its next step) against the serial baseline's FIFO queue of the same arrivals;
and the cost of switching LoRA adapters.

    .venv/bin/python bench/serving.py [--clients 8] [--tokens 48] [--stagger-ms 400] [--tiny]

Uses the bundled SmolLM2-135M-Instruct when it has been converted (``manage.py
ensure_base_model``, DATA_DIR/models/base), else the tests' tiny model (``--tiny`` forces it).
Greedy decoding with EOS ignored on both sides, so both produce exactly ``--tokens`` per request.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from serving.engine.models import ModelStore  # noqa: E402
from serving.engine.scheduler import Params, Scheduler  # noqa: E402

QUESTIONS = [
    "What is the capital of France?",
    "Give me three tips for writing clear emails.",
    "Explain what a hash function is in one paragraph.",
    "Translate 'good morning' into Spanish and German.",
    "What is 17 times 23?",
    "Name two differences between a list and a tuple in Python.",
    "Write a haiku about autumn.",
    "Why is the sky blue?",
]


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def base_model(tiny: bool) -> tuple[str, Path]:
    data = Path(os.environ.get("DATA_DIR", ROOT / "var"))
    bundled = data / "models" / "base" / "SmolLM2-135M-Instruct"
    if not tiny and (bundled / ".complete").is_file():
        return "bundled:SmolLM2-135M-Instruct", data / "models"
    from tests.reliability.tiny_model import build

    tmp = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    return str(build(tmp / "tiny")), tmp


def never_stop(loaded):
    # Both sides generate exactly the budget: no EOS, so tokens/s compares like with like.
    loaded.model.generation_config.eos_token_id = None
    loaded.tokenizer.eos_token_id  # noqa: B018 - the engine reads generation_config and this


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--stagger-ms", type=float, default=400.0)
    parser.add_argument("--tiny", action="store_true")
    args = parser.parse_args()
    base, models_dir = base_model(args.tiny)
    allowed = [] if base.startswith("bundled:") else [base]
    # Four slots: the adapter mix's three adapters fit the LRU at once (the engine's default).
    store = ModelStore(models_dir=models_dir, allowed_bases=allowed, max_adapters=4)
    scheduler = Scheduler(store, max_batch=args.clients, max_queue=64, team_concurrency=64)
    name = store.check(base, None)[0]
    loaded = store.base(name)
    never_stop(loaded)
    import serving.engine.backend as backend

    backend.eos_ids = lambda model, tokenizer: set()  # the engine side of "never stop"
    questions = (QUESTIONS * ((args.clients + 7) // 8))[: args.clients]

    def prepared(question, adapter=None, tokens=args.tokens):
        return scheduler.prepare(
            base=base, adapter=adapter, messages=[{"role": "user", "content": question}],
            params=Params(max_tokens=tokens, temperature=0),
        )  # fmt: skip

    # Warm-up: one of each path, so neither side pays first-call costs.
    collect(scheduler.submit(prepared(questions[0], tokens=4)))
    ids = torch.tensor([prepared(questions[0]).prompt])
    loaded.model.generate(
        input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=4, do_sample=False
    )

    def serial_round():
        """Baseline: one generate per request, serially: (tokens, seconds, each's seconds)."""
        tokens, each = 0, []
        for q in questions:
            t0 = time.perf_counter()
            ids = torch.tensor([prepared(q).prompt])
            out = loaded.model.generate(
                input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=args.tokens,
                min_new_tokens=args.tokens, do_sample=False,
                pad_token_id=loaded.tokenizer.pad_token_id,
            )  # fmt: skip
            tokens += out.shape[1] - ids.shape[1]
            each.append(time.perf_counter() - t0)
        return tokens, sum(each), each

    def engine_round():
        """Every client submits at once from its own thread: (tokens, seconds, ttfts, batches)."""
        ttft, produced = [], []
        barrier = threading.Barrier(args.clients)

        def client(q):
            request = prepared(q)
            barrier.wait()
            first, tokens = timed(scheduler, request)
            produced.append(tokens)
            ttft.append(first)

        threads = [threading.Thread(target=client, args=(q,)) for q in questions]
        before = scheduler.stats["batches"]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return (
            sum(produced),
            time.perf_counter() - started,
            ttft,
            scheduler.stats["batches"] - before,
        )

    # A B B A: the machine is shared and its load drifts; each side gets an early and a late turn.
    first_serial, engine_a, engine_b, last_serial = (
        serial_round(), engine_round(), engine_round(), serial_round()
    )  # fmt: skip
    serial_tokens = first_serial[0] + last_serial[0]
    serial_s = first_serial[1] + last_serial[1]
    serial_each = [(a + b) / 2 for a, b in zip(first_serial[2], last_serial[2], strict=True)]
    engine_tokens, engine_s = engine_a[0] + engine_b[0], engine_a[1] + engine_b[1]
    together_ttft, engine_batches = engine_a[2] + engine_b[2], engine_a[3] + engine_b[3]
    engine_tps, serial_tps = engine_tokens / engine_s, serial_tokens / serial_s
    ttft, produced = [], []

    # Staggered arrivals: client i submits at i * stagger. The engine streams each from the
    # step after it arrives; the baseline serves the same arrivals one generate at a time, in
    # order, each answer whole when its generate returns (its measured serial duration).
    stagger = args.stagger_ms / 1000
    joined_before = scheduler.stats["joined"]

    def late_client(i, q):
        request = prepared(q)
        time.sleep(i * stagger)
        first, tokens = timed(scheduler, request)
        produced.append(tokens)
        ttft.append(first)

    threads = [threading.Thread(target=late_client, args=(i, q)) for i, q in enumerate(questions)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    staggered_s = time.perf_counter() - started
    staggered_ttft, joined = list(ttft), scheduler.stats["joined"] - joined_before
    free_at, queued_wait = 0.0, []
    for i, each in enumerate(serial_each):
        start = max(i * stagger, free_at)
        free_at = start + each
        queued_wait.append(free_at - i * stagger)

    # Adapter switch: two adapters on the base; a 1-token answer alternating between them
    # against the same answer with one adapter only (rows name their adapter: no set_adapter).
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folder = store.bases[name].model
    source = getattr(folder, "name_or_path", None) or folder.config._name_or_path
    adapters = []
    for seed in (1, 2, 3):
        torch.manual_seed(seed)
        path = Path(models_dir) / "bench-adapters" / str(seed)
        model = AutoModelForCausalLM.from_pretrained(source)
        config = LoraConfig(r=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False)
        get_peft_model(model, config).save_pretrained(path)
        adapters.append(str(path))

    def one_token(adapter, on=scheduler):
        t0 = time.perf_counter()
        collect(on.submit(prepared(questions[0], adapter=adapter, tokens=1)))
        return time.perf_counter() - t0

    load_s = [one_token(a) for a in adapters]  # first use loads each
    same = statistics.median(one_token(adapters[1]) for _ in range(5))
    switched = statistics.median(
        one_token(adapters[i % 2]) for i in range(6)
    )  # alternating: every call switches
    plain = statistics.median(one_token(None) for _ in range(5))

    # Adapter mix: client i asks with adapters[i % 4] (the fourth: the bare base), all at once,
    # through the mixed scheduler and through the drain-per-adapter one (same store and model;
    # one of the two decodes at a time).
    drain = Scheduler(
        store, max_batch=args.clients, max_queue=64, team_concurrency=64, mix_adapters=False
    )
    one_token(adapters[0], on=drain)  # warm its path
    mix = [*adapters, None]

    def mix_round(on, mix=mix):
        """(tokens, seconds, ttfts, mixed steps) of the clients over the adapter ``mix``."""
        ttft, produced = [], []
        barrier = threading.Barrier(args.clients)
        mixed_before = on.stats["mixed_steps"]

        def client(i, q):
            request = prepared(q, adapter=mix[i % len(mix)])
            barrier.wait()
            first, tokens = timed(on, request)
            produced.append(tokens)
            ttft.append(first)

        threads = [threading.Thread(target=client, args=(i, q)) for i, q in enumerate(questions)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return (
            sum(produced),
            time.perf_counter() - started,
            ttft,
            on.stats["mixed_steps"] - mixed_before,
        )

    # A B C C B A; C: the same clients all on the bare base (what mixing LoRA rows costs).
    drain_a, mixed_a, bare_a, bare_b, mixed_b, drain_b = (
        mix_round(drain), mix_round(scheduler), mix_round(scheduler, [None]),
        mix_round(scheduler, [None]), mix_round(scheduler), mix_round(drain),
    )  # fmt: skip
    bare_tps = (bare_a[0] + bare_b[0]) / (bare_a[1] + bare_b[1])
    mixed_tps = (mixed_a[0] + mixed_b[0]) / (mixed_a[1] + mixed_b[1])
    drain_tps = (drain_a[0] + drain_b[0]) / (drain_a[1] + drain_b[1])
    mixed_ttft, drain_ttft = mixed_a[2] + mixed_b[2], drain_a[2] + drain_b[2]

    label = "bundled" if base.startswith("bundled:") else "tiny"
    print(
        f"model={label} clients={args.clients} tokens_per_request={args.tokens} threads={torch.get_num_threads()}"
    )
    print(
        f"engine: {engine_tokens} tokens in {engine_s:.2f}s = {engine_tps:.1f} tok/s ({engine_batches} batches)"
    )
    print(
        f"serial generate (twice, A B B A): {serial_tokens} tokens in {serial_s:.2f}s = {serial_tps:.1f} tok/s"
    )
    print(
        f"ttft p50={percentile(together_ttft, 0.5):.3f}s p95={percentile(together_ttft, 0.95):.3f}s"
    )
    print(
        f"staggered every {args.stagger_ms:.0f} ms: {sum(produced)} tokens in {staggered_s:.2f}s, "
        f"{joined} joined a running batch; ttft p50={percentile(staggered_ttft, 0.5):.3f}s "
        f"p95={percentile(staggered_ttft, 0.95):.3f}s; serial queue: answer after "
        f"p50={percentile(queued_wait, 0.5):.3f}s p95={percentile(queued_wait, 0.95):.3f}s"
    )
    print(
        f"adapter first load {load_s[0]:.3f}s/{load_s[1]:.3f}s; 1-token answer: same adapter {same:.3f}s, switching {switched:.3f}s, base {plain:.3f}s"
    )
    ratio = engine_tps / serial_tps
    print(
        f"BENCH serving_batching_{label} value={engine_tps:.1f}tok/s baseline={serial_tps:.1f}tok/s ratio={ratio:.2f} target=>=3 pass={'yes' if ratio >= 3 else 'no'}"
    )
    print(
        f"BENCH serving_ttft_p95_{label} value={percentile(together_ttft, 0.95):.3f}s baseline={statistics.mean(serial_each):.3f}s ratio={percentile(together_ttft, 0.95) / statistics.mean(serial_each):.2f} target=report pass=yes"
    )
    print(
        f"adapter mix ({len(adapters)} adapters + base over {args.clients} clients): mixed batch "
        f"{mixed_tps:.1f} tok/s ({mixed_a[3] + mixed_b[3]} mixed steps), ttft "
        f"p50={percentile(mixed_ttft, 0.5):.3f}s p95={percentile(mixed_ttft, 0.95):.3f}s; "
        f"drain per adapter {drain_tps:.1f} tok/s ({drain_a[3] + drain_b[3]} mixed steps), ttft "
        f"p50={percentile(drain_ttft, 0.5):.3f}s p95={percentile(drain_ttft, 0.95):.3f}s; "
        f"the same clients all on the bare base {bare_tps:.1f} tok/s"
    )
    late, queued = percentile(staggered_ttft, 0.95), percentile(queued_wait, 0.95)
    print(
        f"BENCH serving_staggered_ttft_p95_{label} value={late:.3f}s baseline={queued:.3f}s ratio={late / queued:.2f} target=report pass=yes"
    )
    print(
        f"BENCH serving_adapter_mix_{label} value={mixed_tps:.1f}tok/s baseline={drain_tps:.1f}tok/s ratio={mixed_tps / drain_tps:.2f} target=>1 pass={'yes' if mixed_tps > drain_tps else 'no'}"
    )
    mixed_p95, drain_p95 = percentile(mixed_ttft, 0.95), percentile(drain_ttft, 0.95)
    print(
        f"BENCH serving_adapter_mix_ttft_p95_{label} value={mixed_p95:.3f}s baseline={drain_p95:.3f}s ratio={mixed_p95 / drain_p95:.2f} target=report pass=yes"
    )
    print(
        f"BENCH serving_adapter_mix_overhead_{label} value={mixed_tps:.1f}tok/s baseline={bare_tps:.1f}tok/s ratio={mixed_tps / bare_tps:.2f} target=report pass=yes"
    )
    print(
        f"BENCH serving_adapter_switch_{label} value={switched:.3f}s baseline={same:.3f}s ratio={switched / same:.2f} target=report pass=yes"
    )


def timed(scheduler, request) -> tuple[float | None, int]:
    """Submit ``request`` and read its events: (seconds to its first delta, tokens produced)."""
    t0 = time.perf_counter()
    scheduler.submit(request)
    first = None
    while True:
        kind, value = request.events.get(timeout=600)
        if kind == "delta" and first is None:
            first = time.perf_counter() - t0
        if kind == "done":
            return first, value["completion_tokens"]
        if kind == "error":
            raise RuntimeError(value)


def collect(request):
    while True:
        kind, value = request.events.get(timeout=600)
        if kind == "done":
            return value
        if kind == "error":
            raise RuntimeError(value)


if __name__ == "__main__":
    main()
