"""python manage.py import_examples <dataset id> <file> [--format] [--mode] [--as USER]"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from datasets_app.formats import FORMATS
from datasets_app.models import Dataset, ImportJob, ImportMode
from datasets_app.services.imports import import_job_create, import_job_run
from finetunedb.exceptions import ApplicationError


class Command(BaseCommand):
    help = "Import a file into a dataset now (in this process), with the same rules as an upload."

    def add_arguments(self, parser):
        parser.add_argument("dataset", type=int, help="Dataset id")
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", default="auto", choices=FORMATS)
        parser.add_argument("--mode", default=ImportMode.STRICT, choices=ImportMode.values)
        parser.add_argument("--skip-duplicates", action="store_true")
        parser.add_argument(
            "--as", dest="username", help="Import as this user (default: the dataset's creator)"
        )

    def handle(self, *args, dataset, file, format, mode, skip_duplicates, username, **options):
        target = Dataset.objects.filter(pk=dataset).first()
        if target is None:
            raise CommandError(f"No dataset with id {dataset}.")
        user = (
            get_user_model().objects.filter(username=username).first()
            if username
            else target.created_by
        )
        if user is None:
            raise CommandError("Name a user with --as (the dataset has no creator).")
        if not file.is_file():
            raise CommandError(f"{file} is not a file.")
        with open(file, "rb") as handle:
            upload = File(handle, name=file.name)
            upload.size = file.stat().st_size
            try:
                # The job is queued on commit; running it here makes the command synchronous.
                job = import_job_create(
                    user=user,
                    dataset=target,
                    upload=upload,
                    format=format,
                    mode=mode,
                    skip_duplicates=skip_duplicates,
                )
            except ApplicationError as exc:
                details = "; ".join(f"{e['path']}: {e['message']}" for e in exc.errors)
                raise CommandError(f"{exc.message} {details}".strip()) from None
        import_job_run(job_id=job.pk)
        job = ImportJob.objects.get(pk=job.pk)
        for error in job.first_errors[:20]:
            self.stderr.write(f"line {error['line']}: {error['code']}: {error['message']}")
        summary = (
            f"import {job.pk}: {job.status}; {job.rows_valid} valid, {job.rows_invalid} invalid, "
            f"{job.examples_created} examples created"
        )
        if job.status != "succeeded":
            raise CommandError(f"{summary}. {job.failure_reason}")
        self.stdout.write(summary)
