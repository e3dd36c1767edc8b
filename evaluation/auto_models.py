"""Suites a training run asked to be evaluated on when it finishes (automatic evaluation).

Stored here, not on the run: training does not know evaluation exists (tests/test_layers.py);
the launch hands ``eval_suites`` to evaluation's launch option (``training.hooks``), which
records one row per suite, and the after-training hook starts the runs. ``note`` says what
happened when the run finished: the runs started, or why one could not start.
"""

from django.db import models

from training.models import TrainingRun


class AutoEval(models.Model):
    team_path = "suite__team"

    training_run = models.ForeignKey(
        TrainingRun, on_delete=models.CASCADE, related_name="auto_evals"
    )
    suite = models.ForeignKey("evaluation.EvalSuite", on_delete=models.CASCADE, related_name="+")
    started = models.BooleanField(default=False, help_text="The after-training hook ran.")
    note = models.TextField(blank=True, help_text="Runs started, or why one could not start.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["training_run", "suite"], name="auto_eval_unique_suite"
            ),
        ]

    def __str__(self):
        return f"suite {self.suite_id} after run {self.training_run_id}"
