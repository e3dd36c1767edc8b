"""Full check report against tiktoken encoding alone, over the same text, in the same run.

Input: 100,000 canonical examples (``--n``) built from ../shared/data: Alpaca files
(llamafactory alpaca_en_demo + identity, gpteacher codegen-instruct), gsm8k train (question →
answer), and glaive_toolcall_en_demo (ShareGPT with tool calls) converted to canonical by small
mappers below; the pool (~14,400 examples) is cycled, every copy after the first getting a
" (variant N)" suffix on its first user message so no two copies are identical, and every
third example gets one of three system prompts. Without ../shared/data the benchmark exits.

Baseline: ``len(enc.encode_ordinary(text))`` for every non-empty message content, one call per
text in a plain loop (the text the report tokenizes; the report also encodes tool calls and
names, which this input has few of). Value: ``build_report`` over ``(key, content, source format,
content hash)`` — structure, conversation, content and length rules per example, summaries,
dataset rules, and the cookbook token statistics (which encode the same text once, plus roles).
The content hash is passed as the app passes its stored ``Example.content_hash``; it is computed
before timing. Both run single-threaded (``encode_ordinary_batch`` was slower on 2 vCPUs,
PERFORMANCE.md T2), interleaved, best of ``--repeat`` runs each.

Second figure (``--schema-answers``, 10,000 by default; 0 skips it): the dataset answer-schema
check on JSON answers (an object with an enum, a number range, a pattern and a uniqueItems
array), the safe validator (offline registry, RE2 patterns, time budget) against jsonschema's
default validator on the same schema and answers — the price of matching with RE2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datasets_app.canonical import content_hash  # noqa: E402
from datasets_app.checks import build_report  # noqa: E402
from datasets_app.tokens import load_encoding  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SYSTEMS = [
    None,
    "You are a helpful assistant.",
    "You are a concise, careful coding assistant.",
    "Answer step by step.",
]
TARGET_RATIO = 1.5
SCHEMA_TARGET_RATIO = 3.0
ANSWER_SCHEMA = {
    "type": "object",
    "required": ["label", "confidence"],
    "additionalProperties": False,
    "properties": {
        "label": {"enum": ["pos", "neg", "neutral"]},
        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
        "id": {"type": "string", "pattern": "^[a-z]{3}-\\d{4}$"},
        "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    },
}


def _alpaca(path):
    for r in json.loads(path.read_text()):
        prompt = r["instruction"] + ("\n" + r["input"] if r.get("input") else "")
        yield (
            [
                {"role": "user", "content": prompt},
                {"role": "assistant", "content": r.get("output") or r.get("response") or ""},
            ],
            None,
        )


def _gsm8k(path):
    for line in path.read_text().splitlines():
        r = json.loads(line)
        yield (
            [
                {"role": "user", "content": r["question"]},
                {"role": "assistant", "content": r["answer"]},
            ],
            None,
        )


def _glaive(path):
    for r in json.loads(path.read_text()):
        tools = [{"type": "function", "function": t} for t in json.loads(r.get("tools") or "[]")]
        messages, last = [], None
        for n, turn in enumerate(r["conversations"]):
            kind, value = turn["from"], turn["value"]
            if kind == "human":
                messages.append({"role": "user", "content": value})
            elif kind == "gpt":
                messages.append({"role": "assistant", "content": value})
            elif kind == "function_call":
                call = json.loads(value)
                last = f"call_{n}"
                arguments = json.dumps(call.get("arguments", {}))
                messages.append(
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": last,
                                "type": "function",
                                "function": {"name": call["name"], "arguments": arguments},
                            }
                        ],
                    }
                )
            elif kind == "observation":
                messages.append({"role": "tool", "content": value, "tool_call_id": last})
        yield messages, tools or None


def build_examples(n: int) -> list[tuple[int, dict, str, str]]:
    pool = []
    sources = [
        (_alpaca, "llamafactory/alpaca_en_demo.json", "alpaca"),
        (_alpaca, "llamafactory/identity.json", "alpaca"),
        (_alpaca, "gpteacher/codegen-instruct.json", "alpaca"),
        (_gsm8k, "gsm8k/train.jsonl", "prompt_completion"),
        (_glaive, "llamafactory/glaive_toolcall_en_demo.json", "sharegpt"),
    ]
    for reader, rel, fmt in sources:
        pool.extend((m, t, fmt) for m, t in reader(DATA / rel))
    examples = []
    for i in range(n):
        messages, tools, fmt = pool[i % len(pool)]
        messages = [dict(m) for m in messages]
        copy_no = i // len(pool)
        if copy_no:
            first_user = next(m for m in messages if m["role"] == "user")
            first_user["content"] += f" (variant {copy_no})"
        system = SYSTEMS[i % 3 + 1] if i % 3 == 0 else None
        if system:
            messages.insert(0, {"role": "system", "content": system})
        content = {"messages": messages}
        if tools:
            content["tools"] = tools
        examples.append((i, content, fmt, content_hash(messages, tools)))
    return examples


def encode_only(examples, enc) -> int:
    encode = enc.encode_ordinary
    total = 0
    for _, content, _, _ in examples:
        for message in content["messages"]:
            text = message["content"]
            if text:
                total += len(encode(text))
    return total


def best_of_interleaved(repeat, *fns):
    """Best time and last result of each function, run in turn ``repeat`` times (a load spike on
    a shared machine then hits both sides alike)."""
    best = [float("inf")] * len(fns)
    results = [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            results[i] = fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best, results


def schema_figure(n: int, repeat: int) -> None:
    from jsonschema import Draft202012Validator

    from datasets_app.checks.answer_schema import user_schema

    answers = [
        {
            "label": ("pos", "neg", "neutral")[i % 3],
            "confidence": i % 100 / 100,
            "id": f"abc-{i % 10_000:04d}",
            "tags": ["a", "b", str(i)],
        }
        for i in range(n)
    ]
    plain, safe = Draft202012Validator(ANSWER_SCHEMA), user_schema(ANSWER_SCHEMA)
    (base, value), (old, new) = best_of_interleaved(
        repeat,
        lambda: [next(plain.iter_errors(a), None) is None for a in answers],
        lambda: [safe.first_error(a) is None for a in answers],
    )
    assert old == new, "the safe validator must judge these answers as jsonschema does"
    ratio = value / base
    print(
        f"answer schema check: {value / n * 1e6:.0f} us per answer (jsonschema default {base / n * 1e6:.0f} us)"
    )
    print(
        f"BENCH checks_schema value={value:.2f}s baseline={base:.2f}s ratio={ratio:.2f} target=<={SCHEMA_TARGET_RATIO} pass={'yes' if ratio <= SCHEMA_TARGET_RATIO else 'no'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--schema-answers", type=int, default=10_000)
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"no data at {DATA}")
    examples = build_examples(args.n)
    enc = load_encoding("cl100k_base", cache_dir=tempfile.mkdtemp(prefix="tiktoken-"))
    n_bytes = sum(
        len((m["content"] or "").encode()) for _, c, _, _ in examples for m in c["messages"]
    )
    (base, value), (n_tokens, report) = best_of_interleaved(
        args.repeat,
        lambda: encode_only(examples, enc),
        lambda: build_report(examples, encoding=enc),
    )
    ratio = value / base
    findings = sum(len(f) for f in report.example_findings.values())
    print(f"examples {len(examples)}  text {n_bytes / 1e6:.1f} MB  tokens {n_tokens}")
    print(f"tiktoken encode_ordinary alone: {base:.2f}s ({n_bytes / 1e6 / base:.1f} MB/s)")
    print(
        f"full report (rules + dataset rules + token stats): {value:.2f}s; {findings} example findings, {len(report.dataset_findings)} dataset findings"
    )
    print(f"ratio {ratio:.2f}  (load average {os.getloadavg()[0]:.2f})")
    print(
        f"BENCH checks value={value:.2f}s baseline={base:.2f}s ratio={ratio:.2f} target=<={TARGET_RATIO} pass={'yes' if ratio <= TARGET_RATIO else 'no'}"
    )
    if args.schema_answers:
        schema_figure(args.schema_answers, args.repeat)


if __name__ == "__main__":
    main()
