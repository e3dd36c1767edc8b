"""Delete logs past their team's retention (``Team.log_retention_days``), in batches.

The same work as the hourly ``capture.logs_retention_apply`` task, for deployments that run
no Celery beat: e.g. ``17 * * * * cd /srv/finetunedb && .venv/bin/python manage.py delete_old_logs``.
"""

from django.core.management.base import BaseCommand

from capture.services.retention import DELETE_BATCH, logs_retention_apply


class Command(BaseCommand):
    help = "Delete logs older than each team's retention setting (examples made from them stay)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=DELETE_BATCH)

    def handle(self, *args, batch_size, **options):
        deleted = logs_retention_apply(batch_size=max(1, batch_size))
        total = sum(deleted.values())
        self.stdout.write(
            f"Deleted {total} logs past retention ({len(deleted)} teams with a setting)."
        )
