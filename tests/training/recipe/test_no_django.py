import subprocess
import sys
from pathlib import Path

RECIPE = Path(__file__).resolve().parents[3] / "training" / "recipe"


def test_it_never_imports_django():
    modules = sorted(p.stem for p in RECIPE.glob("*.py") if p.stem != "__init__")
    code = (
        "import sys\n"
        + "".join(f"import training.recipe.{m}\n" for m in modules)
        + "print('django' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=RECIPE.parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "False"
    assert not [p for p in RECIPE.glob("*.py") if "django" in p.read_text().lower()]
