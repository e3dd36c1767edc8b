"""Training pages for models: a model (files, playground, the team's other models) and the
comparison of two models."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action

from .. import selectors, services
from ..api.models import model_files
from ..hooks import model_panels_context
from ..services.comparison import model_compare
from .runs import role_flags

PLAYGROUND_QUEUED = "Sent to the worker; the answers appear below."


def _number(raw, kind):
    """The form's text as a number, or the text itself (the service refuses it by field)."""
    try:
        return kind((raw or "").strip())
    except ValueError:
        return raw


@login_required
def model_detail(request, model_id):
    model = selectors.model_get_for_user(request.user, model_id)
    team_id = model.run.version.dataset.team_id
    if request.method == "POST":
        model = selectors.model_get_for_user(request.user, model_id, action=Action.TRAIN)
        turns = [
            {"role": "system", "content": request.POST.get("system", "")},
            {"role": "user", "content": request.POST.get("prompt", "")},
        ]
        turns = [t for t in turns if t["content"].strip()]
        sampling = {}
        if request.POST.get("mode") == "seeds":
            sampling = {
                "temperature": _number(request.POST.get("temperature"), float),
                "seeds": [_number(request.POST.get(k), int) for k in ("seed_a", "seed_b")],
            }
        try:
            services.playground_request_create(
                user=request.user, model=model, messages=turns, **sampling
            )
            messages.success(request, PLAYGROUND_QUEUED)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("training:model", model_id=model.pk)
    others = selectors.model_list_for_team(team_id=team_id, excluding=model.pk)[:100]
    return render(
        request,
        "training/model.html",
        {
            "model": model,
            "run": model.run,
            "version": model.run.version,
            "dataset": model.run.version.dataset,
            "files": model_files(model),
            "merged_file": next(
                (
                    f
                    for f in model_files(model)
                    if f.startswith("merged/") and f.endswith(".safetensors")
                ),
                None,
            ),
            "gguf_file": "model.gguf" if "model.gguf" in model_files(model) else None,
            "playground": model.playground.all()[:5],
            "others": others,
            **model_panels_context(user=request.user, model=model),
            **role_flags(request.user, team_id, Action.TRAIN, Action.EXPORT),
        },
    )


@login_required
def model_compare_page(request, model_id):
    model = selectors.model_get_for_user(request.user, model_id)
    if not request.GET.get("against"):
        return redirect("training:model", model_id=model.pk)
    other = selectors.model_get_for_user(request.user, request.GET["against"])
    return render(
        request,
        "training/compare.html",
        {"model": model, "other": other, "report": model_compare(model, other)},
    )
