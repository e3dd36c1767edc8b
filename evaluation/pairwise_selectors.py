"""Scoped reads of pairwise reviews, and the blind view of one item. Views reach them only
through these (tests/test_views_build_no_querysets.py)."""

from __future__ import annotations

from django.http import Http404

from datasets_app.selectors.examples import dataset_list_for_user
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import NOT_FOUND, get_for_user

from .pairwise_models import PairwiseItem, PairwiseJudgment, PairwiseReview
from .services.items import split_prompt

REVIEW_RELATED = ("run", "run__suite", "run__suite__team", "against", "created_by")


def pairwise_review_get_for_user(
    user, review_id, *, run_id=None, action: Action = Action.READ
) -> PairwiseReview:
    """One review of the caller's teams; 404 too when ``run_id`` is not the review's run (the
    API nests reviews under their run)."""
    review = get_for_user(
        PairwiseReview.objects.select_related(*REVIEW_RELATED), user, pk=review_id, action=action
    )
    if run_id is not None and review.run_id != int(run_id):
        raise Http404(NOT_FOUND)
    return review


def pairwise_reviews_for_run(run) -> list[PairwiseReview]:
    """Reviews where ``run`` (reached through the scoped selector) is either side."""
    mine = PairwiseReview.objects.filter(run=run).select_related(*REVIEW_RELATED)
    theirs = PairwiseReview.objects.filter(against=run).select_related(*REVIEW_RELATED)
    return sorted([*mine, *theirs], key=lambda r: -r.pk)


def pairwise_item_blind(item: PairwiseItem) -> dict:
    """What a reviewer is shown before judging: the prompt and the two answers as A and B.
    Nothing names a run or a model."""
    item = PairwiseItem.objects.select_related("result__entry__revision", "against_result").get(
        pk=item.pk
    )
    revision = item.result.entry.revision
    prompt, _ = split_prompt(revision.messages)
    first, second = item.result.output, item.against_result.output
    if item.swapped:
        first, second = second, first
    return {
        "id": item.pk,
        "position": item.position,
        "prompt": prompt,
        "tools": revision.tools or None,
        "answer_a": first,
        "answer_b": second,
    }


def pairwise_judgments_of(*, review: PairwiseReview, user) -> list[PairwiseJudgment]:
    """The caller's own judgments of the review, oldest first (revealing the winners: they
    are stored)."""
    return list(
        PairwiseJudgment.objects.filter(item__review=review, reviewer=user)
        .select_related("item")
        .order_by("created_at", "pk")
    )


def pairwise_datasets_for(*, user, team_id: int):
    """The datasets picks can be saved into: the review's team's, as the caller sees them."""
    return dataset_list_for_user(user, team_id=team_id)
