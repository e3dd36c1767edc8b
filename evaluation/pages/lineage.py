"""Evals by lineage: the eval runs of every model trained on one dataset version."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from datasets_app.selectors import version_get_for_user

from .. import selectors


@login_required
def version_evals(request, version_id):
    version = version_get_for_user(request.user, version_id)
    return render(
        request,
        "evaluation/version_evals.html",
        {"version": version, "runs": selectors.runs_for_version(version)[:500]},
    )
