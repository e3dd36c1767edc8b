"""Bytes in: count what is read from the upload, undo gzip within a cap, split lines within a cap.

Nothing here holds more than one buffer (1 MiB) plus one line (``Limits.max_line_bytes``) in memory,
whatever the size of the upload or of what a gzip expands to.
"""

from __future__ import annotations

import io
import zlib

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


class GzipRaw(io.RawIOBase):
    """Streams the decompressed bytes of a (multi-member) gzip; raises once ``cap`` is passed."""

    def __init__(self, raw, cap: int):
        self._raw = raw
        self._cap = cap
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
            self._pending = chunk

    def _emit(self, out: bytes, buffer) -> int:
        self._produced += len(out)
        if self._produced > self._cap:
            raise SourceError("decompressed_too_large", str(self._cap))
        n = len(out)
        buffer[:n] = out
        return n


def open_source(stream, max_decompressed_bytes: int):
    """Wrap an upload: returns ``(counter, buffered, compressed)``.

    ``counter.bytes_read`` counts bytes taken from the upload itself; ``buffered`` yields the
    (decompressed) content. gzip is recognised by its magic bytes, never by the file name.
    """
    counter = CountingRaw(stream)
    raw = io.BufferedReader(counter, BUFFER_SIZE)
    compressed = raw.peek(2)[:2] == GZIP_MAGIC
    if compressed:
        return counter, io.BufferedReader(GzipRaw(raw, max_decompressed_bytes), BUFFER_SIZE), True
    return counter, raw, False


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
