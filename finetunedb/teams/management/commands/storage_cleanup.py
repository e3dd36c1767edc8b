"""Delete what the object store keeps that no row references (finetunedb/storage_cleanup.py).

The same work as the hourly ``storage.storage_cleanup`` task, for deployments without a Celery
beat (cron it), and ``--dry-run`` to see first what would go.
"""

from django.core.management.base import BaseCommand

from finetunedb.storage_cleanup import storage_cleanup


class Command(BaseCommand):
    help = (
        "Delete stored uploads past FINETUNEDB_UPLOAD_RETENTION_DAYS, files of deleted datasets, "
        "jobs and models, unrecorded publishes and replaced tokens (nothing younger than "
        "FINETUNEDB_STORAGE_CLEANUP_MIN_AGE_S, nothing a row references)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")
        parser.add_argument("--min-age-s", type=int, help="override the min age setting")
        parser.add_argument(
            "--upload-retention-days", type=float, help="override the upload retention setting"
        )

    def handle(self, *args, dry_run, min_age_s, upload_retention_days, **options):
        if min_age_s is not None and min_age_s < 0:
            self.stderr.write("--min-age-s must be 0 or more")
            raise SystemExit(2)
        if upload_retention_days is not None and upload_retention_days < 0:
            self.stderr.write("--upload-retention-days must be 0 or more")
            raise SystemExit(2)
        report = storage_cleanup(
            dry_run=dry_run, min_age_s=min_age_s, upload_retention_days=upload_retention_days
        )
        for key in report.deleted:
            self.stdout.write(f"{'would delete' if dry_run else 'deleted'} {key}")
        self.stdout.write(report.summary())
