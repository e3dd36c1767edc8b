from django.contrib import admin

from .models import (
    CheckResult,
    Dataset,
    DatasetReport,
    DatasetVersion,
    DedupJob,
    DuplicateCluster,
    DuplicateClusterMember,
    Example,
    ExampleRevision,
    ImportJob,
    NotDuplicatePair,
    RestoreChange,
    Tag,
    VersionEntry,
    VersionRestore,
)


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "created_at", "updated_at"]
    search_fields = ["name"]
    list_filter = ["team"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "dataset"]
    search_fields = ["name"]


class RevisionInline(admin.TabularInline):
    model = ExampleRevision
    extra = 0
    can_delete = False
    fields = ["number", "content_hash", "author", "created_at"]
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Example)
class ExampleAdmin(admin.ModelAdmin):
    list_display = ["id", "dataset", "status", "split", "source_format", "revision", "updated_at"]
    list_filter = ["status", "split", "source_format"]
    raw_id_fields = ["dataset", "current_revision", "created_by"]
    readonly_fields = ["content_hash", "revision", "current_revision"]
    inlines = [RevisionInline]


@admin.register(ExampleRevision)
class ExampleRevisionAdmin(admin.ModelAdmin):
    """Read-only: revisions are immutable (the database refuses updates)."""

    list_display = ["example", "number", "content_hash", "author", "created_at"]
    raw_id_fields = ["example", "author"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by services (jobs, findings, snapshots): viewable, not editable here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "dataset",
        "original_name",
        "status",
        "examples_created",
        "rows_invalid",
        "created_at",
    ]
    list_filter = ["status", "mode"]
    search_fields = ["original_name"]


@admin.register(CheckResult)
class CheckResultAdmin(ReadOnlyAdmin):
    list_display = ["rule_id", "severity", "dataset", "example", "path"]
    list_filter = ["severity", "rule_id"]
    raw_id_fields = ["dataset", "example"]


@admin.register(DatasetReport)
class DatasetReportAdmin(ReadOnlyAdmin):
    list_display = ["dataset", "computed_at", "requested_at", "queued_at"]


@admin.register(DedupJob)
class DedupJobAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "dataset",
        "method",
        "threshold",
        "status",
        "clusters_found",
        "created_at",
    ]
    list_filter = ["status", "method"]


class ClusterMemberInline(admin.TabularInline):
    model = DuplicateClusterMember
    extra = 0
    raw_id_fields = ["example"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DuplicateCluster)
class DuplicateClusterAdmin(ReadOnlyAdmin):
    list_display = ["id", "dataset", "method", "size"]
    list_filter = ["method"]
    inlines = [ClusterMemberInline]


@admin.register(DuplicateClusterMember)
class DuplicateClusterMemberAdmin(ReadOnlyAdmin):
    list_display = ["cluster", "example"]
    raw_id_fields = ["cluster", "example"]


@admin.register(NotDuplicatePair)
class NotDuplicatePairAdmin(ReadOnlyAdmin):
    list_display = ["dataset", "example_a", "example_b"]
    raw_id_fields = ["dataset", "example_a", "example_b"]


class FrozenAdmin(ReadOnlyAdmin):
    """Versions are immutable at the database level; deleting them is refused there too."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DatasetVersion)
class DatasetVersionAdmin(FrozenAdmin):
    list_display = ["dataset", "number", "name", "content_hash", "created_by", "created_at"]
    search_fields = ["name", "content_hash"]


@admin.register(VersionEntry)
class VersionEntryAdmin(FrozenAdmin):
    list_display = ["version", "example", "split", "content_hash"]
    raw_id_fields = ["version", "example", "revision"]


@admin.register(VersionRestore)
class VersionRestoreAdmin(ReadOnlyAdmin):
    list_display = ["id", "version", "created_at"]


@admin.register(RestoreChange)
class RestoreChangeAdmin(ReadOnlyAdmin):
    list_display = ["restore", "example"]
    raw_id_fields = ["restore", "example"]
