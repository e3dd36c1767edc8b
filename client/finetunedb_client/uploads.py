"""A multipart/form-data body read from the file as it is sent (never whole in memory).

``requests`` builds multipart bodies in memory; for a file of gigabytes that is not an option.
:class:`MultipartFile` is a file-like object over the form fields, the file and the closing
boundary, with a length, so ``requests`` sends it with a Content-Length, block by block, and a
progress bar moves as the bytes leave.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

BLOCK = 256 * 1024


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "").replace("\n", "")


class MultipartFile:
    def __init__(
        self, path: str | os.PathLike, *, fields: dict, field_name: str = "file", on_read=None
    ):
        self.path = Path(path)
        self.boundary = "finetunedb-" + secrets.token_hex(16)
        self.on_read = on_read
        head = b""
        for name, value in fields.items():
            if value is None:
                continue
            head += (
                f"--{self.boundary}\r\n"
                f'Content-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'
                f"{value}\r\n"
            ).encode()
        head += (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{field_name}"; '
            f'filename="{_quote(self.path.name)}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self._parts = [head, None, f"\r\n--{self.boundary}--\r\n".encode()]
        self.file_size = self.path.stat().st_size
        self.len = len(head) + self.file_size + len(self._parts[2])
        self._file = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        self._index = 0
        self._offset = 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self.len

    def read(self, size: int = -1) -> bytes:
        out = b""
        want = self.len if size is None or size < 0 else size
        while len(out) < want and self._index < len(self._parts):
            part = self._parts[self._index]
            if part is None:
                chunk = self._file.read(want - len(out))
                if not chunk:
                    self._index += 1
                    continue
                if self.on_read is not None:
                    self.on_read(len(chunk))
                out += chunk
            else:
                chunk = part[self._offset : self._offset + want - len(out)]
                self._offset += len(chunk)
                out += chunk
                if self._offset >= len(part):
                    self._index += 1
                    self._offset = 0
        return out

    def __iter__(self):
        while True:
            block = self.read(BLOCK)
            if not block:
                return
            yield block

    def close(self) -> None:
        self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
