from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    CURATOR = "curator", "Curator"
    ANNOTATOR = "annotator", "Annotator"
    VIEWER = "viewer", "Viewer"


class Team(models.Model):
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="teams"
    )
    # Capture (DESIGN §8): what happens to the team's logs as they arrive and as they age.
    log_redact_pii = models.BooleanField(
        default=False,
        help_text="Replace email addresses, phone numbers and secrets in new logs with "
        "typed placeholders ([EMAIL], [PHONE], [SECRET]) before they are stored.",
    )
    log_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Delete logs older than this many days (empty: keep them). Examples made "
        "from a deleted log stay; they lose the link to it.",
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the member picks this team in the switcher or creates it: the current team at the
    # next sign-in is the last one chosen, never one an invitation (or a name) put first.
    selected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique_team_user"),
        ]
        ordering = ["team_id", "user_id"]

    def __str__(self):
        return f"{self.user} in {self.team} as {self.role}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"


class Invitation(models.Model):
    """An offer to join a team that only the invitee can accept (finetunedb/teams/invitations.py).

    Every invitation an admin sends is stored, whether or not ``invited_as`` names an account
    that is not in the team yet: ``invitee`` is that account, or None (no such account, or
    already a member), and a None invitation is never shown or delivered to anyone. The team
    sees the same row either way, so inviting never tells whether an account exists.
    """

    team_path = "team"

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    invited_as = models.CharField(max_length=254, help_text="The username or email as typed.")
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        # A deleted account leaves the row (the team's list must not change because of it).
        on_delete=models.SET_NULL,
        related_name="invitations",
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["invitee", "status"], name="invitation_invitee_status")]

    def __str__(self):
        return f"{self.invited_as} to {self.team} as {self.role} ({self.status})"


class HashedSecret(models.Model):
    """A secret shown once: only its sha256 digest is stored
    (``finetunedb.teams.authentication.secret_issue``), with a prefix to recognise it in lists,
    its last use and its revocation. Personal API tokens and team ingest keys both are one."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(
        max_length=12, help_text="First characters, to recognise a token in lists."
    )
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiToken(HashedSecret):
    """A personal API token."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )

    class Meta(HashedSecret.Meta):
        pass


class RequestWindow(models.Model):
    """Requests one caller made in one fixed window (``finetunedb.teams.rate_limits``): a row in
    the database, so every web process (and every machine) counts against the same limit."""

    key = models.CharField(max_length=100, help_text="The route's scope and the caller's key.")
    window = models.BigIntegerField(help_text="The window's start, in Unix seconds.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window"], name="request_window_unique")
        ]

    def __str__(self):
        return f"{self.key} @ {self.window}: {self.count}"
