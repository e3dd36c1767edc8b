"""The human blind pairwise review: create one from two runs, hand each reviewer the next item
under a short claim, store judgments and skips, add them up.

Claims: a reviewer asking for the next item gets the first unjudged item nobody else holds and
holds it for :data:`CLAIM` (a conditional UPDATE takes it, so two reviewers asking at the same
moment get different items); only when every item they have left is held by others are they
shown one of those, unclaimed — agreement needs several reviewers on the same items anyway.
This is not a job lease (``finetunedb.leases`` claims a job for one worker until it finishes):
an item stays open to every reviewer, the claim only spreads reviewers working together.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from finetunedb.exceptions import ApplicationError, ConflictError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..models import EvalResult, EvalRun
from ..pairwise import CHOICES, Judgment, pairwise_summary, shown_swapped, winner_of
from ..pairwise_models import (
    PairwiseChoice,
    PairwiseItem,
    PairwiseJudgment,
    PairwiseReview,
    PairwiseWinner,
)

CLAIM = timedelta(minutes=5)
SAME_RUN = "review a run against another run, not against itself"
OTHER_SUITE = "run {other} is on another suite; a review compares two runs of the same suite"
NOT_FINISHED = "run {run} is {status}; a review needs two finished runs"
NO_SHARED_ITEMS = "runs {run} and {other} have no suite item both answered"
BAD_SEED = "must be an integer from 0 to 2**62"
NOT_AN_ITEM = "item {item} is not an item of this review"
BAD_CHOICE = "must be one of a, b, tie"
ALREADY_JUDGED = "you already judged item {item} of this review; a judgment cannot be changed"
MAX_SEED = 2**62


def _field_error(path: str, message: str, cls=ApplicationError) -> ApplicationError:
    return cls(message, errors=[{"path": path, "message": message}])


def _check_runs(run: EvalRun, against: EvalRun) -> None:
    if run.pk == against.pk:
        raise _field_error("against", SAME_RUN)
    if run.suite_id != against.suite_id:
        raise _field_error("against", OTHER_SUITE.format(other=against.pk))
    for field, each in (("run", run), ("against", against)):
        if not each.is_finished:
            raise _field_error(
                field, NOT_FINISHED.format(run=each.pk, status=each.status), ConflictError
            )


def pairwise_review_create(
    *, user, run: EvalRun, against: EvalRun, seed: int | None = None
) -> tuple[PairwiseReview, bool]:
    """A review of ``run`` against ``against`` (both reached through the scoped selector; the
    same suite — so the same team — and both finished), or the one that exists already:
    ``(review, created)``. Its items are the suite items both runs have a result for."""
    require_role(user, run.suite.team_id, Action.CURATE)
    _check_runs(run, against)
    existing = PairwiseReview.objects.filter(run=run, against=against).first()
    if existing is not None:
        return existing, False
    if seed is None:
        seed = secrets.randbelow(MAX_SEED)
    elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise _field_error("seed", BAD_SEED)
    theirs = {r.entry_id: r.pk for r in EvalResult.objects.filter(run=against).only("entry_id")}
    ours = [
        r
        for r in EvalResult.objects.filter(run=run).only("pk", "entry_id", "position")
        if r.entry_id in theirs
    ]
    if not ours:
        raise _field_error(
            "against", NO_SHARED_ITEMS.format(run=run.pk, other=against.pk), ConflictError
        )
    try:
        with transaction.atomic():
            review = PairwiseReview.objects.create(
                run=run, against=against, seed=seed, item_count=len(ours), created_by=user
            )
            PairwiseItem.objects.bulk_create(
                PairwiseItem(
                    review=review,
                    position=r.position,
                    result_id=r.pk,
                    against_result_id=theirs[r.entry_id],
                    swapped=shown_swapped(seed, r.position),
                )
                for r in ours
            )
    except IntegrityError:  # created by someone else meanwhile
        return PairwiseReview.objects.get(run=run, against=against), False
    return review, True


def _todo(review: PairwiseReview, user):
    return PairwiseItem.objects.filter(review=review).exclude(judgments__reviewer=user)


def pairwise_item_next(*, user, review: PairwiseReview) -> PairwiseItem | None:
    """The item ``user`` judges next (annotators and up), held for them for :data:`CLAIM`;
    None when they judged (or skipped) every item."""
    require_role(user, review.run.suite.team_id, Action.ANNOTATE)
    now = timezone.now()
    todo = _todo(review, user).order_by("position")
    mine = todo.filter(claimed_by=user, claimed_until__gte=now).first()
    if mine is not None:
        PairwiseItem.objects.filter(pk=mine.pk, claimed_by=user).update(claimed_until=now + CLAIM)
        return mine
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    for pk in todo.filter(free).values_list("pk", flat=True)[:20]:
        # The conditional UPDATE is the claim: of two reviewers racing for pk, one matches.
        taken = PairwiseItem.objects.filter(free, pk=pk).update(
            claimed_by=user, claimed_at=now, claimed_until=now + CLAIM
        )
        if taken:
            return PairwiseItem.objects.get(pk=pk)
    return todo.first()


def _record(*, user, review: PairwiseReview, item_id, choice: str) -> PairwiseJudgment:
    require_role(user, review.run.suite.team_id, Action.ANNOTATE)
    item = PairwiseItem.objects.filter(review=review, pk=item_id).first()
    if item is None:
        raise _field_error("item", NOT_AN_ITEM.format(item=item_id))
    now = timezone.now()
    seconds = None
    if item.claimed_by_id == user.pk and item.claimed_at is not None:
        seconds = max(0.0, (now - item.claimed_at).total_seconds())
    winner = (
        PairwiseWinner.NONE
        if choice == PairwiseChoice.SKIPPED
        else winner_of(choice, swapped=item.swapped)
    )
    try:
        with transaction.atomic():
            judgment = PairwiseJudgment.objects.create(
                item=item, reviewer=user, choice=choice, winner=winner, seconds=seconds
            )
            PairwiseItem.objects.filter(pk=item.pk, claimed_by=user).update(
                claimed_by=None, claimed_at=None, claimed_until=None
            )
    except IntegrityError:
        raise _field_error("item", ALREADY_JUDGED.format(item=item.pk), ConflictError) from None
    return judgment


def pairwise_judge(*, user, review: PairwiseReview, item_id, winner) -> PairwiseJudgment:
    """Store ``user``'s verdict on an item as shown: ``a``, ``b`` or ``tie``. Once only."""
    if winner not in CHOICES:
        raise _field_error("winner", BAD_CHOICE)
    return _record(user=user, review=review, item_id=item_id, choice=winner)


