"""Review mode: the examples waiting for review, one at a time, approved or rejected from the
keyboard (static/js/shortcuts.js clicks the controls marked with ``data-shortcut``)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from finetunedb.exceptions import ApplicationError, PreconditionFailed
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import parse_id, role_in_team

from .. import selectors
from ..models import ExampleStatus
from ..services.checks import example_findings, findings_by_turn
from ..services.examples import example_update
from ..workspace.markdown import render_markdown

DECISIONS = {"approve": ExampleStatus.APPROVED, "reject": ExampleStatus.REJECTED}
DONE = "Example {pk}: {status}."
STALE = "Example {pk} changed meanwhile (someone else saved it); look again."
NOT_IN_QUEUE = "That example is not waiting for review."
SHORTCUTS = [
    ("j", "Next example"),
    ("k", "Previous example"),
    ("a", "Approve"),
    ("r", "Reject"),
    ("e", "Edit this example"),
    ("Ctrl+S", "Save (in the editor)"),
]
BUTTONS = [("approve", "Approve", "a", "primary"), ("reject", "Reject", "r", "danger")]


def _review_url(dataset, at=None, drafts=False) -> str:
    params = {k: v for k, v in (("at", at), ("drafts", "1" if drafts else None)) if v}
    return reverse("datasets:review", args=[dataset.pk]) + (
        "?" + urlencode(params) if params else ""
    )


@login_required
def review(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id)
    drafts = request.GET.get("drafts") == "1"
    queue = selectors.example_review_queue(dataset=dataset, drafts=drafts)
    if request.GET.get("count") == "1":
        return _review_count(request, queue)
    at = parse_id(request.GET.get("at")) or 0
    example = selectors.example_review_pick(queue=queue, at=at)
    context = {
        "dataset": dataset,
        "tab": "review",
        "drafts": drafts,
        "example": example,
        "review_shortcuts": SHORTCUTS,
        "decisions": BUTTONS,
    }
    if example is not None:
        prev_id, next_id = selectors.example_review_neighbours(queue=queue, example=example)
        msgs = example.current_revision.messages
        top, by_turn = findings_by_turn(example_findings(example), len(msgs))
        # "n of N waiting" arrives after the page (?count=1, _review_count): both are exact
        # counts over the queue's index entries, which at a million waiting cost more than
        # the page itself (bench/pages.py), as the example list's count does.
        role = role_in_team(request.user, dataset.team_id)
        context.update(
            {
                "prev_url": _review_url(dataset, prev_id, drafts) if prev_id else None,
                "next_url": _review_url(dataset, next_id, drafts) if next_id else None,
                "count_query": urlencode(
                    {"count": "1", "example": example.pk, **({"drafts": "1"} if drafts else {})}
                ),
                "turns": [
                    {
                        "m": m,
                        "html": render_markdown(m.get("content")),
                        "findings": by_turn.get(i, []),
                    }
                    for i, m in enumerate(msgs)
                ],
                "top_findings": top,
                "tags": sorted(t.name for t in example.tags.all()),
                "can_annotate": role_allows(role, Action.ANNOTATE),
            }
        )
    elif not drafts:
        # An empty queue right after an import usually means everything is still a draft:
        # say how many, and the two ways to send them here.
        role = role_in_team(request.user, dataset.team_id)
        draft_only = selectors.example_list(dataset, filters={"status": ExampleStatus.DRAFT})
        context.update(
            {
                "draft_count": selectors.example_count(draft_only).count,
                "can_import": role_allows(role, Action.IMPORT),
            }
        )
    return render(request, "workspace/review.html", context)


def _review_count(request, queue):
    """The queue's exact "n of N waiting" for the example the page shows (htmx fragment)."""
    remaining = selectors.example_count(queue).count
    example = selectors.example_review_get(
        queue=queue, example_id=parse_id(request.GET.get("example")) or 0
    )
    position = selectors.example_review_position(queue=queue, example=example) if example else None
    context = {"remaining": remaining, "position": position}
    return render(request, "workspace/_review_count.html", context)


@login_required
@require_POST
def review_decide(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.ANNOTATE)
    drafts = request.POST.get("drafts") == "1"
    status = DECISIONS.get(request.POST.get("decision", ""))
    pk = parse_id(request.POST.get("example")) or 0
    expected = parse_id(request.POST.get("expected_revision")) or 0
    queue = selectors.example_review_queue(dataset=dataset, drafts=drafts)
    example = selectors.example_review_get(queue=queue, example_id=pk)
    if example is None or status is None:
        messages.error(request, NOT_IN_QUEUE)
        return redirect(_review_url(dataset, pk, drafts))
    try:
        example_update(
            user=request.user,
            example=example,
            expected_revision=expected,
            changes={"status": status},
        )
    except PreconditionFailed:
        messages.error(request, STALE.format(pk=pk))
        return redirect(_review_url(dataset, pk, drafts))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(_review_url(dataset, pk, drafts))
    messages.success(request, DONE.format(pk=pk, status=ExampleStatus(status).label.lower()))
    # the decided example left the queue; the next one has a higher id
    return redirect(_review_url(dataset, pk + 1, drafts))
