"""Views build no querysets: every read of the database goes through the app's selectors.

Every module under an app's ``pages/`` and ``api/`` packages is walked. A view may call a
selector (``selectors.dataset_get_for_user``, ``selectors.import_job_list``) and evaluate what it
returns (iterate it, slice it, ``.first()``, ``.count()``, ``.all()`` on a relation of a row it
already resolved), but it may not construct or refine a query: no ``Model.objects``, no
``.filter()/.exclude()/.annotate()/.order_by()/.values()/...``, no query expressions
(``Prefetch``, ``Q``, ``Count``, ...), and no reaching rows by id through the scoping helpers
(``get_for_user``, ``scope_to_user``): that is what the selectors are for, so team scoping and the
shape of each read live in one place (docs/architecture.md, "Selectors read").

A failure names file:line and what was found; move the query into the app's selectors as a
keyword-only ``<entity>_<action>`` function.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".venv", "node_modules", "tests", ".git", "static", "templates"}

# Calls that build or refine a queryset. Evaluating one (first, last, count, exists, all on a
# relation, iteration, slicing) is allowed: the query itself was built by a selector.
REFINING = {
    "filter", "exclude", "annotate", "alias", "aggregate", "order_by", "reverse", "distinct",
    "select_related", "prefetch_related", "only", "defer", "values", "values_list", "extra",
    "raw", "select_for_update", "in_bulk", "union", "intersection", "difference", "none",
    "dates", "datetimes", "using",
}  # fmt: skip
QUERY_EXPRESSIONS = {
    "Prefetch", "Q", "F", "Count", "Sum", "Max", "Min", "Avg", "Exists", "OuterRef", "Subquery",
    "Case", "When", "Value", "Func", "ExpressionWrapper", "Window", "RawSQL",
}  # fmt: skip
SCOPING_READS = {"get_for_user", "scope_to_user", "team_ids_for"}

# Left where they are, each with its reason (a module's path -> why). Empty: keep it so. Do not
# add to it; move the query into a selector instead.
NOT_YET_MOVED: dict[str, str] = {}


def view_modules() -> list[Path]:
    """Every module of every ``pages/`` and ``api/`` package of the project's apps."""
    found = []
    for package in sorted(ROOT.rglob("__init__.py")):
        folder = package.parent
        if folder.name not in ("pages", "api"):
            continue
        if SKIP & set(folder.relative_to(ROOT).parts):
            continue
        found += sorted(folder.glob("*.py"))
    return found


class _Finder(ast.NodeVisitor):
    def __init__(self):
        self.found: list[tuple[int, str | None, str]] = []
        self.functions: list[str] = []

    def _add(self, node, what):
        self.found.append((node.lineno, self.functions[0] if self.functions else None, what))

    def visit_FunctionDef(self, node):
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Attribute(self, node):
        if node.attr == "objects":
            self._add(node, f"{ast.unparse(node)} (a manager)")
        self.generic_visit(node)

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in REFINING:
            # dict.values() takes no arguments; a queryset's .values() in a view names fields
            if not (func.attr == "values" and not node.args and not node.keywords):
                self._add(node, f".{func.attr}() on {ast.unparse(func.value)[:60]}")
        elif isinstance(func, ast.Name) and func.id in QUERY_EXPRESSIONS | SCOPING_READS:
            self._add(node, f"{func.id}()")
        self.generic_visit(node)

    def visit_ImportFrom(self, node):
        names = {alias.name for alias in node.names}
        if (node.module or "").startswith("django.db") and names & QUERY_EXPRESSIONS:
            self._add(node, f"imports {sorted(names & QUERY_EXPRESSIONS)} from {node.module}")
        if (node.module or "").endswith("scoping") and names & SCOPING_READS:
            self._add(node, f"imports {sorted(names & SCOPING_READS)} from {node.module}")
        self.generic_visit(node)


def queries_built(path: Path) -> list[tuple[int, str | None, str]]:
    """(line, top-level function or None, what) for each query a module builds."""
    finder = _Finder()
    finder.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return finder.found


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def test_it_finds_queries_built_in_a_view(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from django.db.models import Count, Prefetch\n"
        "from finetunedb.teams.scoping import get_for_user\n"
        "def page(request, dataset):\n"
        "    rows = Example.objects.all()\n"
        "    rows = dataset.examples.filter(status='draft').order_by('id')\n"
        "    totals = {'a': 1}.values()\n"
        "    return selectors.example_list(dataset).first(), rows, totals\n"
    )
    found = [(line, what.split(" ")[0]) for line, _, what in queries_built(probe)]
    assert found == [
        (1, "imports"),
        (2, "imports"),
        (4, "Example.objects"),
        (5, ".order_by()"),
        (5, ".filter()"),
    ]


def test_it_walks_the_pages_and_api_of_every_app():
    names = {_name(p) for p in view_modules()}
    for expected in (
        "datasets_app/pages/dedup.py",
        "datasets_app/api/transfer.py",
        "training/pages/models.py",
        "training/api/runs.py",
        "finetunedb/teams/pages/teams.py",
        "finetunedb/teams/api/teams.py",
    ):
        assert expected in names


def test_it_builds_no_queryset_in_a_view():
    problems = [
        f"{_name(path)}:{line} ({function or 'module'}) builds a query: {what}"
        for path in view_modules()
        for line, function, what in queries_built(path)
        if _name(path) not in NOT_YET_MOVED
    ]
    assert problems == [], "move these into the app's selectors:\n" + "\n".join(problems)


def test_it_lists_only_exceptions_that_still_exist():
    for name, reason in NOT_YET_MOVED.items():
        assert queries_built(ROOT / name), f"{name} ({reason}) builds no query now: drop it"
