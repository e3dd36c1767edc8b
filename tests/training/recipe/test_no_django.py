import subprocess
import sys
from pathlib import Path

import pytest

RECIPE = Path(__file__).resolve().parents[3] / "training" / "recipe"


@pytest.mark.parametrize("faults", ["", "train.mid_checkpoint_save=delay:0"])
def test_it_never_imports_django_or_celery(faults):
    # With faults on too: the recipe's fault points must not pull the app in (issue 15).
    modules = sorted(p.stem for p in RECIPE.glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import training.recipe.{m}\n" for m in modules)
        + "from finetunedb import faults\n"
        + "assert (faults.PLAN is not None) == bool(sys.argv[1]), faults.PLAN\n"
        + "faults.fault_point('train.mid_checkpoint_save')\n"
        + "print(sorted(m for m in ('django', 'celery') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, faults],
        cwd=RECIPE.parents[1],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "FINETUNEDB_FAULTS": faults},
    )
    assert out.stdout.strip() == "[]"
    assert not [p for p in RECIPE.glob("*.py") if "django" in p.read_text().lower()]
