"""The evaluation app's pure part (docs/architecture.md, "Layers"): its evaluators, statistics
and comparison import no Django — importing them loads neither Django nor torch, so they run
(and are tested) anywhere. That nothing below imports the app is tests/test_layers.py's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_layers import imported_modules, upward

ROOT = Path(__file__).resolve().parents[2]
PURE = [
    ROOT / "evaluation" / "stats.py",
    ROOT / "evaluation" / "comparison.py",
    ROOT / "evaluation" / "nearest.py",
    ROOT / "evaluation" / "pairwise.py",
    *sorted((ROOT / "evaluation" / "evaluators").rglob("*.py")),
]
NOT_IN_PURE = ("django", "rest_framework", "celery", "finetunedb", "training", "torch")


def test_it_keeps_the_evaluators_and_statistics_free_of_django():
    assert len(PURE) > 5
    assert upward(PURE, NOT_IN_PURE) == []
    # Their one reuse below (datasets_app.checks: RE2 and the schema rules) is pure as well.
    for path in PURE:
        for _, module in imported_modules(path):
            assert not module.startswith("evaluation.") or module.startswith(
                (
                    "evaluation.evaluators",
                    "evaluation.stats",
                    "evaluation.comparison",
                    "evaluation.pairwise",
                )
            ), f"{path.name} imports {module}"
    probe = (
        "import sys, evaluation.evaluators, evaluation.stats, evaluation.comparison,"
        " evaluation.pairwise;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'torch'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
