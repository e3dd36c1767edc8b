"""Parquet export, one row group at a time, so memory holds one group and not the file.

Messages are a nested column (what Hugging Face ``datasets`` reads as a list of dicts); tools and
metadata are JSON text, because tool schemas and metadata have no fixed shape. The importer reads
this layout back to the same content hash.
"""

from __future__ import annotations

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

_CALL = pa.struct(
    [
        ("id", pa.string()),
        ("type", pa.string()),
        ("function", pa.struct([("name", pa.string()), ("arguments", pa.string())])),
    ]
)
_MESSAGE = pa.struct(
    [
        ("role", pa.string()),
        ("content", pa.string()),
        ("name", pa.string()),
        ("weight", pa.int8()),
        ("tool_calls", pa.list_(_CALL)),
        ("tool_call_id", pa.string()),
    ]
)
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("split", pa.string()),
        ("messages", pa.list_(_MESSAGE)),
        ("tools", pa.string()),
        ("metadata", pa.string()),
    ]
)


class _Drain:
    """A write-only file for pyarrow whose bytes we hand on after every row group."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.position = 0
        self.closed = False

    def write(self, data) -> int:
        data = bytes(data)
        self.parts.append(data)
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts = []
        return out


def _record(row) -> dict:
    content, row_id, split = _fields(row)
    tools = content.get("tools")
    metadata = content.get("metadata")
    return {
        "id": None if row_id is None else str(row_id),
        "split": split,
        "messages": content["messages"],
        "tools": orjson.dumps(tools, option=orjson.OPT_SORT_KEYS).decode() if tools else None,
        "metadata": orjson.dumps(metadata, option=orjson.OPT_SORT_KEYS).decode()
        if metadata
        else None,
    }


def _fields(row):
    if isinstance(row, tuple):
        return row[0], row[1], row[2]
    if isinstance(row, dict) and "content" in row:
        return row["content"], row.get("id"), row.get("split")
    return row, None, None


def parquet_chunks(rows, row_group: int):
    """Yield the bytes of a Parquet file holding ``rows``, one row group at a time."""
    sink = _Drain()
    writer = pq.ParquetWriter(sink, SCHEMA, compression="zstd", write_statistics=False)
    batch = []
    for row in rows:
        batch.append(_record(row))
        if len(batch) >= row_group:
            writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
            batch = []
            yield sink.take()
    if batch:
        writer.write_table(pa.Table.from_pylist(batch, schema=SCHEMA))
    writer.close()
    yield sink.take()
