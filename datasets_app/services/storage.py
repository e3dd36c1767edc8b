"""The bytes a team keeps in the datasets app, one measure per storage part.

Registered in ``DatasetsConfig.ready`` (``finetunedb.teams.storage_usage.storage_part_register``)
and composed by ``finetunedb.teams.quota``: ``uploads`` (the size column of its import jobs),
``reports`` (the error reports' recorded sizes), ``content`` (the stored JSON of every example
revision).
"""

from __future__ import annotations

from django.db.models import BigIntegerField, Func, Sum, TextField, Value
from django.db.models.functions import Cast, Coalesce, Length

from .. import storage
from ..models import ExampleRevision, ImportJob


def team_upload_bytes(team_id: int) -> int:
    """Bytes of the team's stored import files (one indexed aggregate)."""
    total = ImportJob.objects.filter(dataset__team_id=team_id).aggregate(n=Sum("size_bytes"))["n"]
    return int(total or 0)


def team_report_bytes(team_id: int) -> int:
    """Bytes of the team's import error reports, by the size the worker recorded on each job
    (the same whether the report sits in a bucket or the local folder; the web's fetched copy
    is not counted again); a report written before sizes were recorded is measured on disk."""
    jobs = ImportJob.objects.filter(dataset__team_id=team_id, has_error_report=True)
    total = int(jobs.aggregate(n=Sum("report_bytes"))["n"] or 0)
    for name in jobs.filter(report_bytes__isnull=True).values_list("stored_name", flat=True):
        try:
            total += storage.path_for(storage.REPORTS, name, ".errors.jsonl").stat().st_size
        except (FileNotFoundError, ValueError):
            continue
    return total


class StoredBytes(Func):
    """Bytes a JSON column's value takes in the database.

    SQLite: the UTF-8 text's byte length (a cast to BLOB; LENGTH of text counts characters and is
    about twice as slow). PostgreSQL: ``pg_column_size``, the stored size after compression,
    read without decompressing. Elsewhere: the length of the value as text.
    """

    output_field = BigIntegerField()

    def as_sql(self, compiler, connection, **extra_context):
        return Length(Cast(self.source_expressions[0], TextField())).as_sql(compiler, connection)

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="LENGTH(CAST(%(expressions)s AS BLOB))"
        )

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, template="pg_column_size(%(expressions)s)")


def _stored(field: str):
    return Coalesce(StoredBytes(field), Value(0))


def team_content_bytes(team_id: int) -> int:
    """Stored bytes of the messages, tools and metadata of every revision of the team's
    examples (revisions are immutable and kept, so an edited example counts each one)."""
    total = ExampleRevision.objects.filter(example__dataset__team_id=team_id).aggregate(
        n=Sum(_stored("messages") + _stored("tools") + _stored("metadata"))
    )["n"]
    return int(total or 0)


STORAGE_PARTS = {
    "uploads": team_upload_bytes,
    "reports": team_report_bytes,
    "content": team_content_bytes,
}
