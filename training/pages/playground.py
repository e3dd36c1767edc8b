"""The playground's pick: the better of the two answers (or an edit of one) saved as a
preference example into a dataset of the model's team (services/playground_picks.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from datasets_app.selectors import dataset_get_for_user
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action

from .. import selectors
from ..services.playground_picks import playground_pick_save

SAVED = "Saved as a preference example of {dataset} (example {id})."
DUPLICATE = "{dataset} already holds this pair; nothing was added."
NO_DATASET = "Choose the dataset the pair goes into."


@login_required
@require_POST
def playground_pick(request, playground_id):
    pick = selectors.playground_get_for_user(request.user, playground_id)
    back = redirect("training:model", model_id=pick.model_id)
    if not request.POST.get("dataset"):
        messages.error(request, NO_DATASET)
        return back
    dataset = dataset_get_for_user(request.user, request.POST["dataset"], action=Action.CURATE)
    edited = request.POST.get("chosen")
    try:
        saved = playground_pick_save(
            user=request.user,
            request=pick,
            dataset=dataset,
            winner=request.POST.get("winner", ""),
            chosen=edited if edited and edited.strip() else None,
        )
    except ApplicationError as exc:
        reasons = [e["message"] for e in exc.errors or [] if e.get("message") != exc.message]
        messages.error(request, " ".join([exc.message, *reasons]))
        return back
    if saved.created:
        messages.success(request, SAVED.format(dataset=dataset.name, id=saved.created[0]))
    else:
        messages.info(request, DUPLICATE.format(dataset=dataset.name))
    return back
