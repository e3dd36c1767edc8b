"""Reads of the annotation app, team-scoped through ``finetunedb.teams.scoping``.

Blindness lives here: :func:`annotations_visible_to` is the one read of other annotators'
labels for an example, and it returns them only to a caller who has no open or skipped item for
that example and has either submitted their own or may curate (adjudicate) in its team.
"""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from datasets_app import selectors as dataset_selectors
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import get_for_user, role_in_team, scope_to_user

from .models import Adjudication, Annotation, Assignment, AssignmentItem, Guidelines, ItemStatus

MAX_FILTER_EXAMPLES = 100_000
# A skipped item may come back to its annotator, so it keeps them blind like an open one.
STILL_TO_DO = (ItemStatus.OPEN, ItemStatus.SKIPPED)
TOO_MANY = "The filter matches {n:,} examples; an assignment holds at most {max:,}. Narrow it."


def assignment_get_for_user(user, assignment_id, *, action: Action = Action.READ) -> Assignment:
    return get_for_user(
        Assignment.objects.select_related("dataset", "dataset__team"),
        user,
        pk=assignment_id,
        action=action,
    )


def assignment_list(*, dataset) -> QuerySet:
    """The dataset's assignments, newest first, each with ``item_count`` and ``submitted_count``."""
    return Assignment.objects.filter(dataset=dataset).annotate(
        item_count=Count("items"),
        submitted_count=Count("items", filter=Q(items__status=ItemStatus.SUBMITTED)),
    )


def assignment_progress(*, assignment) -> dict:
    """Items and submitted items, overall and per annotator (by username)."""
    rows = (
        AssignmentItem.objects.filter(assignment=assignment)
        .values("annotator_id", "annotator__username")
        .annotate(total=Count("id"), submitted=Count("id", filter=Q(status=ItemStatus.SUBMITTED)))
        .order_by("annotator__username")
    )
    annotators = [
        {
            "id": r["annotator_id"],
            "username": r["annotator__username"],
            "total": r["total"],
            "submitted": r["submitted"],
        }
        for r in rows
    ]
    return {
        "total": sum(a["total"] for a in annotators),
        "submitted": sum(a["submitted"] for a in annotators),
        "examples": AssignmentItem.objects.filter(assignment=assignment)
        .values("example_id")
        .distinct()
        .count(),
        "annotators": annotators,
    }


def assignment_guidelines(*, assignment) -> list[Guidelines]:
    return list(Guidelines.objects.filter(assignment=assignment).order_by("-version"))


def example_ids_from_filter(*, dataset, filters: dict) -> list[int]:
    """The ids the example list shows for ``filters`` (the list's own filter parser)."""
    from finetunedb.exceptions import ApplicationError

    queryset = dataset_selectors.example_list(dataset, filters=filters)
    ids = list(queryset.order_by("pk").values_list("pk", flat=True)[: MAX_FILTER_EXAMPLES + 1])
    if len(ids) > MAX_FILTER_EXAMPLES:
        raise ApplicationError(TOO_MANY.format(n=len(ids), max=MAX_FILTER_EXAMPLES), code="filter")
    return ids


def team_annotators(*, team_id) -> list:
    """Members who may annotate (every role but viewer), by username."""
    from finetunedb.teams.models import Membership

    members = Membership.objects.filter(team_id=team_id).select_related("user")
    return [
        m.user for m in members.order_by("user__username") if role_allows(m.role, Action.ANNOTATE)
    ]


def queue_open_items(*, user, assignment_id=None) -> QuerySet:
    """The caller's open items in their teams (one assignment's with ``assignment_id``)."""
    items = scope_to_user(
        AssignmentItem.objects.filter(annotator_id=user.pk, status=ItemStatus.OPEN), user
    )
    return items.filter(assignment_id=assignment_id) if assignment_id else items


