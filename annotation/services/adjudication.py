"""Adjudication: a reviewer turns an example's annotations into its consensus.

The decision is written through ``datasets_app``'s one example write
(:func:`datasets_app.services.examples.example_update`): status, rating and tags on the example,
and an edited answer as a new revision of its content (the optimistic lock and the checks
included). The :class:`Adjudication` row records who decided and credits every annotator whose
annotation was weighed, next to the revision the answer edit made.
"""

from __future__ import annotations

import copy

from django.db import transaction

from datasets_app.models import Example, ExampleStatus
from datasets_app.services.examples import example_update
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..models import Adjudication, Annotation, AssignmentItem, ItemStatus

STATUSES = (ExampleStatus.APPROVED, ExampleStatus.REJECTED, ExampleStatus.NEEDS_REVIEW)
NOT_IN_ASSIGNMENT = "example: {pk} is not an example of this assignment."
NOTHING_SUBMITTED = "example: nobody has submitted an annotation of example {pk} yet."
BAD_PICK = "pick: user {pk} has not submitted an annotation of this example."
BAD_STATUS = "status: one of " + ", ".join(STATUSES) + " (or pick an annotation)."
OWN_OPEN = (
    "example: you still have example {pk} open in your own queue; submit your annotation "
    "before you adjudicate it."
)
NO_ASSISTANT = "answer: the example has no assistant message to replace."


def _replace_answer(messages: list, answer: str) -> list:
    messages = copy.deepcopy(messages)
    for message in reversed(messages):
        if message.get("role") == "assistant":
            message["content"] = answer
            return messages
    raise ApplicationError(NO_ASSISTANT, code="answer")


def example_adjudicate(
    *,
    user,
    assignment,
    example_id: int,
    pick: int | None = None,
    changes: dict | None = None,
    expected_revision: int | None = None,
) -> Adjudication:
    """Write the consensus of one example of ``assignment``.

    ``pick`` takes one annotator's verdict, rating, tags and answer; ``changes`` (status,
    rating, tags, answer) sets or overrides fields — a merge. Fields neither names keep the
    example's current values. Refused input changes nothing; a stale ``expected_revision``
    is a 412, as in the editor.
    """
    require_role(user, assignment.dataset.team_id, Action.CURATE)
    changes = dict(changes or {})
    submitted = AssignmentItem.objects.filter(
        assignment=assignment, example_id=example_id, status=ItemStatus.SUBMITTED
    ).values_list("annotator_id", flat=True)
    if not AssignmentItem.objects.filter(assignment=assignment, example_id=example_id).exists():
        raise ApplicationError(NOT_IN_ASSIGNMENT.format(pk=example_id), code="example")
    if AssignmentItem.objects.filter(
        example_id=example_id, annotator_id=user.pk, status=ItemStatus.OPEN
    ).exists():
        raise ApplicationError(OWN_OPEN.format(pk=example_id), code="example")
    annotations = {
        a.annotator_id: a
        for a in Annotation.objects.filter(example_id=example_id, annotator_id__in=list(submitted))
    }
    if not annotations:
        raise ApplicationError(NOTHING_SUBMITTED.format(pk=example_id), code="example")
    decided: dict = {}
    if pick is not None:
        chosen = annotations.get(pick)
        if chosen is None:
            raise ApplicationError(BAD_PICK.format(pk=pick), code="pick")
        if chosen.verdict:
            decided["status"] = chosen.verdict
        if chosen.rating is not None:
            decided["rating"] = int(chosen.rating)
        decided["tags"] = list(chosen.tags or [])
        if chosen.answer:
            decided["answer"] = chosen.answer
    decided.update(
        {k: v for k, v in changes.items() if k in ("status", "rating", "tags", "answer")}
    )
    if "status" in decided and decided["status"] not in STATUSES:
        raise ApplicationError(
            BAD_STATUS, code="status", errors=[{"path": "status", "message": BAD_STATUS}]
        )
    with transaction.atomic():
        example = Example.objects.select_related("current_revision", "dataset").get(pk=example_id)
        update = {k: decided[k] for k in ("status", "rating", "tags") if k in decided}
        answer = decided.get("answer")
        if answer:
            update["messages"] = _replace_answer(example.current_revision.messages, answer)
        before = example.current_revision_id
        if update:
            example = example_update(
                user=user,
                example=example,
                expected_revision=expected_revision or example.revision,
                changes=update,
            )
        return Adjudication.objects.create(
            assignment=assignment,
            example=example,
            decided_by=user,
            status=example.status,
            rating=example.rating,
            tags=sorted(t.name for t in example.tags.all()),
            revision=example.current_revision if example.current_revision_id != before else None,
            annotators=sorted(annotations),
        )
