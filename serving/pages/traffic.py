"""A served model's traffic in the browser: the figures over a chosen window and its latest
served calls, each linking to its log; a panel of the last 24 hours on the model page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from training.selectors import model_get_for_user

from ..traffic import (
    BAD_WINDOW,
    DEFAULT_WINDOW,
    WINDOWS,
    served_model_recent_calls,
    served_model_traffic,
    served_name,
)

RECENT = 20


def served_model_panel(*, user, model) -> dict:
    """The model page's traffic panel (``training.hooks`` model panel)."""
    return {"served_traffic": served_model_traffic(model, window=DEFAULT_WINDOW)}


@login_required
@require_GET
def model_traffic(request, model_id):
    model = model_get_for_user(request.user, model_id)
    window = request.GET.get("window") or DEFAULT_WINDOW
    if window not in WINDOWS:
        messages.error(request, BAD_WINDOW.format(value=window[:20]))
        window = DEFAULT_WINDOW
    traffic = served_model_traffic(model, window=window)
    recent = served_model_recent_calls(model, since=traffic.since, limit=RECENT)
    return render(
        request,
        "serving/traffic.html",
        {
            "model": model,
            "served_name": served_name(model),
            "traffic": traffic,
            "windows": list(WINDOWS),
            "recent": recent,
        },
    )
