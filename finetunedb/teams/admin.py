from django.contrib import admin

from .models import ApiToken, Invitation, Membership, RequestWindow, Team


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["team", "user", "role", "created_at"]
    list_filter = ["role"]
    raw_id_fields = ["user", "team"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["team", "invited_as", "role", "status", "created_at", "expires_at"]
    list_filter = ["status", "role"]
    raw_id_fields = ["team", "invitee", "invited_by"]
    # Invitations are answered by their invitee in the app; an admin may only look or revoke.
    readonly_fields = ["team", "invited_as", "invitee", "role", "invited_by", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    # The digest is useless to a person and tokens are never created here (no raw value to show).
    exclude = ["digest"]
    readonly_fields = ["user", "name", "prefix", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False


@admin.register(RequestWindow)
class RequestWindowAdmin(admin.ModelAdmin):
    """Rate-limit counters (finetunedb.teams.rate_limits): to look at, never to edit by hand."""

    list_display = ["key", "window", "count"]
    search_fields = ["key"]
    readonly_fields = ["key", "window", "count"]

    def has_add_permission(self, request):
        return False
