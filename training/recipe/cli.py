"""Run the recipe from the command line, alone or under ``torchrun`` (one process per GPU)::

    torchrun --nproc_per_node=4 -m training.recipe.cli --config config.json \\
        --train train.jsonl --validation validation.jsonl --out runs/7 --models-dir var/models

Every process trains on its share of the batches; rank 0 prints progress, checkpoints and writes
``<out>/model``. Running it again with the same ``--out`` resumes from the newest checkpoint.

The worker launches it with ``--events`` (rank 0 writes progress as JSON lines, see
:mod:`training.recipe.events`, instead of printing it), ``--cancel-file`` (stop cleanly once the
file exists) and ``--die-with-parent`` (every process dies with the torchrun agent).

Exit status: 0 trained and saved, 3 cancelled, 4 refused with a message written for people
(also sent as an ``error`` event), anything else a crash (traceback on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from . import artifacts
from .base_models import BaseModelError
from .config import ConfigError, TrainConfig
from .data import OverlengthError, TemplateError
from .events import EventWriter, die_with_parent, write_event
from .preference_loop import make_recipe
from .reporter import NullReporter, PrintReporter, TrainingOutOfMemory

EXIT_CANCELLED = 3
EXIT_REFUSED = 4
# Failures whose message is written for people (as the worker shows them in process).
READABLE = (TrainingOutOfMemory, ConfigError, BaseModelError, TemplateError, OverlengthError, ValueError)  # fmt: skip


def read_jsonl(path: str | None) -> list[dict]:
    """Records of a JSONL file (blank lines skipped); an empty list when no path is given."""
    if not path:
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line of one rank (see the module docstring for what each flag is for)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", required=True, help="JSON file of TrainConfig fields")
    parser.add_argument("--train", required=True, help="JSONL of chat records")
    parser.add_argument("--validation", help="JSONL of chat records for evaluation")
    parser.add_argument("--out", required=True, help="run folder (checkpoints/ and model/)")
    parser.add_argument("--models-dir", required=True, help="cache of converted base models")
    parser.add_argument("--lineage", default="{}", help="JSON object recorded in the manifest")
    parser.add_argument(
        "--start-from", help="a saved model folder a dpo/orpo run starts from (SFT → DPO)"
    )
    parser.add_argument("--device", help="force a device (cpu); default: this rank's GPU or CPU")
    parser.add_argument("--events", help="rank 0 appends progress here as JSON lines")
    parser.add_argument("--cancel-file", help="stop cleanly once this file exists")
    parser.add_argument(
        "--die-with-parent", action="store_true", help="get SIGKILL when the parent dies (Linux)"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point of one rank: returns 0 (done), 3 (cancelled) or 4 (refused, reason in events)."""
    args = parse_args(argv)
    if args.die_with_parent:
        # torchrun starts each rank in its own session: without this, a killed agent (or worker)
        # would leave the ranks training on, unseen.
        die_with_parent()
    rank = int(os.environ.get("RANK", "0"))
    try:
        return run(args, rank)
    except READABLE as exc:
        if not args.events:
            raise
        write_event(args.events, "error", kind=type(exc).__name__, message=str(exc), rank=rank)
        return EXIT_REFUSED
    finally:
        close_process_group()


def close_process_group() -> None:
    """Leave the torchrun process group, if this rank joined one. A rank that exits with gloo's
    threads still running can abort ("terminate called without an active exception", SIGABRT)
    after the model was saved, and torchrun then reports the whole run failed."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def run(args: argparse.Namespace, rank: int) -> int:
    """Set up, train and save; returns the exit status."""
    if args.events:
        reporter = EventWriter(args.events, args.cancel_file) if rank == 0 else NullReporter()
    else:
        reporter = PrintReporter()
    config = TrainConfig.from_dict(json.loads(Path(args.config).read_text()))
    recipe = make_recipe(
        config,
        out_dir=args.out,
        models_dir=args.models_dir,
        reporter=reporter,
        device=args.device,
        start_from=args.start_from,
    )
    plan = recipe.setup(read_jsonl(args.train), read_jsonl(args.validation))
    events = isinstance(reporter, EventWriter)
    if events:
        reporter.emit(
            "plan",
            plan=plan,
            resume_step=recipe.step,
            device=str(recipe.device),
            world_size=recipe.world_size,
            library_versions=artifacts.library_versions(),
        )
    result = recipe.train()
    if result.status == "completed":
        if events:
            reporter.emit("phase", phase="saving")
        recipe.save(lineage=json.loads(args.lineage))
    if events:
        reporter.emit("done", status=result.status, steps=result.steps)
    return 0 if result.status == "completed" else EXIT_CANCELLED


if __name__ == "__main__":
    raise SystemExit(main())
