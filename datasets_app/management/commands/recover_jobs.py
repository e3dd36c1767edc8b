"""Re-enqueue the work a dead worker left behind, for every registered job kind: imports, dedup
jobs, training runs, evaluations, playground requests (the same sweep a worker runs when it
starts). Safe to run any time, from cron too: a job whose worker is alive holds a live lease and
is left alone. Each app registers its kinds; this command knows none of them
(finetunedb.leases)."""

from django.core.management.base import BaseCommand

from finetunedb.leases import jobs_recover

REPORT = "re-enqueued {counts}"


class Command(BaseCommand):
    help = "Re-enqueue the background jobs (of every kind) whose worker died."

    def handle(self, *args, **options):
        counts = jobs_recover()
        self.stdout.write(REPORT.format(counts=", ".join(f"{n} {k}(s)" for k, n in counts.items())))
