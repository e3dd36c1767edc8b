"""My queue: the caller's next item, annotated from the keyboard like the review queue
(static/js/shortcuts.js clicks the controls marked ``data-shortcut``; digits pick a rating,
annotation/static/annotation/queue.js). Blind: other annotators' labels appear only on an
item the caller has submitted (``selectors.annotations_visible_to``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from datasets_app.workspace.markdown import render_markdown
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.scoping import parse_id

from .. import selectors
from ..models import Verdict
from ..services.queue import annotation_submit, queue_item_skip, queue_next

SUBMITTED = "Example {pk}: submitted."
SKIPPED = (
    "Example {pk}: skipped; it comes back after the rest of your queue, unless someone takes it."
)
SHORTCUTS = [
    ("a", "Approve and submit"),
    ("r", "Reject and submit"),
    ("1–5", "Rating"),
    ("s", "Submit with the rating and tags only"),
    ("j", "Skip: the item comes back after the rest"),
]
BUTTONS = [
    (Verdict.APPROVED, "Approve", "a", "primary"),
    (Verdict.REJECTED, "Reject", "r", "danger"),
]


def _queue_url(assignment_id=None) -> str:
    url = reverse("annotation:queue")
    return url + ("?" + urlencode({"assignment": assignment_id}) if assignment_id else "")


def _turns(item):
    return [
        {"m": m, "html": render_markdown(m.get("content"))}
        for m in item.example.current_revision.messages
    ]


def _last_answer(item) -> str:
    for m in reversed(item.example.current_revision.messages):
        if m.get("role") == "assistant" and isinstance(m.get("content"), str):
            return m["content"]
    return ""


@login_required
@require_GET
def queue(request):
    assignment_id = parse_id(request.GET.get("assignment"))
    if assignment_id:
        selectors.assignment_get_for_user(request.user, assignment_id)
    item = queue_next(user=request.user, assignment_id=assignment_id)
    context = {
        "item": item,
        "assignment_id": assignment_id,
        "progress": selectors.queue_progress(user=request.user, assignment_id=assignment_id),
        "shortcuts": SHORTCUTS,
        "buttons": BUTTONS,
        "ratings": range(1, 6),
        "recent": selectors.queue_recent(user=request.user),
    }
    if item is not None:
        context.update(
            {
                "turns": _turns(item),
                "guidelines": render_markdown(item.assignment.guidelines),
                "answer": _last_answer(item),
            }
        )
    return render(request, "annotation/queue.html", context)


@login_required
@require_GET
def queue_item(request, item_id):
    """One of my items; after I submitted it, the others' labels beside mine."""
    item = selectors.queue_item_get_for_user(request.user, item_id)
    return render(
        request,
        "annotation/item.html",
        {
            "item": item,
            "turns": _turns(item),
            "mine": selectors.annotation_of(user=request.user, example_id=item.example_id),
            "others": selectors.annotations_visible_to(user=request.user, example=item.example),
        },
    )


@login_required
@require_POST
def queue_submit(request, item_id):
    item = selectors.queue_item_get_for_user(request.user, item_id)
    back = _queue_url(parse_id(request.POST.get("assignment")))
    if request.POST.get("skip"):
        try:
            queue_item_skip(user=request.user, item=item)
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        messages.info(request, SKIPPED.format(pk=item.example_id))
        return redirect(back)
    raw_rating = (request.POST.get("rating") or "").strip()
    answer = request.POST.get("answer", "")
    values = {
        "verdict": request.POST.get("verdict", ""),
        "rating": int(raw_rating) if raw_rating.isdigit() and len(raw_rating) < 3 else None,
        "tags": [t.strip() for t in request.POST.get("tags", "").split(",") if t.strip()],
        "note": request.POST.get("note", ""),
        # Only an answer that differs from the example's is an edit.
        "answer": answer if answer.strip() and answer != _last_answer(item) else "",
    }
    if raw_rating and values["rating"] is None:
        values["rating"] = raw_rating  # not a number: the service refuses it, naming the field
    try:
        annotation_submit(user=request.user, item=item, values=values)
    except ApplicationError as exc:
        problems = "; ".join(f"{e['path']}: {e['message']}" for e in exc.errors)
        messages.error(request, exc.message + (f" ({problems})" if problems else ""))
        return redirect(back)
    messages.success(request, SUBMITTED.format(pk=item.example_id))
    return redirect(back)
