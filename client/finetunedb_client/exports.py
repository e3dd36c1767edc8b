"""Exports: streamed to a file as the API sends them, then read as records, pandas or datasets.

The file holds the API's bytes unchanged (``client.export(version_id, path="v1.jsonl")`` is
byte-identical to ``GET /api/v1/versions/{id}/export/``). It is written under a temporary name
beside the target and renamed at the end, so an interrupted download never leaves a partial
file under the final name.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

CHUNK = 1024 * 1024
PANDAS_MISSING = "to_pandas() needs pandas: pip install pandas (and pyarrow for Parquet exports)."
DATASETS_MISSING = "to_dataset() needs the Hugging Face datasets package: pip install datasets."


def stream_to_file(response, path: str | os.PathLike, *, progress=None) -> int:
    """Write ``response``'s body to ``path`` atomically; returns the number of bytes."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in response.iter_content(CHUNK):
                out.write(chunk)
                size += len(chunk)
                if progress is not None:
                    progress.update(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    finally:
        response.close()
    return size


class Export:
    """A downloaded export: ``path`` (the file), ``format``, ``size``."""

    def __init__(self, path: Path, *, format: str, size: int, temporary: bool = False):
        self.path = Path(path)
        self.format = format
        self.size = size
        self._temporary = temporary

    def __repr__(self) -> str:
        return f"Export(path={str(self.path)!r}, format={self.format!r}, size={self.size})"

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def _open_text(self):
        with open(self.path, "rb") as probe:
            gzipped = probe.read(2) == b"\x1f\x8b"
        if gzipped:
            return gzip.open(self.path, "rt", encoding="utf-8")
        return open(self.path, encoding="utf-8")

    def records(self) -> Iterator[dict]:
        """Each example as a dict: one per JSONL line, or per Parquet row."""
        if self.format == "parquet":
            yield from self.to_arrow().to_pylist()
            return
        with self._open_text() as lines:
            for line in lines:
                if line.strip():
                    yield json.loads(line)

    def _columns(self) -> dict[str, list]:
        # every key any row has, not just the first row's (what pyarrow's and datasets'
        # from_pylist/from_list use): a JSONL export writes "tools" only on rows that have tools
        rows = list(self.records())
        names = dict.fromkeys(key for row in rows for key in row)
        return {name: [row.get(name) for row in rows] for name in names}

    def to_arrow(self):
        """A ``pyarrow.Table`` (pyarrow required); a column for every key any row has."""
        import pyarrow as pa

        if self.format == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(self.path)
        return pa.table(self._columns())

    def to_pandas(self):
        """A ``pandas.DataFrame``, one row per example (pandas required)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(PANDAS_MISSING) from exc
        if self.format == "parquet":
            return self.to_arrow().to_pandas()
        return pd.DataFrame.from_records(list(self.records()))

    def to_dataset(self):
        """A Hugging Face ``datasets.Dataset`` (the datasets package required)."""
        try:
            import datasets
        except ImportError as exc:
            raise ImportError(DATASETS_MISSING) from exc
        if self.format == "parquet":
            return datasets.Dataset(self.to_arrow())
        return datasets.Dataset.from_dict(self._columns())

    def close(self) -> None:
        """Remove the file when the client made it (an export asked for without ``path``)."""
        if self._temporary:
            self.path.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
