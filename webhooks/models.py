"""A team's webhook endpoints, the events they were sent, and every delivery attempt."""

from django.conf import settings
from django.db import models


class WebhookEndpoint(models.Model):
    """Where a team's events go. ``secret`` (``whsec_`` + base64) signs every delivery; it is
    stored so the worker can sign, shown once when generated, never returned afterwards."""

    team_path = "team"

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    url = models.CharField(max_length=2000)
    events = models.JSONField(default=list, help_text="Event types this endpoint receives.")
    secret = models.CharField(max_length=200)
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.url


class WebhookEvent(models.Model):
    """One event of a team, as sent: ``message_id`` is the ``webhook-id`` header of every
    delivery and redelivery of it, so a receiver can drop repeats."""

    team_path = "team"

    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=40)
    payload = models.JSONField(help_text="{type, timestamp, data}: the body, as sent.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"{self.type} {self.message_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its next try at next_try_at
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"  # every try of the schedule failed


class WebhookDelivery(models.Model):
    """One (event, endpoint): tried on the backoff schedule until a 2xx or the schedule ends.

    ``next_try_at`` doubles as the short claim of a try (docs/webhooks.md): the sender moves it
    past the try's deadline with one conditional UPDATE, so two workers never send one try."""

    team_path = "endpoint__team"

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    tries = models.PositiveSmallIntegerField(default=0, help_text="Tries of this round.")
    next_try_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_endpoint")
        ]
        indexes = [models.Index(fields=["status", "next_try_at"])]

    def __str__(self):
        return f"delivery {self.pk} ({self.status})"


class WebhookAttempt(models.Model):
    """The delivery log: one row per HTTP try, what came back (the first bytes only)."""

    team_path = "delivery__endpoint__team"

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    number = models.PositiveSmallIntegerField(
        help_text="1 for the first try, counting redeliveries."
    )
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_head = models.CharField(max_length=300, blank=True)
    error = models.CharField(max_length=500, blank=True)
    manual = models.BooleanField(default=False, help_text="A redelivery somebody asked for.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"try {self.number} of delivery {self.delivery_id}"
