"""Input for the import/export benchmarks: a large OpenAI chat JSONL built from ../shared/data.

How: every file in ../shared/data is read with ``datasets_app.formats.iter_rows`` itself (Alpaca,
gsm8k question/answer, ShareGPT with tool calls, typed parts, preference, self-instruct — each
mapped to canonical chat), which gives a pool of ~16,000 real examples. Line ``i`` takes pool
example ``i % len(pool)``; every line also gets one of ``len(SYSTEM_PROMPTS)`` system prompts
(when the example has none) so lines average ≈1 KB like typical chat fine-tuning data, and every
copy after the first pass gets a `` (variant N)`` suffix on its last message, so no two lines have
the same content hash. Metadata is dropped; ``tools`` are kept.
"""

from __future__ import annotations

import glob
import sys
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

SYSTEM_PROMPTS = [
    f"You are assistant #{n}, a careful helper for a small software company. Answer the user's "
    "question accurately and concisely, show your reasoning when the task is arithmetic or code, "
    "keep a friendly and professional tone, never invent facts you are unsure of, and say so "
    "plainly when a question is ambiguous or cannot be answered from the information given."
    for n in range(16)
]


def _pool() -> list[dict]:
    from datasets_app.formats import ParsedRow, iter_rows

    if not DATA.exists():
        raise SystemExit(f"no data at {DATA} (the benchmarks build their input from it)")
    pool = []
    for name in sorted(glob.glob(str(DATA / "*" / "*.json*"))):
        with open(name, "rb") as handle:
            pool += [r.content for r in iter_rows(handle) if type(r) is ParsedRow]
    return pool


def _lines(pool: list[dict]):
    i = 0
    while True:
        content = pool[i % len(pool)]
        messages = content["messages"]
        if messages[0]["role"] != "system":
            system = SYSTEM_PROMPTS[i % len(SYSTEM_PROMPTS)]
            messages = [{"role": "system", "content": system}, *messages]
        if i >= len(pool):
            last = dict(messages[-1])
            last["content"] = (last["content"] or "") + f" (variant {i // len(pool)})"
            messages = [*messages[:-1], last]
        obj = {"messages": messages}
        if content.get("tools"):
            obj["tools"] = content["tools"]
        yield orjson.dumps(obj) + b"\n"
        i += 1


def build_chat_jsonl(path: Path, *, rows: int | None = None, min_bytes: int | None = None):
    """Write distinct OpenAI chat lines to ``path`` — ``rows`` of them, or as many as it takes to
    reach ``min_bytes`` — streaming. Returns ``(rows, bytes)`` written."""
    size = count = 0
    with open(path, "wb") as out:
        for line in _lines(_pool()):
            if rows is not None and count >= rows or min_bytes is not None and size >= min_bytes:
                break
            out.write(line)
            size += len(line)
            count += 1
    return count, size


def django_start(data_dir: Path) -> None:
    """Point Django at a fresh SQLite database under ``data_dir`` (the embedded default's settings,
    ``finetunedb.settings.dev``) and migrate it. Call before importing any model."""
    import os

    os.environ["DJANGO_SETTINGS_MODULE"] = "finetunedb.settings.dev"
    os.environ["DATA_DIR"] = str(data_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # As scripts/serve.sh: tasks queued after a publish (dataset checks) land in the broker folder.
    for name in ("queue", "processed", "control"):
        (data_dir / "broker" / name).mkdir(parents=True, exist_ok=True)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def make_dataset(name: str):
    """A user who owns a team with one empty dataset; returns ``(user, dataset)``."""
    from django.contrib.auth import get_user_model

    from datasets_app.models import Dataset
    from finetunedb.teams.models import Membership, Team

    user, _ = get_user_model().objects.get_or_create(username="bench")
    team = Team.objects.create(name=name)
    Membership.objects.create(team=team, user=user, role="owner")
    return user, Dataset.objects.create(team=team, name=name, created_by=user)


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (VmHWM), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss() -> None:
    """Make VmHWM start again from the current RSS (Linux ≥ 4.0), so a later peak is this phase's."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
