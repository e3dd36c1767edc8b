"""Re-enqueue the work a dead worker left behind: imports, dedup jobs, training runs and model
evaluations (the same sweep a worker runs when it starts). Safe to run any time, from cron too:
a job whose worker is alive holds a live lease and is left alone.
"""

from django.core.management.base import BaseCommand

from datasets_app.services.dedup import dedup_jobs_recover
from datasets_app.services.imports import import_jobs_recover
from training.services.execute import training_runs_recover


class Command(BaseCommand):
    help = "Re-enqueue imports, dedup jobs and training runs whose worker died."

    def handle(self, *args, **options):
        imports, dedups, runs = import_jobs_recover(), dedup_jobs_recover(), training_runs_recover()
        self.stdout.write(
            f"re-enqueued {imports} import job(s), {dedups} dedup job(s), {runs} training run(s)"
        )
