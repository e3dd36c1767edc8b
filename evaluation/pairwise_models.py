"""Human blind pairwise review of two eval runs (DESIGN §8, "Human pairwise review").

A review pairs a run (``run``, the one being judged) with another run of the same suite
(``against``); its items are the suite items both runs answered. Which run's answer an item
shows as A is drawn once per item from the review's seed (``swapped``: the ``against`` run's
answer is A), so the layout is reproducible and the same for every reviewer. A judgment is one
reviewer's verdict on one item, as shown (``choice``) and in the runs' terms (``winner``).
Loaded by ``evaluation.models``.
"""

from django.conf import settings as django_settings
from django.db import models

from .models import EvalResult, EvalRun


class PairwiseReview(models.Model):
    team_path = "run__suite__team"

    run = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="pairwise_reviews")
    against = models.ForeignKey(EvalRun, on_delete=models.CASCADE, related_name="+")
    seed = models.BigIntegerField(help_text="Draws which run each item shows as A.")
    item_count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "against"], name="pairwise_review_unique_pair"),
            models.CheckConstraint(
                condition=~models.Q(run=models.F("against")), name="pairwise_review_two_runs"
            ),
        ]

    def __str__(self):
        return f"pairwise review {self.pk}: run {self.run_id} against {self.against_id}"


class PairwiseItem(models.Model):
    """One suite item of a review: both runs' results and which is shown as A. ``claimed_by``
    holds it for one reviewer until ``claimed_until`` so reviewers working at the same time are
    shown different items while unclaimed ones wait."""

    team_path = "review__run__suite__team"

    review = models.ForeignKey(PairwiseReview, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField(help_text="The item's place in the suite (0-based).")
    result = models.ForeignKey(EvalResult, on_delete=models.CASCADE, related_name="+")
    against_result = models.ForeignKey(EvalResult, on_delete=models.CASCADE, related_name="+")
    swapped = models.BooleanField(help_text="The against run's answer is shown as A.")
    claimed_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["review_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["review", "position"], name="pairwise_item_unique_position"
            ),
        ]

    def __str__(self):
        return f"item {self.position} of pairwise review {self.review_id}"


class PairwiseChoice(models.TextChoices):
    A = "a", "A is better"
    B = "b", "B is better"
    TIE = "tie", "Tie"
    SKIPPED = "skipped", "Skipped"


class PairwiseWinner(models.TextChoices):
    RUN = "run", "The review's run"
    AGAINST = "against", "The run it is compared with"
    TIE = "tie", "Tie"
    NONE = "", "Skipped"


class PairwiseJudgment(models.Model):
    team_path = "item__review__run__suite__team"

    item = models.ForeignKey(PairwiseItem, on_delete=models.CASCADE, related_name="judgments")
    reviewer = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    choice = models.CharField(max_length=8, choices=PairwiseChoice.choices)
    winner = models.CharField(max_length=8, choices=PairwiseWinner.choices, blank=True)
    seconds = models.FloatField(
        null=True, blank=True, help_text="From the item being claimed for the reviewer to now."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item_id", "reviewer_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "reviewer"], name="pairwise_judgment_unique_reviewer"
            ),
        ]

    def __str__(self):
        return f"{self.choice} on item {self.item_id} by user {self.reviewer_id}"
