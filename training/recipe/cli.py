"""Run the recipe from the command line, alone or under ``torchrun`` (one process per GPU)::

    torchrun --nproc_per_node=4 -m training.recipe.cli --config config.json \\
        --train train.jsonl --validation validation.jsonl --out runs/7 --models-dir var/models

Every process trains on its share of the batches; rank 0 prints progress, checkpoints and writes
``<out>/model``. Running it again with the same ``--out`` resumes from the newest checkpoint.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .config import TrainConfig
from .loop import TrainingRecipe
from .reporter import PrintReporter


def read_jsonl(path: str | None) -> list[dict]:
    if not path:
        return []
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", required=True, help="JSON file of TrainConfig fields")
    parser.add_argument("--train", required=True, help="JSONL of chat records")
    parser.add_argument("--validation", help="JSONL of chat records for evaluation")
    parser.add_argument("--out", required=True, help="run folder (checkpoints/ and model/)")
    parser.add_argument("--models-dir", required=True, help="cache of converted base models")
    parser.add_argument("--lineage", default="{}", help="JSON object recorded in the manifest")
    args = parser.parse_args(argv)

    config = TrainConfig.from_dict(json.loads(Path(args.config).read_text()))
    recipe = TrainingRecipe(
        config, out_dir=args.out, models_dir=args.models_dir, reporter=PrintReporter()
    )
    recipe.setup(read_jsonl(args.train), read_jsonl(args.validation))
    result = recipe.train()
    if result.status == "completed":
        recipe.save(lineage=json.loads(args.lineage))
    return 0 if result.status == "completed" else 3


if __name__ == "__main__":
    raise SystemExit(main())
