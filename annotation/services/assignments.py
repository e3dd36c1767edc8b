"""Creating assignments: which annotators get which examples (the pure part is ``distribution``)."""

from __future__ import annotations

import secrets

from django.db import transaction

from datasets_app.models import Example, ExampleStatus
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.models import Membership
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import require_role

from ..distribution import distribute
from ..models import Assignment, AssignmentItem

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
    seed = seed or secrets.token_hex(8)
    try:
        items = distribute(chosen, annotator_ids, overlap=overlap, seed=seed)
    except ValueError as error:
        raise ApplicationError(BAD_OVERLAP.format(message=error), code="overlap") from None
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
