"""python manage.py export_examples <dataset id> [--format] [--split] [--status] [--gzip]
[--metadata] [--skip-unrepresentable] [-o FILE]: the export pipeline to a file or standard output."""

import os
import sys
import tempfile
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.http import Http404

from datasets_app.formats import EXPORT_FORMATS
from datasets_app.models import Dataset
from datasets_app.services.export import dataset_export
from finetunedb.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Export a dataset's working copy. Writes to a temporary file and renames it, so a failed export leaves no half-written file."

    def add_arguments(self, parser):
        parser.add_argument("dataset", type=int)
        parser.add_argument("--format", default="openai", choices=EXPORT_FORMATS)
        parser.add_argument("--split")
        parser.add_argument("--status")
        parser.add_argument("--gzip", action="store_true")
        parser.add_argument("--metadata", action="store_true")
        parser.add_argument(
            "--skip-unrepresentable",
            action="store_true",
            help="Leave out the examples a lossy format cannot hold (else the export is refused).",
        )
        parser.add_argument(
            "-o", "--output", type=Path, help="File to write (default: standard output)"
        )

    def handle(self, *args, dataset, format, split, status, gzip, metadata, output, **options):
        target = Dataset.objects.filter(pk=dataset).first()
        if target is None:
            raise CommandError(f"No dataset with id {dataset}.")
        try:
            export = dataset_export(
                user=target.created_by,
                dataset=target,
                format=format,
                split=split,
                status=status,
                compress=gzip,
                include_metadata=metadata,
                skip_unrepresentable=options["skip_unrepresentable"],
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        except (Http404, PermissionDenied):
            raise CommandError(
                "The dataset's creator may no longer export it; ask a team admin."
            ) from None
        if output is None:
            for chunk in export:
                sys.stdout.buffer.write(chunk)
            return
        fd, partial = tempfile.mkstemp(
            dir=output.resolve().parent, prefix=f".{output.name}.", suffix=".part"
        )
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in export:
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(partial, output)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
        self.stderr.write(f"wrote {export.written} examples to {output}")
        if export.skipped:
            self.stderr.write(
                f"left out {len(export.skipped)} example(s) that {format} cannot hold"
            )
