"""Every public function, class and method of ``training/recipe/`` says what it does (STYLE.md).

The recipe is the part of the code base people read to learn how training works and hack on it;
a public name without a docstring fails here, with the list of what is missing.
"""

import ast
from pathlib import Path

RECIPE = Path(__file__).resolve().parents[3] / "training" / "recipe"


def _public_without_docstring(path: Path) -> list[str]:
    missing = []
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.FunctionDef | ast.ClassDef) or node.name.startswith("_"):
            continue
        if ast.get_docstring(node) is None:
            missing.append(f"{path.name}:{node.lineno} {node.name}")
        if isinstance(node, ast.ClassDef) and not node.name.startswith("Null"):
            for sub in node.body:
                public = isinstance(sub, ast.FunctionDef) and not sub.name.startswith("_")
                if public and ast.get_docstring(sub) is None and not _overrides_protocol(node, sub):
                    missing.append(f"{path.name}:{sub.lineno} {node.name}.{sub.name}")
    return missing


def _overrides_protocol(cls: ast.ClassDef, method: ast.FunctionDef) -> bool:
    # A reporter subclass implements the documented Reporter protocol; its methods inherit it.
    return any(isinstance(b, ast.Name) and b.id.endswith("Reporter") for b in cls.bases)


def test_it_finds_the_recipe_modules():
    assert len(list(RECIPE.glob("*.py"))) > 10


def test_it_documents_every_public_recipe_name():
    missing = [m for path in sorted(RECIPE.glob("*.py")) for m in _public_without_docstring(path)]
    assert missing == [], "public recipe names without a docstring:\n" + "\n".join(missing)
