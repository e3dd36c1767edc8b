"""Split a top-level JSON array into its elements without loading the whole array.

A regular expression jumps over whole strings and runs of plain characters, so Python only looks
at brackets, commas and newlines. Each element's bytes are handed on with the line it starts on;
an element over the size cap or nested past the depth cap is skipped without being kept.
"""

from __future__ import annotations

import re

from . import errors as E
from .source import SourceError

# one token: a complete string, an unterminated string (needs more input), or a run of other bytes
_TOKEN = re.compile(rb'"(?:[^"\\\n]|\\.)*"|"|[\[\]{}]|,|\n|[^"\[\]{},\n]+')
CHUNK = 1024 * 1024


class ArrayError(Exception):
    """The array itself is broken (not an element): reading stops."""

    def __init__(self, line: int, detail: str):
        super().__init__(detail)
        self.line = line
        self.detail = detail


def iter_elements(read, limits: E.Limits, first: bytes = b""):
    """Yield ``(line, bytes | RowError)`` per top-level element of the array read by ``read(n)``.

    ``first`` is data already read (it must start at the opening ``[``, whitespace allowed).
    JSON strings cannot hold a raw newline, so a string never spans lines; that bounds how far
    the tokenizer has to look ahead at a chunk boundary. An element too deep or too large is
    reported once, as soon as it is seen, and the rest of it is skipped.
    """
    max_bytes = limits.max_line_bytes
    max_depth = limits.max_depth
    buf = first
    pos = 0
    line = 1
    depth = 0  # 0 = outside the array, 1 = inside it, 2+ = inside an element
    started = closed = eof = False
    element = []  # byte pieces of the current element
    size = start_line = 0
    skipping = False
    max_blank = limits.max_blank_lines
    blank = 0
    after_newline = False  # only whitespace and commas since the last newline between elements
    while True:
        match = _TOKEN.match(buf, pos)
        if not eof and _needs_more(match, buf, pos):
            more = read(CHUNK)
            if not more:
                eof = True
            elif len(buf) - pos > max_bytes + CHUNK:
                raise ArrayError(line, E.MSG_LINE_TOO_LONG.format(max_bytes))
            buf = buf[pos:] + more
            pos = 0
            continue
        if match is None:
            break
        token = match.group()
        pos = match.end()
        ch = token[:1]
        if ch == b"\n":
            line += 1
        if depth <= 1:
            if ch == b"\n":
                if after_newline:
                    blank += 1
                    if max_blank and blank > max_blank:
                        raise SourceError(E.TOO_MANY_BLANK_LINES, str(max_blank))
                after_newline = True
                continue
            if not token.strip() or (depth == 1 and ch == b","):
                continue
            after_newline = False
            if closed:
                raise ArrayError(line, "there is more data after the closing ]")
            if not started:
                if ch != b"[":
                    raise ArrayError(line, "the file does not start with [")
                started = True
                depth = 1
                continue
            if ch == b"]":
                closed = True
                depth = 0
                continue
            if ch == b'"' and len(token) == 1:
                raise ArrayError(line, "a string is not closed before the end of its line")
            start_line = line
            if ch not in (b"[", b"{"):
                yield start_line, token  # a scalar: not an object, reported by the caller
                continue
            depth = 2
            element = [token]
            size = len(token)
            skipping = False
            continue
        if ch == b'"' and len(token) == 1:
            raise ArrayError(line, "a string is not closed before the end of its line")
        if ch == b"[" or ch == b"{":
            depth += 1
            if depth - 1 > max_depth and not skipping:
                skipping = True
                element = []
                yield start_line, E.error(start_line, E.TOO_DEEP, E.MSG_TOO_DEEP, max_depth)
        elif ch == b"]" or ch == b"}":
            depth -= 1
        if not skipping:
            size += len(token)
            if size > max_bytes:
                skipping = True
                element = []
                yield (
                    start_line,
                    E.error(start_line, E.LINE_TOO_LONG, E.MSG_LINE_TOO_LONG, max_bytes),
                )
            else:
                element.append(token)
        if depth == 1 and not skipping:
            yield start_line, b"".join(element)
            element = []
    if not started:
        raise ArrayError(line, "the file holds no JSON array")
    if not closed:
        raise ArrayError(line, "the file ends before the array is closed with ]")


def _needs_more(match, buf: bytes, pos: int) -> bool:
    # a token touching the end of the buffer may be cut short by the chunk boundary
    if match is None:
        return True
    token = match.group()
    if token == b'"':
        return b"\n" not in buf[pos:]
    return match.end() == len(buf) and token[:1] not in b"[]{},\n"
