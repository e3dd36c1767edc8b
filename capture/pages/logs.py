"""Captured logs in the browser: the list with filters and keyset pages, one log with its
conversation and feedback, and "add to dataset" on the selection or the filter."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from datasets_app.selectors import dataset_get_for_user, dataset_list_for_user
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.scoping import parse_id

from .. import selectors
from ..filters import FEEDBACK, filters_parse
from ..services.from_logs import examples_from_logs
from ..services.logs import log_feedback_set

PAGE_SIZE = 50
ADDED = "{created} examples added to {dataset} for review; {dupes} duplicates and {failed} failed calls skipped."
NOTHING_CHOSEN = "Tick some logs, or choose “all matching the filter”."
BAD_SCORE = "The score is a number from -1 (bad) to 1 (good)."


@login_required
def log_list(request):
    error = None
    try:
        clean = filters_parse(request.GET, strict=False)
    except ApplicationError as exc:
        clean, error = {}, "; ".join(f"{e['path']}: {e['message']}" for e in exc.errors)
    page = selectors.log_page_for_user(
        request.user,
        filters=clean,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=PAGE_SIZE,
    )
    keep = request.GET.copy()
    for anchor in ("after", "before"):
        keep.pop(anchor, None)
    context = {
        "page": page,
        "error": error,
        "filters": {
            k: request.GET.get(k, "")
            for k in (
                "model",
                "tag",
                "since",
                "until",
                "search",
                "feedback",
                "trace_id",
                "team",
                "meta_key",
                "meta_value",
            )
        },
        "feedback_choices": FEEDBACK,
        "query": keep.urlencode(),
        "datasets": dataset_list_for_user(request.user),
    }
    return render(request, "capture/list.html", context)


@login_required
def log_detail(request, log_id):
    log = selectors.log_get_for_user(request.user, log_id)
    if request.method == "POST":
        raw = request.POST.get("score", "").strip()
        try:
            score = None if raw == "" else float(raw)
            if score is not None and not -1 <= score <= 1:
                raise ValueError
        except ValueError:
            messages.error(request, BAD_SCORE)
        else:
            try:
                log_feedback_set(
                    user=request.user,
                    log=log,
                    score=score,
                    comment=request.POST.get("comment", "")[:5000],
                )
                messages.success(request, "Feedback saved.")
            except ApplicationError as exc:
                messages.error(request, exc.message)
        return redirect("capture:log", log.pk)
    turns = list(log.messages) + ([log.response] if log.response else [])
    context = {
        "log": log,
        "turns": turns,
        "tools_json": json.dumps(log.tools, indent=2) if log.tools else "",
        "metadata_json": json.dumps(log.metadata, indent=2) if log.metadata else "",
        "error_json": json.dumps(log.error, indent=2) if log.error else "",
    }
    return render(request, "capture/detail.html", context)


@login_required
@require_POST
def log_add_to_dataset(request):
    back = reverse("capture:logs") + (
        "?" + request.POST["query"] if request.POST.get("query") else ""
    )
    dataset = dataset_get_for_user(request.user, parse_id(request.POST.get("dataset")) or 0)
    scope = request.POST.get("scope", "selected")
    sample = parse_id(request.POST.get("sample"))
    try:
        if scope == "filter":
            filters = filters_parse(QueryDict(request.POST.get("query", "")), strict=False)
            filters.pop("team", None)
            result = examples_from_logs(
                user=request.user, dataset=dataset, filters=filters, sample=sample
            )
        else:
            ids = [i for i in map(parse_id, request.POST.getlist("ids")) if i]
            if not ids:
                raise ApplicationError(NOTHING_CHOSEN)
            result = examples_from_logs(user=request.user, dataset=dataset, ids=ids, sample=sample)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(
        request,
        ADDED.format(
            created=len(result.created),
            dataset=dataset.name,
            dupes=result.skipped_duplicates,
            failed=result.skipped_without_response,
        ),
    )
    return redirect(back)
