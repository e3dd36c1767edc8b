"""The layers import downwards only (docs/architecture.md, "Layers").

``finetunedb`` (the project and ``finetunedb.teams``) is the base: it imports neither
``datasets_app`` nor ``training`` — not at module level, not inside a function. ``datasets_app``
imports nothing from ``training``. Where a lower layer needs something from an upper one (a
team's storage usage, the home page's datasets, job recovery) the upper app registers a hook in
its ``AppConfig.ready`` (``finetunedb.leases.kind_register``,
``finetunedb.teams.storage_usage.storage_part_register``,
``finetunedb.teams.home_panels.home_panel_register``) and the lower layer composes the hooks.

Allowed, because they are the composition layer that wires the apps together and nothing imports
them back: ``finetunedb/urls.py`` and ``finetunedb/api_urls.py`` (the URL table includes each
app's routes and API views), ``finetunedb/settings/`` (INSTALLED_APPS and dotted paths), and
``finetunedb/celery.py`` (the worker entry point that autodiscovers the apps' tasks).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMPOSITION = {"finetunedb/urls.py", "finetunedb/api_urls.py", "finetunedb/celery.py"}
COMPOSITION_DIRS = ("finetunedb/settings/",)

# Known upward imports still to remove, each with its reason. Do not add to this list: fix the
# import (move the code down, or register a hook). Listed so the test guards everything else now.
NOT_YET_LAYERED: set[str] = set()


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every absolute module ``path`` imports, anywhere in it (functions and classes too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            # ``from datasets_app import x`` names the package itself.
    return found


def upward(paths, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in paths
        for line, module in imported_modules(path)
        if module.split(".")[0] in forbidden
    ]


def base_layer_files() -> list[Path]:
    files = []
    for path in sorted((ROOT / "finetunedb").rglob("*.py")):
        name = path.relative_to(ROOT).as_posix()
        if name in COMPOSITION or name in NOT_YET_LAYERED or name.startswith(COMPOSITION_DIRS):
            continue
        files.append(path)
    return files


def test_it_finds_an_upward_import_inside_a_function(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def f():\n    from training.models import TrainingRun\n    import datasets_app\n"
    )
    assert [m for _, m in imported_modules(probe)] == ["training.models", "datasets_app"]


def test_it_keeps_the_base_layer_free_of_the_apps():
    files = base_layer_files()
    assert ROOT / "finetunedb" / "teams" / "quota.py" in files
    assert ROOT / "finetunedb" / "teams" / "pages" / "teams.py" in files
    assert upward(files, ("datasets_app", "training", "evaluation", "capture")) == []


def test_it_keeps_the_datasets_app_free_of_training():
    files = sorted((ROOT / "datasets_app").rglob("*.py"))
    # capture sits on datasets_app too: an example keeps its log's id, not a foreign key
    assert upward(files, ("training", "evaluation", "capture")) == []


def test_it_keeps_training_free_of_evaluation():
    # evaluation sits on top (it runs training's models on datasets_app's versions); its pure
    # evaluators and statistics are checked in tests/evaluation/test_layers.py.
    files = sorted((ROOT / "training").rglob("*.py"))
    assert upward(files, ("evaluation",)) == []


def test_it_lists_only_exceptions_that_still_exist():
    for name in NOT_YET_LAYERED:
        assert upward([ROOT / name], ("datasets_app", "training")), f"{name} is layered now"


def test_it_has_every_storage_part_measured_by_its_app(db):
    from finetunedb.teams.storage_usage import PARTS, storage_parts_registered

    owners = {part: m.__module__ for part, m in storage_parts_registered().items()}
    assert owners == {
        "uploads": "datasets_app.services.storage",
        "reports": "datasets_app.services.storage",
        "content": "datasets_app.services.storage",
        "models": "training.services.storage",
    }
    assert set(owners) == set(PARTS)
