from django.contrib import admin

from .models import Dataset, Example, ExampleRevision, Tag


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