def pairwise_skip(*, user, review: PairwiseReview, item_id) -> PairwiseJudgment:
    """``user`` passes on the item: it leaves their queue and counts in no figure."""
    return _record(user=user, review=review, item_id=item_id, choice=PairwiseChoice.SKIPPED)


def pairwise_progress(*, user, review: PairwiseReview) -> dict:
    done = PairwiseJudgment.objects.filter(item__review=review, reviewer=user).count()
    return {"judged": done, "total": review.item_count}


def pairwise_results(*, review: PairwiseReview) -> dict:
    """The win rate of the review's run over the other (Wilson interval, ties as half a win),
    per reviewer, and the agreement between reviewers on items several of them judged."""
    rows = list(
        PairwiseJudgment.objects.filter(item__review=review)
        .order_by("created_at", "pk")
        .values_list("item_id", "reviewer_id", "reviewer__username", "winner", "seconds")
    )
    names = {reviewer: name for _, reviewer, name, _, _ in rows}
    summary = pairwise_summary(
        Judgment(item, reviewer, winner or None, seconds)
        for item, reviewer, _, winner, seconds in rows
    )
    for row in summary["per_reviewer"]:
        row["username"] = names[row["reviewer"]]
    for row in summary["agreement"]["kappa"]:
        row["usernames"] = [names[r] for r in row["reviewers"]]
    judged_items = {item for item, _, _, winner, _ in rows if winner}
    summary.update(
        review=review.pk,
        run=review.run_id,
        against=review.against_id,
        items=review.item_count,
        items_judged=len(judged_items),
    )
    return summary