def queue_pool_items(*, user, assignment_id=None) -> QuerySet:
    """Items other annotators skipped in the assignments the caller annotates, for examples the
    caller has no item of there: the pool they may take once their own open items are done."""
    mine = AssignmentItem.objects.filter(annotator_id=user.pk)
    if assignment_id:
        mine = mine.filter(assignment_id=assignment_id)
    items = scope_to_user(
        AssignmentItem.objects.filter(
            status=ItemStatus.SKIPPED, assignment_id__in=mine.values("assignment_id")
        ).exclude(annotator_id=user.pk),
        user,
    )
    return items.exclude(
        Exists(
            AssignmentItem.objects.filter(
                assignment_id=OuterRef("assignment_id"),
                example_id=OuterRef("example_id"),
                annotator_id=user.pk,
            )
        )
    )


def queue_skipped_items(*, user, assignment_id=None) -> QuerySet:
    """The caller's own skipped items: they come back after everything else."""
    items = scope_to_user(
        AssignmentItem.objects.filter(annotator_id=user.pk, status=ItemStatus.SKIPPED), user
    )
    return items.filter(assignment_id=assignment_id) if assignment_id else items


def queue_progress(*, user, assignment_id=None) -> dict:
    items = scope_to_user(AssignmentItem.objects.filter(annotator_id=user.pk), user)
    if assignment_id:
        items = items.filter(assignment_id=assignment_id)
    row = items.aggregate(
        total=Count("id"),
        submitted=Count("id", filter=Q(status=ItemStatus.SUBMITTED)),
        skipped=Count("id", filter=Q(status=ItemStatus.SKIPPED)),
    )
    return {"total": row["total"], "submitted": row["submitted"], "skipped": row["skipped"]}


def queue_recent(*, user, limit: int = 5) -> list[AssignmentItem]:
    """The caller's latest submitted items, newest first (links to see the others' labels)."""
    items = scope_to_user(
        AssignmentItem.objects.filter(annotator_id=user.pk, status=ItemStatus.SUBMITTED), user
    )
    return list(items.order_by("-submitted_at", "-id")[:limit])


def queue_item_get_for_user(user, item_id) -> AssignmentItem:
    """One of the caller's own items; anyone else's (teammates' too) is a 404."""
    item = get_for_user(
        AssignmentItem.objects.select_related(
            "assignment", "assignment__dataset", "example", "example__current_revision"
        ),
        user,
        pk=item_id,
    )
    if item.annotator_id != user.pk:
        from django.http import Http404

        raise Http404("Not found.")
    return item


def annotation_of(*, user, example_id) -> Annotation | None:
    return Annotation.objects.filter(example_id=example_id, annotator_id=user.pk).first()


def annotations_visible_to(*, user, example) -> list[Annotation]:
    """Other annotators' annotations of ``example`` that the caller may see now (blind rule)."""
    if AssignmentItem.objects.filter(
        example=example, annotator_id=user.pk, status__in=STILL_TO_DO
    ).exists():
        return []
    own = Annotation.objects.filter(example=example, annotator_id=user.pk).exists()
    if not own and not role_allows(role_in_team(user, example.dataset.team_id), Action.CURATE):
        return []
    return list(
        Annotation.objects.filter(example=example, submitted_at__isnull=False)
        .exclude(annotator_id=user.pk)
        .select_related("annotator")
        .order_by("annotator__username")
    )


def assignment_annotations(*, assignment) -> list[dict]:
    """Every submitted annotation of the assignment's items, as plain rows for the reports."""
    pairs = AssignmentItem.objects.filter(assignment=assignment, status=ItemStatus.SUBMITTED)
    wanted = set(pairs.values_list("example_id", "annotator_id"))
    examples = {e for e, _ in wanted}
    rows = []
    for a in (
        Annotation.objects.filter(example_id__in=examples, submitted_at__isnull=False)
        .select_related("annotator")
        .order_by("example_id", "annotator__username")
    ):
        if (a.example_id, a.annotator_id) in wanted:
            rows.append(_row(a))
    return rows


