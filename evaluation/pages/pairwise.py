"""Pages of the human blind pairwise review: start one from the compare page, the queue (prompt,
answers A and B side by side, keys a / b / t / s, plain form posts without JS), the results
(win rate with its Wilson interval, per reviewer, agreement) with "Save as preference pairs"."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from datasets_app.selectors import dataset_get_for_user
from datasets_app.workspace.markdown import render_markdown
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import parse_id, role_in_team

from .. import selectors
from ..pairwise_selectors import (
    pairwise_datasets_for,
    pairwise_item_blind,
    pairwise_review_get_for_user,
)
from ..services.pairwise import (
    pairwise_item_next,
    pairwise_judge,
    pairwise_progress,
    pairwise_results,
    pairwise_review_create,
    pairwise_skip,
)
from ..services.pairwise_preferences import model_name, pairwise_preferences_save

CHOICES = [
    ("a", "A is better", "a", "primary"),
    ("b", "B is better", "b", "primary"),
    ("tie", "Tie", "t", ""),
    ("skip", "Skip", "s", ""),
]
SHORTCUTS = [("a", "A is better"), ("b", "B is better"), ("t", "Tie"), ("s", "Skip this item")]
CHOOSE_DATASET = "Choose a dataset of the review's team."
SAVED = (
    "{created} preference pair(s) saved to {dataset}; {duplicates} already there (skipped), "
    "{ties} tie(s) are not pairs."
)


def _message(exc: ApplicationError) -> str:
    where = exc.errors[0]["path"] if exc.errors else ""
    return f"{where}: {exc.message}" if where else exc.message


@login_required
@require_POST
def review_create(request, eval_run_id):
    run = selectors.eval_run_get_for_user(request.user, eval_run_id, action=Action.CURATE)
    against_id = parse_id(request.POST.get("against"))
    if against_id is None:
        messages.error(request, "against: choose the run to compare with.")
        return redirect("evaluation:run", eval_run_id=run.pk)
    against = selectors.eval_run_get_for_user(request.user, against_id)
    try:
        review, _ = pairwise_review_create(user=request.user, run=run, against=against)
    except ApplicationError as exc:
        messages.error(request, _message(exc))
        return redirect("evaluation:run", eval_run_id=run.pk)
    return redirect("evaluation:pairwise-queue", review_id=review.pk)


def _answer(text: str) -> dict:
    return {"text": text, "html": render_markdown(text)}


@login_required
@require_GET
def review_queue(request, review_id):
    review = pairwise_review_get_for_user(request.user, review_id, action=Action.ANNOTATE)
    item = pairwise_item_next(user=request.user, review=review)
    progress = pairwise_progress(user=request.user, review=review)
    context = {"review": review, "progress": progress, "item": None}
    if item is not None:
        shown = pairwise_item_blind(item)
        context.update(
            item=shown,
            number=progress["judged"] + 1,
            turns=[{"m": m, "html": render_markdown(m.get("content"))} for m in shown["prompt"]],
            answer_a=_answer(shown["answer_a"]),
            answer_b=_answer(shown["answer_b"]),
            choices=CHOICES,
            shortcuts=SHORTCUTS,
        )
    return render(request, "evaluation/pairwise_queue.html", context)


@login_required
@require_POST
def review_judge(request, review_id):
    review = pairwise_review_get_for_user(request.user, review_id, action=Action.ANNOTATE)
    item_id = parse_id(request.POST.get("item"))
    choice = request.POST.get("choice", "")
    try:
        if choice == "skip":
            pairwise_skip(user=request.user, review=review, item_id=item_id)
        else:
            pairwise_judge(user=request.user, review=review, item_id=item_id, winner=choice)
    except ApplicationError as exc:
        messages.error(request, _message(exc))
    return redirect("evaluation:pairwise-queue", review_id=review.pk)


@login_required
@require_GET
def review_results(request, review_id):
    review = pairwise_review_get_for_user(request.user, review_id)
    team_id = review.run.suite.team_id
    role = role_in_team(request.user, team_id)
    return render(
        request,
        "evaluation/pairwise_results.html",
        {
            "review": review,
            "suite": review.run.suite,
            "run_name": model_name(review.run),
            "against_name": model_name(review.against),
            "results": pairwise_results(review=review),
            "datasets": pairwise_datasets_for(user=request.user, team_id=team_id)[:200],
            "can_save": role_allows(role, Action.CURATE),
            "can_judge": role_allows(role, Action.ANNOTATE),
        },
    )


@login_required
@require_POST
def review_save_preferences(request, review_id):
    review = pairwise_review_get_for_user(request.user, review_id)
    dataset_id = parse_id(request.POST.get("dataset"))
    try:
        if dataset_id is None:
            raise ApplicationError(CHOOSE_DATASET)
        try:
            dataset = dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
        except Http404:
            raise ApplicationError(CHOOSE_DATASET) from None
        saved = pairwise_preferences_save(user=request.user, review=review, dataset=dataset)
    except ApplicationError as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(
            request,
            SAVED.format(
                created=len(saved.created),
                dataset=dataset.name,
                duplicates=saved.skipped_duplicates,
                ties=saved.skipped_ties,
            ),
        )
    return redirect("evaluation:pairwise-results", review_id=review.pk)
