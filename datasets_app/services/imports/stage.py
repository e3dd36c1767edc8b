"""The staging step of an import, as a pure function over plain rows (doccano's maker).

:func:`stage_rows` takes what a reader yields (:class:`ParsedRow` or :class:`RowError`), hashes
each valid row, counts duplicates (within the file and against ``existing``), writes every row it
keeps as one JSON line ``[content, source_format, content_hash]`` to ``staged`` and every error to
``errors``, and stops at the first whole-file cap (``STOP_CODES``). It imports no Django and
touches no database; the caller passes the file objects and a ``keep_going`` callback (lease
renewal) that is asked at most every ``every_s`` seconds. :func:`stage_verdict` says why the
result must not be published, if it must not.

Worked example::

    >>> import io
    >>> row = ParsedRow(1, {"messages": [{"role": "user", "content": "hi"}]}, "openai")
    >>> out, err = io.BytesIO(), io.BytesIO()
    >>> staged = stage_rows([row, row._replace(line=2)], existing=set(), skip_duplicates=True,
    ...                     staged=out, errors=err)
    >>> (staged.rows, staged.valid, staged.dup_file, staged.staged)
    (2, 2, 1, 1)
    >>> stage_verdict(staged, strict=True) is None
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Set
from dataclasses import dataclass, field
from typing import BinaryIO

import orjson

from datasets_app import canonical
from datasets_app.formats.errors import STOP_CODES, ParsedRow, RowError

PROGRESS_EVERY_S = 0.5
FIRST_ERRORS = 50

STRICT_FAILED = "{count} line(s) are invalid, so nothing was imported: this import keeps all lines or none. Fix those lines and upload the file again, or import it again skipping the invalid lines to keep the good ones."
NO_VALID_ROWS = "The file has no valid rows; nothing was imported."
ALL_DUPLICATES = "Every valid row is a duplicate and duplicates are skipped; nothing new to import."
STOPPED = "Line {line}: {message}"


@dataclass
class Staged:
    """What :func:`stage_rows` did: counts, the first errors, and why it stopped early."""

    rows: int = 0
    valid: int = 0
    invalid: int = 0
    dup_file: int = 0
    dup_dataset: int = 0
    staged: int = 0
    first_errors: list[dict] = field(default_factory=list)
    stopped: RowError | None = None  # the whole-file cap that ended reading
    lost: bool = False  # keep_going said no: someone else owns the job now


def stage_rows(
    items: Iterable[ParsedRow | RowError],
    *,
    existing: Set[str],
    skip_duplicates: bool,
    staged: BinaryIO,
    errors: BinaryIO,
    keep_going: Callable[[int], bool] | None = None,
    on_row: Callable[[int], None] | None = None,
    every_s: float = PROGRESS_EVERY_S,
    clock: Callable[[], float] = time.monotonic,
) -> Staged:
    """Stage ``items``; see the module docstring. ``on_row(n)`` runs after the n-th item is
    read, before it is looked at (a fault point); ``keep_going(rows)`` returning False ends
    staging with ``lost=True``."""
    result = Staged()
    seen: set[str] = set()
    last_progress = clock()
    for item in items:
        result.rows += 1
        if on_row is not None:
            on_row(result.rows)
        if type(item) is ParsedRow:
            result.valid += 1
            content = item.content
            chash = canonical.content_hash(content["messages"], content.get("tools"))
            duplicate = False
            if chash in seen:
                result.dup_file += 1
                duplicate = True
            elif chash in existing:
                result.dup_dataset += 1
                duplicate = True
            seen.add(chash)
            if not (duplicate and skip_duplicates):
                staged.write(orjson.dumps([content, item.source_format, chash]))
                staged.write(b"\n")
                result.staged += 1
        else:
            result.invalid += 1
            error = item.as_dict()
            errors.write(orjson.dumps(error))
            errors.write(b"\n")
            if len(result.first_errors) < FIRST_ERRORS:
                result.first_errors.append(error)
            if item.code in STOP_CODES:
                # a cap on the whole file (size, quota, ratio, blank lines): nothing is kept
                result.stopped = item
                break
        if keep_going is not None and clock() - last_progress > every_s:
            last_progress = clock()
            if not keep_going(result.rows):
                result.lost = True
                break
    return result


def stage_verdict(result: Staged, *, strict: bool) -> str | None:
    """Why ``result`` must not be published (the job's failure reason), or None."""
    if result.stopped is not None:
        return STOPPED.format(line=result.stopped.line, message=result.stopped.message)
    if result.invalid and strict:
        return STRICT_FAILED.format(count=result.invalid)
    if result.valid == 0:
        return NO_VALID_ROWS
    if result.staged == 0:
        return ALL_DUPLICATES
    return None
