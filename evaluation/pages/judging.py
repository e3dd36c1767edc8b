"""The compare page's "Judge with LLM": a plain form post that asks for the LLM judge's
pairwise comparison of the two runs (a job on the training worker), then back to the compare
page, which shows it pending and, once judged, its win rate, interval, position bias and each
verdict with the judge's reason."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import parse_id

from .. import selectors
from ..services.judging import judged_comparison_request
from .pairwise import _message

JUDGING_QUEUED = (
    "The LLM judge is judging the two runs on the worker; this page shows its progress."
)
ALREADY_JUDGED = "These two runs were already judged by that judge: its verdicts are below."
CHOOSE_AGAINST = "against: choose the run to compare with."


@login_required
@require_POST
def judge_create(request, eval_run_id):
    run = selectors.eval_run_get_for_user(request.user, eval_run_id, action=Action.TRAIN)
    against_id = parse_id(request.POST.get("against"))
    if against_id is None:
        messages.error(request, CHOOSE_AGAINST)
        return redirect("evaluation:run", eval_run_id=run.pk)
    against = selectors.eval_run_get_for_user(request.user, against_id)
    judge = request.POST.get("judge") or None
    try:
        _, created = judged_comparison_request(
            user=request.user, run=run, against=against, judge=judge
        )
        messages.success(request, JUDGING_QUEUED if created else ALREADY_JUDGED)
    except ApplicationError as exc:
        messages.error(request, _message(exc))
    compare = reverse("evaluation:compare", kwargs={"eval_run_id": run.pk})
    return redirect(f"{compare}?against={against.pk}#llm-judge")
