"""An LLM judge's pairwise verdicts on two finished runs of one suite (DESIGN §8: "an LLM judge
… both orders randomised for pairwise"), the machine counterpart of the human review in
``pairwise_models``. Made by automatic evaluation for a model trained from another (SFT → DPO):
the new model's run (``run``) against its parent's (``against``), judged by the suite's
``llm_judge`` evaluator's judge and rubric. Which answer is shown as A is drawn per item from
``seed``; ``verdicts`` hold one entry per shared item, ``summary`` the win rate with its Wilson
interval and the judge's position bias. The row is written once the judging is done (no claim:
two workers judging the same pair at once both judge, the first row stands). Loaded by
``evaluation.models``.
"""

from django.db import models

from .models import EvalRun


class JudgedStatus(models.TextChoices):
    SUCCEEDED = "succeeded", "Judged"
    FAILED = "failed", "Failed"


class JudgedComparison(models.Model):
    team_path = "run__suite__team"

    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="judged_comparisons")
    against = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="+")
    judge = models.CharField(max_length=100, help_text="The judge the suite's llm_judge names.")
    rubric = models.TextField()
    seed = models.BigIntegerField(help_text="Draws which run each item shows as A.")
    status = models.CharField(max_length=16, choices=JudgedStatus.choices)
    verdicts = models.JSONField(
        default=list,
        blank=True,
        help_text="[{position, swapped, winner run|against|tie|null, why}]",
    )
    summary = models.JSONField(default=dict, blank=True)
    failure_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "against"], name="judged_comparison_unique"),
            models.CheckConstraint(
                condition=~models.Q(run=models.F("against")), name="judged_comparison_two_runs"
            ),
        ]

    def __str__(self):
        return f"judged comparison {self.pk}: run {self.run_id} against {self.against_id}"
