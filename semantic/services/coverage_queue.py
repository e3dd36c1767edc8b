"""Turning a coverage gap into work: a bucket over its target becomes an annotation assignment
of its examples (reviewers reject or archive the weakest); a bucket under its target becomes an
authoring queue — the coverage "write" page, the new-example form prefilled with the bucket's
tag or metadata value, which saves one example after another until the gap is closed."""

from __future__ import annotations

from django.urls import reverse

from annotation.models import Assignment
from annotation.services.assignments import assignment_create
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..models import CoverageTarget
from .coverage import (
    MET,
    OVER_ONLY,
    QUEUE_GUIDELINES,
    coverage_bucket_example_ids,
    coverage_target_status,
)

QUEUE_NAME = "Coverage: {target} — over by {remove}"
UNAVAILABLE = "{target}: {note}"


def coverage_authoring_url(*, coverage_target_id: int) -> str:
    return reverse("semantic:coverage-write", kwargs={"coverage_target_id": coverage_target_id})


def coverage_queue_create(
    *, user, target: CoverageTarget, annotator_ids: list[int] | None = None
) -> Assignment:
    """An assignment (overlap 1) of the over-target bucket's examples to ``annotator_ids``
    (default: the caller). 409 for a bucket that is met, under its target (with the authoring
    page's URL) or not available."""
    require_role(user, target.dataset.team_id, Action.CURATE)
    status = coverage_target_status(target=target)
    describe = status["describe"]
    if status["state"] == "unavailable":
        raise ApplicationError(
            UNAVAILABLE.format(target=describe, note=status["note"]), status_code=409
        )
    if status["state"] == "met":
        raise ApplicationError(MET.format(target=describe), code="met", status_code=409)
    if status["state"] == "under":
        url = coverage_authoring_url(coverage_target_id=target.pk)
        raise ApplicationError(
            OVER_ONLY.format(target=describe, add=status["add"] or "", url=url),
            code="under_target",
            status_code=409,
            extra={"authoring_url": url},
        )
    share = "n/a" if status["actual_share"] is None else f"{status['actual_share']:g}%"
    return assignment_create(
        user=user,
        dataset=target.dataset,
        annotator_ids=annotator_ids or [user.pk],
        overlap=1,
        example_ids=coverage_bucket_example_ids(target=target),
        name=QUEUE_NAME.format(target=describe, remove=status["remove"])[:200],
        guidelines=QUEUE_GUIDELINES.format(
            target=describe,
            count=status["count"],
            total=status["total"],
            share=share,
            remove=status["remove"],
        ),
    )
