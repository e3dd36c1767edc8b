"""An annotator's queue: claim the next item with a short lease, submit a label for it.

A claim is one conditional UPDATE on the item (still open, still the caller's): of two tabs or
a reassignment racing, exactly one wins. The lease is short; an item whose lease ran out goes
back to the front of its annotator's queue. Skipping (:func:`queue_item_skip`) puts an item
back in its assignment's pool: another annotator of the assignment who has no item for that
example takes it once their own open items are done, and the skipper gets it back (if nobody took
it) only after everything else in their queue. Submitting writes the caller's own
:class:`Annotation` for the example and never touches the example's consensus fields (status,
rating, tags), which only adjudication writes.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from finetunedb.exceptions import ApplicationError, ConflictError
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import require_role, role_in_team

from ..models import Annotation, AssignmentItem, ItemStatus, Verdict
from ..selectors import queue_open_items, queue_pool_items, queue_skipped_items

CLAIM_LEASE = timedelta(minutes=10)
MAX_NOTE = 10_000
MAX_ANSWER = 100_000
MAX_TAGS = 50
NOT_OPEN = "This item is no longer open for you (submitted, or moved to another annotator)."
BAD_VERDICT = "must be one of " + ", ".join(Verdict.values)
BAD_RATING = "an integer from 1 to 5, or null"
BAD_TAGS = f"a list of at most {MAX_TAGS} tags of 1–64 characters"
BAD_NOTE = f"text of at most {MAX_NOTE:,} characters"
BAD_ANSWER = f"text of at most {MAX_ANSWER:,} characters"
BAD_SECONDS = "seconds spent: a number from 0 to 86,400"
EMPTY = "Give at least a verdict, a rating or a tag."
INVALID = "The annotation was not saved; see errors."


def queue_next(*, user, assignment_id: int | None = None, now=None) -> AssignmentItem | None:
    """Claim and return the caller's next item, or None when there is none left.

    In order: an open item they already hold (so a reload shows the same item), their other open
    items, items other annotators of their assignments skipped (the pool), then the items they
    skipped themselves, the longest-skipped first."""
    now = now or timezone.now()
    items = queue_open_items(user=user, assignment_id=assignment_id)
    held = items.filter(leased_until__gt=now).order_by("assignment_id", "id")
    free = items.filter(Q(leased_until__isnull=True) | Q(leased_until__lte=now))
    for candidate in (held.first(), *free.order_by("assignment_id", "id")[:5]):
        if candidate is None:
            continue
        claimed = AssignmentItem.objects.filter(
            pk=candidate.pk, annotator=user, status=ItemStatus.OPEN
        ).update(leased_until=now + CLAIM_LEASE, opened_at=Coalesce("opened_at", now))
        if claimed:
            return _loaded(candidate.pk)
    pool = queue_pool_items(user=user, assignment_id=assignment_id)
    for candidate in pool.select_related("assignment__dataset").order_by("updated_at", "id")[:5]:
        if not role_allows(
            role_in_team(user, candidate.assignment.dataset.team_id), Action.ANNOTATE
        ):
            continue
        try:
            # Conditional on the item still being skipped: of two annotators racing, one wins.
            # The unique (assignment, example, annotator) refuses a second item of one example.
            with transaction.atomic():
                claimed = AssignmentItem.objects.filter(
                    pk=candidate.pk, status=ItemStatus.SKIPPED
                ).update(
                    annotator_id=user.pk,
                    status=ItemStatus.OPEN,
                    leased_until=now + CLAIM_LEASE,
                    opened_at=now,
                    updated_at=now,
                )
        except IntegrityError:
            continue
        if claimed:
            return _loaded(candidate.pk)
    mine = queue_skipped_items(user=user, assignment_id=assignment_id)
    for candidate in mine.order_by("updated_at", "id")[:5]:
        claimed = AssignmentItem.objects.filter(
            pk=candidate.pk, annotator=user, status=ItemStatus.SKIPPED
        ).update(status=ItemStatus.OPEN, leased_until=now + CLAIM_LEASE, updated_at=now)
        if claimed:
            return _loaded(candidate.pk)
    return None


def _loaded(pk) -> AssignmentItem:
    return AssignmentItem.objects.select_related(
        "assignment", "example", "example__current_revision"
    ).get(pk=pk)


def queue_item_skip(*, user, item: AssignmentItem, now=None) -> AssignmentItem:
    """Pass on ``item`` without labelling it: it goes to the assignment's pool (any annotator of
    the assignment without this example may take it) and comes back to the caller only after the
    rest of their queue. Nothing is stored about the example itself."""
    require_role(user, item.assignment.dataset.team_id, Action.ANNOTATE)
    now = now or timezone.now()
    # updated_at is set by hand (update() skips auto_now): it orders skipped items, oldest first.
    skipped = AssignmentItem.objects.filter(
        pk=item.pk, annotator_id=user.pk, status=ItemStatus.OPEN
    ).update(status=ItemStatus.SKIPPED, leased_until=None, updated_at=now)
    if not skipped:
        raise ConflictError(NOT_OPEN, code="not_open")
    return _loaded(item.pk)


def _clean(values: dict) -> tuple[dict, list[dict]]:
    errors, clean = [], {}
    verdict = values.get("verdict") or ""
    if verdict and verdict not in Verdict.values:
        errors.append({"path": "verdict", "message": BAD_VERDICT})
    clean["verdict"] = verdict
    rating = values.get("rating")
    if rating is not None and (
        isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
    ):
        errors.append({"path": "rating", "message": BAD_RATING})
    clean["rating"] = rating
    tags = values.get("tags") or []
    if (
        not isinstance(tags, list)
        or len(tags) > MAX_TAGS
        or any(not isinstance(t, str) or not 1 <= len(t.strip()) <= 64 for t in tags)
    ):
        errors.append({"path": "tags", "message": BAD_TAGS})
        tags = []
    clean["tags"] = sorted({t.strip() for t in tags})
    for key, limit, message in (("note", MAX_NOTE, BAD_NOTE), ("answer", MAX_ANSWER, BAD_ANSWER)):
        text = values.get(key) or ""
        if not isinstance(text, str) or len(text) > limit:
            errors.append({"path": key, "message": message})
            text = ""
        clean[key] = text
    seconds = values.get("seconds")
    if seconds is not None and (
        isinstance(seconds, bool)
        or not isinstance(seconds, int | float)
        or not 0 <= seconds <= 86_400
    ):
        errors.append({"path": "seconds", "message": BAD_SECONDS})
        seconds = None
    clean["seconds"] = seconds
    if not errors and not (clean["verdict"] or clean["rating"] is not None or clean["tags"]):
        errors.append({"path": "verdict", "message": EMPTY})
    return clean, errors


def annotation_submit(*, user, item: AssignmentItem, values: dict, now=None) -> Annotation:
    """Store the caller's annotation of ``item``'s example and close the item.

    ``values``: verdict, rating, tags, note, answer (an edit of the last assistant answer) and
    optionally seconds (time spent, as the client measured it; else from the first claim).
    Only the caller's own row is written; refused input stores nothing.
    """
    require_role(user, item.assignment.dataset.team_id, Action.ANNOTATE)
    clean, errors = _clean(values)
    if errors:
        raise ApplicationError(INVALID, code="invalid", errors=errors)
    now = now or timezone.now()
    with transaction.atomic():
        item = AssignmentItem.objects.select_for_update().filter(pk=item.pk).first()
        if item is None or item.annotator_id != user.pk or item.status != ItemStatus.OPEN:
            raise ConflictError(NOT_OPEN, code="not_open")
        seconds = clean["seconds"]
        if seconds is None and item.opened_at is not None:
            seconds = max(0.0, (now - item.opened_at).total_seconds())
        annotation, _ = Annotation.objects.update_or_create(
            example_id=item.example_id,
            annotator=user,
            defaults={
                "assignment_id": item.assignment_id,
                "verdict": clean["verdict"],
                "rating": clean["rating"],
                "tags": clean["tags"],
                "notes": clean["note"],
                "answer": clean["answer"],
                "seconds_spent": seconds,
                "submitted_at": now,
                "guidelines_version": item.assignment.guidelines_version,
            },
        )
        AssignmentItem.objects.filter(pk=item.pk).update(
            status=ItemStatus.SUBMITTED, submitted_at=now, leased_until=None
        )
    return annotation
