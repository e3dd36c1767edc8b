"""docs/architecture.md matches the tree: every path it names exists, and every app's pages/,
api/ and selectors are in its tree.

The tree block is read by indentation (two spaces a level): a line's names (``x.py``, ``x/``)
come first, separated by single spaces, then, after two or more spaces, a description; lines
that start past the names column continue the description above. Backticked paths in the prose
(``finetunedb/strictjson.py``, ``datasets_app/selectors/``) must exist too.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
NAME = re.compile(r"^[A-Za-z_][\w]*(\.py|/)$")
CONTINUATION_INDENT = 12
# An app: a package with an AppConfig, its views split into pages/ and api/.
APP_PARTS = ("pages/", "api/")


def tree_block(text: str) -> list[str]:
    block = re.search(r"^```\n(finetunedb/.*?)^```$", text, re.S | re.M)
    assert block, "docs/architecture.md has no tree block starting with finetunedb/"
    return block.group(1).splitlines()


def tree_paths(lines: list[str]) -> tuple[set[str], list[str]]:
    """(every path the tree names, lines whose names part is not names)."""
    paths, malformed, parents = set(), [], []
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip() or indent >= CONTINUATION_INDENT:
            continue
        names = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0].split(" ")
        if not all(NAME.match(n) for n in names):
            malformed.append(line)
            continue
        level = indent // 2
        parents = parents[:level]
        prefix = "".join(parents)
        paths |= {prefix + n for n in names}
        directories = [n for n in names if n.endswith("/")]
        if len(names) == 1 and directories:
            parents.append(directories[0])
    return paths, malformed


def prose_paths(text: str) -> set[str]:
    """Backticked repository paths outside the tree: they start at a top-level folder of the
    repository (``training/recipe/``; not ``pages/urls.py``, which is relative to an app) and
    hold no placeholder (``<app>/api/*.py``)."""
    prose = re.sub(r"^```\n.*?^```$", "", text, flags=re.S | re.M)
    top = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")}
    return {
        token
        for token in re.findall(r"`([^`\s]+)`", prose)
        if re.match(r"^[\w./]+$", token) and "/" in token and token.split("/")[0] in top
    }


def apps() -> list[Path]:
    return sorted(
        p.parent
        for p in ROOT.glob("**/apps.py")
        if not ({".venv", "tests", "node_modules"} & set(p.relative_to(ROOT).parts))
    )


def test_it_reads_the_tree_by_indentation():
    paths, malformed = tree_paths(
        [
            "top/                 what it is",
            "  a.py b/  two names, then a description",
            "  sub/               a package",
            "    c.py",
            "                     a description carried over",
            "  d.py",
            "  not a name here",
        ]
    )
    assert paths == {"top/", "top/a.py", "top/b/", "top/sub/", "top/sub/c.py", "top/d.py"}
    assert malformed == ["  not a name here"]


def test_it_names_only_paths_that_exist():
    text = DOC.read_text(encoding="utf-8")
    paths, malformed = tree_paths(tree_block(text))
    assert malformed == [], "tree lines must start with names (x.py, x/)"
    assert "datasets_app/pages/" in paths and "finetunedb/teams/api/" in paths
    missing = sorted(p for p in paths | prose_paths(text) if not (ROOT / p).exists())
    assert missing == [], f"docs/architecture.md names paths that do not exist: {missing}"


def test_it_shows_every_apps_pages_api_and_selectors():
    paths, _ = tree_paths(tree_block(DOC.read_text(encoding="utf-8")))
    missing = []
    for app in apps():
        name = app.relative_to(ROOT).as_posix() + "/"
        parts = [p for p in APP_PARTS if (app / p).is_dir()]
        parts += [s for s in ("selectors.py", "selectors/") if (app / s).exists()]
        if not any((app / p).is_dir() for p in APP_PARTS):
            continue
        missing += [name + p for p in parts if name + p not in paths]
        if not any(name + s in paths for s in ("selectors.py", "selectors/")):
            missing.append(name + "selectors (the app has none: reads need one home)")
    assert missing == [], f"add to the tree in docs/architecture.md: {missing}"
