"""Assignment pages: the dataset's assignments, creating one from the example list's current
filter, one assignment (progress, agreement, disagreements first, adjudication) and the
annotators' statistics (with a CSV download)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from datasets_app.pages.examples import read_filters
from datasets_app.selectors import dataset_get_for_user, example_count, example_list
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import parse_id, role_in_team

from .. import selectors
from ..models import Verdict
from ..report import statistics_csv
from ..services.adjudication import STATUSES, example_adjudicate
from ..services.assignments import (
    assignment_annotator_remove,
    assignment_create,
    assignment_update,
)

CREATED = "Assignment created: {examples:,} examples, {items:,} items for {people} annotators."
UPDATED = "Saved; the guidelines are now version {version}."
REMOVED = "{name} was taken off the assignment; {moved} open item(s) went to the others."
DECIDED = "Example {pk}: consensus saved ({status})."
BAD_DUE = "Due date: use YYYY-MM-DD or YYYY-MM-DDTHH:MM."
PAGE_ITEMS = 200  # items shown on the assignment page, disagreements first
BAD_OVERLAP = "overlap: a whole number from 1 to the number of annotators."


@login_required
@require_GET
def assignment_list(request, dataset_id):
    dataset = dataset_get_for_user(request.user, dataset_id)
    role = role_in_team(request.user, dataset.team_id)
    return render(
        request,
        "annotation/list.html",
        {
            "dataset": dataset,
            "tab": "assignments",
            "assignments": selectors.assignment_list(dataset=dataset),
            "can_curate": role_allows(role, Action.CURATE),
        },
    )


def _due(raw: str):
    raw = (raw or "").strip()
    if not raw:
        return None
    value = parse_datetime(raw if "T" in raw or " " in raw else raw + "T00:00")
    if value is None:
        raise ApplicationError(BAD_DUE, code="due_at")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@login_required
def assignment_new(request, dataset_id):
    dataset = dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
    source = request.POST if request.method == "POST" else request.GET
    filters = read_filters(source)
    filters.pop("sort", None)
    matching = example_count(example_list(dataset, filters=filters)).count
    annotators = selectors.team_annotators(team_id=dataset.team_id)
    context = {
        "dataset": dataset,
        "tab": "assignments",
        "filters": filters,
        "matching": matching,
        "annotators": annotators,
        "back": reverse("datasets:detail", args=[dataset.pk])
        + ("?" + urlencode(filters) if filters else ""),
        "chosen": {parse_id(v) for v in source.getlist("annotators")},
        "form": source,
    }
    if request.method != "POST":
        return render(request, "annotation/new.html", context)
    try:
        overlap = int(request.POST.get("overlap") or "")
    except ValueError:
        messages.error(request, BAD_OVERLAP)
        return render(request, "annotation/new.html", context, status=400)
    try:
        assignment = assignment_create(
            user=request.user,
            dataset=dataset,
            annotator_ids=[i for i in context["chosen"] if i],
            overlap=overlap,
            example_ids=selectors.example_ids_from_filter(dataset=dataset, filters=filters),
            name=request.POST.get("name", "")[:200],
            guidelines=request.POST.get("guidelines", ""),
            due_at=_due(request.POST.get("due_at")),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return render(request, "annotation/new.html", context, status=400)
    progress = selectors.assignment_progress(assignment=assignment)
    messages.success(
        request,
        CREATED.format(
            examples=progress["examples"],
            items=progress["total"],
            people=len(progress["annotators"]),
        ),
    )
    return redirect("annotation:assignment", assignment.pk)


@login_required
@require_GET
def assignment_detail(request, assignment_id):
    assignment = selectors.assignment_get_for_user(request.user, assignment_id)
    role = role_in_team(request.user, assignment.dataset.team_id)
    can_curate = role_allows(role, Action.CURATE)
    context = {
        "assignment": assignment,
        "dataset": assignment.dataset,
        "progress": selectors.assignment_progress(assignment=assignment),
        "can_curate": can_curate,
        "statuses": STATUSES,
        "guideline_versions": selectors.assignment_guidelines(assignment=assignment),
        "verdicts": Verdict.choices,
    }
    if can_curate:
        # Every annotator's labels: for the roles that adjudicate only (blind annotation).
        report = selectors.assignment_agreement(assignment=assignment, user=request.user)
        context.update(
            report=report, items=report["items"][:PAGE_ITEMS], items_total=len(report["items"])
        )
    return render(request, "annotation/detail.html", context)


@login_required
@require_POST
def assignment_adjudicate(request, assignment_id):
    assignment = selectors.assignment_get_for_user(
        request.user, assignment_id, action=Action.CURATE
    )
    back = reverse("annotation:assignment", args=[assignment.pk])
    example_id = parse_id(request.POST.get("example"))
    changes = {}
    if request.POST.get("status"):
        changes["status"] = request.POST["status"]
    if (request.POST.get("rating") or "").strip():
        raw = request.POST["rating"].strip()
        changes["rating"] = int(raw) if raw.isdigit() and len(raw) < 3 else raw
    if "tags" in request.POST:
        changes["tags"] = [t.strip() for t in request.POST["tags"].split(",") if t.strip()]
    try:
        if example_id is None:
            raise ApplicationError("example: choose an example to decide.", code="example")
        example_adjudicate(
            user=request.user,
            assignment=assignment,
            example_id=example_id,
            pick=parse_id(request.POST.get("pick")),
            changes=changes,
            expected_revision=parse_id(request.POST.get("expected_revision")),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(
        request, DECIDED.format(pk=example_id, status=changes.get("status", "as picked"))
    )
    return redirect(back + f"#example-{example_id}")


@login_required
@require_POST
def assignment_edit(request, assignment_id):
    """New guidelines (the next version; the old ones are kept), a new due date or name."""
    assignment = selectors.assignment_get_for_user(
        request.user, assignment_id, action=Action.CURATE
    )
    try:
        assignment = assignment_update(
            user=request.user,
            assignment=assignment,
            name=request.POST["name"][:200] if "name" in request.POST else None,
            guidelines=request.POST.get("guidelines"),
            due_at=_due(request.POST["due_at"]) if "due_at" in request.POST else ...,
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, UPDATED.format(version=assignment.guidelines_version))
    return redirect("annotation:assignment", assignment.pk)


@login_required
@require_POST
def assignment_annotator_remove_page(request, assignment_id):
    assignment = selectors.assignment_get_for_user(
        request.user, assignment_id, action=Action.CURATE
    )
    user_id = parse_id(request.POST.get("user")) or 0
    try:
        moved = assignment_annotator_remove(
            user=request.user, assignment=assignment, annotator_id=user_id
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        name = next(
            (
                a["username"]
                for a in selectors.assignment_progress(assignment=assignment)["annotators"]
                if a["id"] == user_id
            ),
            f"user {user_id}",
        )
        messages.success(request, REMOVED.format(name=name, moved=moved))
    return redirect("annotation:assignment", assignment.pk)


@login_required
@require_GET
def assignment_statistics(request, assignment_id):
    assignment = selectors.assignment_get_for_user(
        request.user, assignment_id, action=Action.CURATE
    )
    stats = selectors.assignment_statistics(assignment=assignment)
    if request.GET.get("format") == "csv":
        response = HttpResponse(statistics_csv(stats), content_type="text/csv")
        response["Content-Disposition"] = (
            f'attachment; filename="assignment-{assignment.pk}-annotators.csv"'
        )
        return response
    return render(
        request,
        "annotation/statistics.html",
        {"assignment": assignment, "dataset": assignment.dataset, "stats": stats},
    )
