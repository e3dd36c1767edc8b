"""Bytes in: count what is read from the upload, undo gzip within a cap, split lines within a cap.

Nothing here holds more than one buffer (1 MiB) plus one line (``Limits.max_line_bytes``) in memory,
whatever the size of the upload or of what a gzip expands to. What a file decodes to is counted
(:class:`DecodedBudget`) against the per-file cap and the team's room, so a small file cannot
expand past either: gzip by its ratio as well as its size, Parquet row by row.
"""

from __future__ import annotations

import io
import zlib

from . import errors as E

GZIP_MAGIC = b"\x1f\x8b"
BOM = b"\xef\xbb\xbf"
BUFFER_SIZE = 1024 * 1024


class SourceError(Exception):
    """Reading cannot go on: the stream itself is broken (gzip bomb, corrupt gzip)."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


class CountingRaw(io.RawIOBase):
    """Wraps the upload so ``bytes_read`` says how far through the file we are (for progress)."""

    def __init__(self, stream):
        self._stream = stream
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        if not data:
            return 0
        n = len(data)
        buffer[:n] = data
        self.bytes_read += n
        return n


class DecodedBudget:
    """A running count of decoded bytes; ``spend`` raises :class:`SourceError` past the file's
    cap (``decoded_too_large``) or the team's remaining quota (``quota_exceeded``)."""

    def __init__(self, limits: E.Limits):
        self.used = 0
        self._cap = limits.max_decoded_bytes
        self._room = limits.quota_room_bytes

    def spend(self, n: int) -> None:
        self.used += n
        self.require_room(0)

    def require_room(self, n: int) -> None:
        """Raise if ``n`` more bytes would pass a limit (without counting them)."""
        total = self.used + n
        if total > self._cap:
            raise SourceError(E.DECODED_TOO_LARGE, str(self._cap))
        if self._room is not None and total > self._room:
            raise SourceError(E.QUOTA_EXCEEDED, str(self._room))


class BudgetRaw(io.RawIOBase):
    """Passes decoded bytes through, spending each on the budget as it goes by."""

    def __init__(self, buffered, budget: DecodedBudget):
        self._buffered = buffered
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._buffered.read1(len(buffer))
        if not data:
            return 0
        n = len(data)
        self._budget.spend(n)
        buffer[:n] = data
        return n


class GzipRaw(io.RawIOBase):
    """Streams the decompressed bytes of a (multi-member) gzip; raises once ``cap`` is passed,
    or once the output outgrows the input ``max_ratio`` times (after ``RATIO_GRACE_BYTES``)."""

    def __init__(self, raw, cap: int, max_ratio: int = 0):
        self._raw = raw
        self._cap = cap
        self._max_ratio = max_ratio
        self._taken = 0  # compressed bytes read from ``raw``
        self._produced = 0
        self._inflate = zlib.decompressobj(wbits=31)
        self._pending = b""  # compressed input not yet handed to zlib
        self._in_member = False  # zlib has seen input of a member it has not finished

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while True:
            if self._pending or self._in_member:
                # with pending empty this drains output zlib still holds for the member
                self._in_member = True
                try:
                    # max_length keeps one call from inflating a bomb into memory
                    out = self._inflate.decompress(self._pending, len(buffer))
                except zlib.error as exc:
                    raise SourceError("invalid_gzip", str(exc)) from exc
                self._pending = self._inflate.unconsumed_tail
                if self._inflate.eof:
                    # a gzip may hold several members back to back
                    self._pending = self._inflate.unused_data + self._pending
                    self._inflate = zlib.decompressobj(wbits=31)
                    self._in_member = False
                if out:
                    return self._emit(out, buffer)
                if self._pending:
                    continue
            chunk = self._raw.read(BUFFER_SIZE)
            if not chunk:
                if self._in_member:
                    raise SourceError("invalid_gzip", "the file ends in the middle of the data")
                return 0
            self._taken += len(chunk)
            self._pending = chunk

    def _emit(self, out: bytes, buffer) -> int:
        self._produced += len(out)
        if self._produced > self._cap:
            raise SourceError("decompressed_too_large", str(self._cap))
        if self._max_ratio and self._produced > E.RATIO_GRACE_BYTES:
            consumed = max(1, self._taken - len(self._pending))
            if self._produced > self._max_ratio * consumed:
                raise SourceError(E.COMPRESSION_RATIO, str(self._max_ratio))
        n = len(out)
        buffer[:n] = out
        return n


def open_source(stream, max_decompressed_bytes: int, max_ratio: int = 0):
    """Wrap an upload: returns ``(counter, buffered, compressed)``.

    ``counter.bytes_read`` counts bytes taken from the upload itself; ``buffered`` yields the
    (decompressed) content. gzip is recognised by its magic bytes, never by the file name.
    """
    counter = CountingRaw(stream)
    raw = io.BufferedReader(counter, BUFFER_SIZE)
    compressed = raw.peek(2)[:2] == GZIP_MAGIC
    if compressed:
        gzip_raw = GzipRaw(raw, max_decompressed_bytes, max_ratio)
        return counter, io.BufferedReader(gzip_raw, BUFFER_SIZE), True
    return counter, raw, False


def budgeted(buffered, budget: DecodedBudget):
    """``buffered`` with every byte read through it spent on ``budget`` (text containers)."""
    return io.BufferedReader(BudgetRaw(buffered, budget), BUFFER_SIZE)


def iter_lines(buffered, max_line_bytes: int):
    """Yield ``(line_number, bytes)`` per physical line, the newline kept.

    A line over ``max_line_bytes`` is yielded as ``(line_number, None)`` and skipped without
    being held in memory. A UTF-8 byte order mark at the very start is removed.
    """
    readline = buffered.readline
    limit = max_line_bytes + 1
    number = 0
    first = True
    while True:
        line = readline(limit)
        if not line:
            return
        number += 1
        if first:
            first = False
            if line.startswith(BOM):
                line = line[3:]
        if len(line) > max_line_bytes:
            if not line.endswith(b"\n") or len(line.rstrip(b"\r\n")) > max_line_bytes:
                _skip_rest_of_line(readline, line)
                yield number, None
                continue
        yield number, line


def _skip_rest_of_line(readline, line: bytes) -> None:
    while not line.endswith(b"\n"):
        line = readline(BUFFER_SIZE)
        if not line:
            return
