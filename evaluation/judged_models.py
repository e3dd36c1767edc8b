"""An LLM judge's pairwise verdicts on two finished runs of one suite (DESIGN §8: "an LLM judge
… both orders randomised for pairwise"), the machine counterpart of the human review in
``pairwise_models``. Started by a user on any two succeeded runs of a suite (``POST
/api/v1/eval-runs/{id}/judge/``, the compare page's "Judge with LLM"), and by automatic
evaluation for a model trained from another (SFT → DPO: the new model's run against its
parent's). ``run`` is judged against ``against`` by ``judge`` under ``rubric`` — a suite
``llm_judge`` evaluator's (``evaluator`` names it) or the default rubric with a judge named
alone. Which answer is shown as A is drawn per item from ``seed``.

The row is a leased job (``evaluation.services.jobs.JUDGED_COMPARISONS``): queued, judged on the
training worker, ``processed`` of ``total`` items as it goes. ``verdicts`` (one entry per shared
item) and ``summary`` (the win rate with its Wilson interval, the judge's position bias) are
written once, in the update that finishes the job while its attempt still holds the lease: a
worker that dies mid-way leaves a queued-or-running row with no verdict, which recovery judges
again from the start. Loaded by ``evaluation.models``.
"""

from django.conf import settings as django_settings
from django.db import models

from .models import EvalRun


class JudgedStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Judging"
    SUCCEEDED = "succeeded", "Judged"
    FAILED = "failed", "Failed"


JUDGED_FINISHED = (JudgedStatus.SUCCEEDED, JudgedStatus.FAILED)


class JudgedComparison(models.Model):
    team_path = "run__suite__team"

    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="judged_comparisons")
    against = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="+")
    judge = models.CharField(max_length=100, help_text="The judge (FINETUNEDB_JUDGES or served).")
    evaluator = models.CharField(
        max_length=100,
        blank=True,
        help_text="The suite's llm_judge evaluator whose judge and rubric these are; blank: "
        "the judge named alone, with the default pairwise rubric.",
    )
    rubric = models.TextField()
    seed = models.BigIntegerField(help_text="Draws which run each item shows as A.")
    status = models.CharField(
        max_length=16, choices=JudgedStatus.choices, default=JudgedStatus.QUEUED
    )
    processed = models.PositiveIntegerField(default=0, help_text="Items judged so far.")
    total = models.PositiveIntegerField(default=0, help_text="Items both runs answered.")
    verdicts = models.JSONField(
        default=list,
        blank=True,
        help_text="[{position, swapped, winner run|against|tie|null, why}]",
    )
    summary = models.JSONField(default=dict, blank=True)
    failure_reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "against", "judge", "evaluator"],
                name="judged_comparison_unique_judge",
            ),
            models.CheckConstraint(
                condition=~models.Q(run=models.F("against")), name="judged_comparison_two_runs"
            ),
        ]

    def __str__(self):
        return f"judged comparison {self.pk}: run {self.run_id} against {self.against_id}"

    @property
    def is_finished(self) -> bool:
        return self.status in JUDGED_FINISHED

    @property
    def progress(self) -> float:
        return self.processed / self.total if self.total else 0.0
