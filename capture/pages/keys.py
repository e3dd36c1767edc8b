"""A team's capture page in the browser: ingest keys (create, the value shown once; list with last
use; revoke) and the capture settings (PII redaction at capture, log retention). The API
(``/api/v1/teams/{id}/ingest-keys/``, ``…/capture-settings/``) does the same through the same
services."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.scoping import NOT_FOUND
from finetunedb.teams.selectors import team_get_for_user

from .. import selectors
from ..services.ingest_keys import ingest_key_create, ingest_key_revoke
from ..services.retention import BAD_RETENTION, team_capture_settings_set

REVOKED = "Key revoked: services sending it now get 401."
SAVED = "Capture settings saved."


def _settings_from(post) -> dict:
    """The settings form's fields as the service takes them; a bad number raises its message."""
    raw = post.get("retention_days", "").strip()
    if raw == "":
        days = None
    else:
        try:
            days = int(raw)
        except ValueError:
            raise ApplicationError(BAD_RETENTION, code="retention_days") from None
    return {"redact_pii": post.get("redact_pii") == "on", "retention_days": days}


@login_required
def ingest_keys(request, team_id):
    team = team_get_for_user(request.user, team_id)
    if team is None:
        raise Http404(NOT_FOUND)
    new_key = new_key_name = None
    error = None
    if request.method == "POST":
        try:
            if "save_settings" in request.POST:
                team_capture_settings_set(
                    user=request.user, team=team, **_settings_from(request.POST)
                )
                messages.success(request, SAVED)
                return redirect("capture:ingest-keys", team_id=team.pk)
            if "revoke" in request.POST:
                ingest_key_revoke(user=request.user, team=team, key_id=request.POST["revoke"])
                messages.success(request, REVOKED)
                return redirect("capture:ingest-keys", team_id=team.pk)
            key, new_key = ingest_key_create(
                user=request.user, team=team, name=request.POST.get("name", "")
            )
            new_key_name = key.name
        except ApplicationError as exc:
            error = exc.message
    keys = selectors.ingest_key_list(user=request.user, team=team)  # 403 below owner/admin
    return render(
        request,
        "capture/ingest_keys.html",
        {
            "team": team,
            "keys": keys,
            "new_key": new_key,
            "new_key_name": new_key_name,
            "error": error if "save_settings" not in request.POST else None,
            "settings_error": error if "save_settings" in request.POST else None,
            "name": request.POST.get("name", "") if error else "",
        },
    )
