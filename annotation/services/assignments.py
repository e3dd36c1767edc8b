"""Creating assignments: which annotators get which examples (the pure part is ``distribution``)."""

from __future__ import annotations

import secrets

from django.db import transaction

from datasets_app.models import Example, ExampleStatus
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.models import Membership
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import require_role

from ..distribution import Item, distribute, redistribute_without
from ..models import Assignment, AssignmentItem, Guidelines, ItemStatus

NO_ANNOTATORS = "Name at least one annotator."
NOT_ANNOTATORS = (
    "annotators: {names} cannot annotate in this team (not a member, or a viewer); "
    "invite them or give them the annotator role first."
)
NO_EXAMPLES = "There are no examples to assign: the selection is empty or holds only archived ones."
UNKNOWN_EXAMPLES = "example_ids: {ids} are not examples of this dataset."
BAD_OVERLAP = "overlap: {message}"


def assignment_create(
    *,
    user,
    dataset,
    annotator_ids: list[int],
    overlap: int,
    example_ids: list[int] | None = None,
    name: str = "",
    guidelines: str = "",
    due_at=None,
    seed: str | None = None,
) -> Assignment:
    """Give each chosen example (default: every example not archived) to ``overlap`` annotators.

    Loads differ by at most one; the seed (random unless given) is stored, so the distribution
    can be replayed. Nothing is stored when any input is refused.
    """
    require_role(user, dataset.team_id, Action.CURATE)
    annotator_ids = list(dict.fromkeys(annotator_ids))
    if not annotator_ids:
        raise ApplicationError(NO_ANNOTATORS, code="annotators")
    roles = dict(
        Membership.objects.filter(team_id=dataset.team_id, user_id__in=annotator_ids).values_list(
            "user_id", "role"
        )
    )
    refused = [a for a in annotator_ids if not role_allows(roles.get(a), Action.ANNOTATE)]
    if refused:
        raise ApplicationError(
            NOT_ANNOTATORS.format(names=", ".join(map(str, refused))), code="annotators"
        )
    examples = Example.objects.filter(dataset=dataset).exclude(status=ExampleStatus.ARCHIVED)
    if example_ids is not None:
        wanted = set(example_ids)
        found = set(examples.filter(pk__in=wanted).values_list("pk", flat=True))
        missing = sorted(wanted - found)
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
            raise ApplicationError(UNKNOWN_EXAMPLES.format(ids=shown), code="example_ids")
        chosen = sorted(found)
    else:
        chosen = list(examples.order_by("pk").values_list("pk", flat=True))
    if not chosen:
        raise ApplicationError(NO_EXAMPLES, code="example_ids")
    if len(guidelines) > MAX_GUIDELINES:
        raise ApplicationError(
            GUIDELINES_TOO_LONG.format(max=MAX_GUIDELINES, n=len(guidelines)), code="guidelines"
        )
    seed = seed or secrets.token_hex(8)
    try:
        items = distribute(chosen, annotator_ids, overlap=overlap, seed=seed)
    except ValueError as error:
        raise ApplicationError(
            BAD_OVERLAP.format(message=error),
            code="overlap",
            errors=[{"path": "overlap", "message": str(error)}],
        ) from None
    with transaction.atomic():
        assignment = Assignment.objects.create(
            dataset=dataset,
            name=name,
            guidelines=guidelines,
            overlap=overlap,
            seed=seed,
            due_at=due_at,
            created_by=user,
        )
        Guidelines.objects.create(
            assignment=assignment, version=1, text=guidelines, created_by=user
        )
        AssignmentItem.objects.bulk_create(
            [
                AssignmentItem(
                    assignment=assignment, example_id=item.example, annotator_id=item.annotator
                )
                for item in items
            ],
            batch_size=1000,
        )
    return assignment


GUIDELINES_TOO_LONG = "guidelines: at most {max:,} characters; this has {n:,}."
MAX_GUIDELINES = 100_000


def assignment_update(
    *, user, assignment: Assignment, guidelines=None, due_at=..., name=None
) -> Assignment:
    """Change the name, due date or guidelines; new guidelines become the next version (the old
    ones are kept, and each annotation records the version its annotator saw)."""
    require_role(user, assignment.dataset.team_id, Action.CURATE)
    if guidelines is not None and len(guidelines) > MAX_GUIDELINES:
        raise ApplicationError(
            GUIDELINES_TOO_LONG.format(max=MAX_GUIDELINES, n=len(guidelines)), code="guidelines"
        )
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(pk=assignment.pk)
        fields = []
        if name is not None:
            assignment.name = name
            fields.append("name")
        if due_at is not ...:
            assignment.due_at = due_at
            fields.append("due_at")
        if guidelines is not None and guidelines != assignment.guidelines:
            assignment.guidelines = guidelines
            assignment.guidelines_version += 1
            fields += ["guidelines", "guidelines_version"]
            Guidelines.objects.create(
                assignment=assignment,
                version=assignment.guidelines_version,
                text=guidelines,
                created_by=user,
            )
        if fields:
            assignment.save(update_fields=fields)
    return assignment


NOT_IN_ASSIGNMENT = "annotator {annotator} has no items in this assignment."


def assignment_annotator_remove(*, user, assignment, annotator_id: int) -> int:
    """Take an annotator off an assignment: their open and skipped items move to the others (open
    again); returns how many.

    Submitted items stay theirs (their annotations count). Every example keeps
    ``overlap`` distinct annotators and loads stay as even as that allows
    (``distribution.redistribute_without``).
    """
    require_role(user, assignment.dataset.team_id, Action.CURATE)
    with transaction.atomic():
        rows = list(
            AssignmentItem.objects.select_for_update()
            .filter(assignment=assignment)
            .values_list("pk", "example_id", "annotator_id", "status")
        )
        if not any(a == annotator_id for _, _, a, _ in rows):
            raise ApplicationError(
                NOT_IN_ASSIGNMENT.format(annotator=annotator_id), code="annotator"
            )
        staying = sorted({a for _, _, a, _ in rows if a != annotator_id})
        to_do = (ItemStatus.OPEN, ItemStatus.SKIPPED)
        items = [Item(e, a, open=s in to_do) for _, e, a, s in rows]
        try:
            moves = redistribute_without(
                items, removed=annotator_id, annotators=staying, seed=assignment.seed
            )
        except ValueError as error:
            raise ApplicationError(str(error), code="annotator") from None
        pk_of = {e: pk for pk, e, a, s in rows if a == annotator_id and s in to_do}
        for example, new_annotator in moves:
            AssignmentItem.objects.filter(pk=pk_of[example]).update(
                annotator_id=new_annotator, status=ItemStatus.OPEN, leased_until=None
            )
    return len(moves)
