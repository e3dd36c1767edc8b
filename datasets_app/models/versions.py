"""Frozen versions of a dataset, and restores of the working copy to one of them.

A version is immutable at the database level (migration ``0006_versions_immutable``): its
entries can be neither updated nor deleted, no entry can be added once the version is sealed,
and a sealed version's content columns cannot change. "Sealed" means ``content_hash`` is set:
the freeze service inserts the row with an empty hash, copies the entries, then writes the hash
once in the same transaction.
"""

import threading

from django.conf import settings as django_settings
from django.db import models
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from .examples import Dataset, Example, ExampleRevision, ExampleStatus, Split

# SQLite triggers call this function; it answers 1 only inside versions_purge_allowed() in
# this process, so no SQL statement can switch the guard off (see 0006_versions_immutable).
PURGE_FUNCTION = "finetunedb_versions_purge_allowed"
_purge = threading.local()


class versions_purge_allowed:  # noqa: N801 - used as a context manager, reads like one
    """Let this thread's SQLite connection DELETE frozen versions. For test teardown and a
    deliberate administrative purge only; PostgreSQL needs TRUNCATE (or dropping the triggers)."""

    def __enter__(self):
        _purge.allowed = True
        return self

    def __exit__(self, *exc):
        _purge.allowed = False


@receiver(connection_created)
def _register_purge_function(sender, connection, **kwargs):
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            PURGE_FUNCTION, 0, lambda: 1 if getattr(_purge, "allowed", False) else 0
        )


class DatasetVersion(models.Model):
    """A numbered snapshot of a dataset's non-archived examples (their revisions and splits)."""

    team_path = "dataset__team"

    # PROTECT: deleting a dataset (or team) with frozen versions is refused, never cascaded.
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    notes = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    content_hash = models.CharField(
        max_length=64, blank=True, help_text="Version hash (DESIGN §3); empty only while freezing."
    )
    counts = models.JSONField(default=dict, help_text="Entries per split.")
    stats = models.JSONField(default=dict, help_text="Dataset statistics at freeze time.")
    check_report = models.JSONField(default=dict, help_text="Check results at freeze time.")
    forced = models.BooleanField(default=False)
    force_reason = models.TextField(blank=True)
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="version_unique_number"),
        ]

    def __str__(self):
        return f"v{self.number} {self.name}"

    @property
    def total(self) -> int:
        return sum((self.counts or {}).values())


class VersionEntry(models.Model):
    """One example of a version: which revision, in which split. Written once at freeze."""

    team_path = "version__dataset__team"

    # The unique (version, example) index serves lookups by version; no separate index.
    version = models.ForeignKey(
        DatasetVersion, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    example = models.ForeignKey(Example, on_delete=models.PROTECT, related_name="version_entries")
    revision = models.ForeignKey(ExampleRevision, on_delete=models.PROTECT, related_name="+")
    split = models.CharField(max_length=16, choices=Split.choices)
    # The status is not part of the hash; restore needs it to make the working copy equal.
    status = models.CharField(max_length=16, choices=ExampleStatus.choices)
    content_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["version_id", "example_id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "example"], name="entry_unique_example"),
        ]

    def __str__(self):
        return f"v{self.version_id} example {self.example_id}"


class VersionRestore(models.Model):
    """The working copy of a dataset was made equal to a version; ``changes`` say how, so the
    restore can be undone."""

    team_path = "dataset__team"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="restores")
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="restores")
    counts = models.JSONField(default=dict, help_text="content / split / status / archived counts")
    created_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        django_settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"restore of v{self.version_id}"


class RestoreChange(models.Model):
    """One example touched by a restore: its state before and after."""

    team_path = "restore__dataset__team"

    restore = models.ForeignKey(VersionRestore, on_delete=models.CASCADE, related_name="changes")
    example = models.ForeignKey(Example, on_delete=models.CASCADE, related_name="+")
    before_revision = models.ForeignKey(ExampleRevision, on_delete=models.CASCADE, related_name="+")
    after_revision = models.ForeignKey(ExampleRevision, on_delete=models.CASCADE, related_name="+")
    before_split = models.CharField(max_length=16)
    after_split = models.CharField(max_length=16)
    before_status = models.CharField(max_length=16)
    after_status = models.CharField(max_length=16)
    after_counter = models.PositiveIntegerField(
        help_text="Example.revision right after the restore; undo requires it unchanged."
    )

    class Meta:
        ordering = ["example_id"]

    def __str__(self):
        return f"restore {self.restore_id} example {self.example_id}"