def _row(a: Annotation) -> dict:
    return {
        "example": a.example_id,
        "annotator": a.annotator_id,
        "username": a.annotator.username,
        "verdict": a.verdict or None,
        # Stored as a float; the queue accepts whole numbers 1–5 only.
        "rating": None if a.rating is None else int(a.rating),
        "tags": list(a.tags or []),
        "note": a.notes,
        "answer": a.answer,
        "seconds": a.seconds_spent,
        "submitted_at": a.submitted_at,
    }


def example_consensus(*, example_ids) -> dict[int, dict]:
    """The examples' current consensus fields: ``{id: {status, rating, tags, revision}}``."""
    from datasets_app.models import Example

    out = {}
    for e in Example.objects.filter(pk__in=list(example_ids)).prefetch_related("tags"):
        out[e.pk] = {
            "status": e.status,
            "rating": e.rating,
            "tags": sorted(t.name for t in e.tags.all()),
            "revision": e.revision,
        }
    return out


def adjudications(*, assignment) -> dict[int, Adjudication]:
    """The latest adjudication of each example of the assignment."""
    latest = {}
    for a in Adjudication.objects.filter(assignment=assignment).order_by("created_at", "id"):
        latest[a.example_id] = a
    return latest


def dataset_annotations_export(*, dataset, user):
    """One dict per annotated example of the dataset: its current content and consensus, and
    every annotator's submitted annotation (the annotations JSONL export). Examples the caller
    still has open are left out (blind)."""
    annotations = (
        Annotation.objects.filter(example__dataset=dataset, submitted_at__isnull=False)
        .exclude(example_id__in=list(open_example_ids(user=user)))
        .select_related("annotator", "example", "example__current_revision")
        .prefetch_related("example__tags")
        .order_by("example_id", "annotator__username")
    )
    current = None
    for a in annotations.iterator(chunk_size=2000):
        if current is not None and current["example"] != a.example_id:
            yield current
            current = None
        if current is None:
            example = a.example
            revision = example.current_revision
            current = {
                "example": example.pk,
                "messages": revision.messages if revision else [],
                "status": example.status,
                "rating": example.rating,
                "tags": sorted(t.name for t in example.tags.all()),
                "annotations": [],
            }
        row = _row(a)
        del row["example"]
        current["annotations"].append(row)
    if current is not None:
        yield current


def open_example_ids(*, user) -> set[int]:
    """Examples the caller still has to annotate: their labels stay hidden from them."""
    return set(
        AssignmentItem.objects.filter(annotator_id=user.pk, status__in=STILL_TO_DO).values_list(
            "example_id", flat=True
        )
    )


def assignment_agreement(*, assignment, user) -> dict:
    """The agreement report (``annotation.report.agreement_report``) with each item's current
    consensus and latest adjudication id. Items the caller still has open (a curator who also
    annotates) are left out of the item list, counted in ``hidden_items``: blind for them too."""
    from .report import agreement_report

    report = agreement_report(assignment_annotations(assignment=assignment))
    mine = open_example_ids(user=user)
    report["hidden_items"] = sum(1 for i in report["items"] if i["example"] in mine)
    report["items"] = [i for i in report["items"] if i["example"] not in mine]
    consensus = example_consensus(example_ids=[i["example"] for i in report["items"]])
    decided = adjudications(assignment=assignment)
    for item in report["items"]:
        item["consensus"] = consensus.get(item["example"])
        adjudication = decided.get(item["example"])
        item["adjudicated"] = adjudication.pk if adjudication else None
    return report


def assignment_statistics(*, assignment) -> list[dict]:
    from .report import annotator_statistics

    rows = assignment_annotations(assignment=assignment)
    consensus = example_consensus(example_ids={r["example"] for r in rows})
    return annotator_statistics(rows, consensus)
