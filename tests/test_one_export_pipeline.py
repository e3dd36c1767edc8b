"""Walk the source tree and prove there is one export pipeline (datasets_app/services/export).

Every export — API, management command, bench — and every read of a version's rows for training
goes through ``datasets_app.services.export``: its ``pipeline`` validates, runs the lossy
pre-pass and calls the writers; its ``sources`` are the only row readers. A module that brings
back a second row reader, a second caller of the writers, a second ``dataset_export``, or imports
the package's internals fails here, whatever it is named. Pure AST walks: no database.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TREES = ("datasets_app", "finetunedb", "training", "bench")
PACKAGE = "datasets_app/services/export"
PIPELINE = f"{PACKAGE}/pipeline.py"
SOURCES = f"{PACKAGE}/sources.py"
FORMATS = "datasets_app/formats"
# The writers' side of datasets_app.formats: only the pipeline (and its sources, for the row
# type) may touch them.
WRITER_NAMES = {"write_export", "Export", "ExportRow", "unrepresentable_reason", "WriteError"}
WRITER_MODULES = {"export", "encoders", "parquet_writer"}
# A lookup of a frozen revision's content (not the working copy's current_revision__…).
VERSION_CONTENT = re.compile(r"(?<!current_)revision__(messages|tools|metadata)\b")
ENTRY_POINTS = (
    "datasets_app/api/transfer.py",
    "datasets_app/api/versions.py",
    "datasets_app/management/commands/export_examples.py",
    "training/services/records.py",
)


def _modules():
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if "/migrations/" in rel or "__pycache__" in rel:
                continue
            yield rel, ast.parse(path.read_text(), filename=rel)


MODULES = dict(_modules())


def _absolute(rel: str, node: ast.ImportFrom) -> str:
    """The dotted module an ``from … import`` names, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = rel.removesuffix(".py").split("/")
    package = package[: len(package) - node.level]
    return ".".join(package + ([node.module] if node.module else []))


def _imports(rel: str, tree: ast.AST):
    """``(module, name)`` for every imported name; ``(module, None)`` for ``import module``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = _absolute(rel, node)
            for alias in node.names:
                yield module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None


def _inside(rel: str, *prefixes: str) -> bool:
    return any(rel == p or rel.startswith(p + "/") for p in prefixes)


def test_it_walks_the_tree_it_means():
    assert PIPELINE in MODULES and SOURCES in MODULES
    assert all(entry in MODULES for entry in ENTRY_POINTS)
    assert len(MODULES) > 100


def test_it_finds_the_writers_used_only_by_the_pipeline():
    offenders = []
    for rel, tree in MODULES.items():
        if _inside(rel, FORMATS, PACKAGE):
            continue
        for module, name in _imports(rel, tree):
            parts = module.split(".")
            if parts[:2] == ["datasets_app", "formats"] and (
                name in WRITER_NAMES or set(parts[2:3]) & WRITER_MODULES or name in WRITER_MODULES
            ):
                offenders.append(f"{rel}: {module}.{name}")
    assert offenders == []


def test_it_finds_export_rows_built_and_written_only_in_the_pipeline():
    allowed = {
        "ExportRow": {SOURCES},
        "write_export": {PIPELINE},
        "unrepresentable_reason": {PIPELINE},
    }
    offenders = []
    for rel, tree in MODULES.items():
        if _inside(rel, FORMATS):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if name in allowed and rel not in allowed[name]:
                    offenders.append(f"{rel}:{node.lineno} {name}()")
    assert offenders == []


def test_it_reads_version_content_only_through_the_version_row_source():
    offenders = []
    for rel, tree in MODULES.items():
        if rel == SOURCES:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and VERSION_CONTENT.search(node.value)
            ):
                offenders.append(f"{rel}:{node.lineno} {node.value!r}")
    assert offenders == []


def test_it_defines_the_export_services_once():
    names = {"dataset_export", "dataset_version_export", "export_filename", "version_rows"}
    defined = {}
    for rel, tree in MODULES.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name in names:
                defined.setdefault(node.name, []).append(rel)
    assert defined == {
        "dataset_export": [PIPELINE],
        "dataset_version_export": [PIPELINE],
        "export_filename": [PIPELINE],
        "version_rows": [SOURCES],
    }


def test_it_keeps_the_package_internals_to_the_package():
    offenders = []
    for rel, tree in MODULES.items():
        if _inside(rel, PACKAGE):
            continue
        for module, name in _imports(rel, tree):
            if module.startswith("datasets_app.services.export.") or (
                module == "datasets_app.services.export" and name in ("pipeline", "sources")
            ):
                offenders.append(f"{rel}: {module}.{name}")
            if module in ("datasets_app.services.exports", "datasets_app.services.versions.export"):
                offenders.append(f"{rel}: {module}")
    assert offenders == []


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_it_sends_every_entry_point_through_the_pipeline(entry):
    modules = {module for module, _ in _imports(entry, MODULES[entry])}
    names = {(module, name) for module, name in _imports(entry, MODULES[entry])}
    assert "datasets_app.services.export" in modules or (
        ("datasets_app.services", "export") in names
    )


def test_it_words_every_export_error_with_a_module_constant():
    constants = {
        target.id
        for node in MODULES[PIPELINE].body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.isupper()
    }
    raised = []
    for rel, tree in MODULES.items():
        if not _inside(rel, PACKAGE):
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "ApplicationError"
                and node.args
            ):
                message = node.args[0]
                if isinstance(message, ast.Call) and isinstance(message.func, ast.Attribute):
                    message = message.func.value  # CONSTANT.format(...)
                raised.append(message.id if isinstance(message, ast.Name) else ast.dump(message))
    assert raised and set(raised) <= constants, raised
