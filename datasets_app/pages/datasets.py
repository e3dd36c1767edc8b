"""Dataset list, creation, and the read-only example page. The workspace's pages (example list,
editor, history, review, overview) are the sibling modules ``examples``, ``editor``,
``history``, ``review`` and ``overview``."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import role_in_team
from finetunedb.teams.selectors import team_get_for_user

from .. import selectors
from ..forms import DatasetForm, ExampleForm
from ..services import datasets as dataset_services
from ..services import examples as example_services
from ..services.checks import example_findings, findings_by_turn


@login_required
def dataset_list(request):
    team = (
        team_get_for_user(request.user, request.GET.get("team"))
        if request.GET.get("team")
        else None
    )
    from finetunedb.teams.context_processors import current_team

    team = team or current_team(request)["current_team"]
    datasets = selectors.dataset_list_for_user(request.user, team_id=team.pk) if team else []
    form = DatasetForm()
    return render(request, "datasets/list.html", {"datasets": datasets, "form": form, "team": team})


@login_required
@require_POST
def dataset_create(request):
    team = team_get_for_user(request.user, request.POST.get("team"))
    if team is None:
        raise Http404("Not found.")
    form = DatasetForm(request.POST)
    if form.is_valid():
        try:
            dataset = dataset_services.dataset_create(
                user=request.user, team=team, **form.cleaned_data
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Dataset “{dataset.name}” created.")
            return redirect("datasets:detail", dataset_id=dataset.pk)
    else:
        messages.error(request, "A dataset needs a name (at most 200 characters).")
    return redirect("datasets:list")


@login_required
def example_new(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.ANNOTATE)
    form = ExampleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            example = example_services.example_create(
                user=request.user,
                dataset=dataset,
                messages=form.cleaned_data["messages"],
                status=form.cleaned_data["status"],
                tags=form.cleaned_data["tag_list"],
            )
        except ApplicationError as exc:
            for error in exc.errors or [{"path": "", "message": exc.message}]:
                form.add_error(
                    None,
                    f"{error['path']}: {error['message']}" if error["path"] else error["message"],
                )
        else:
            messages.success(request, "Example added.")
            return redirect("datasets:example", example_id=example.pk)
    return render(request, "datasets/example_new.html", {"dataset": dataset, "form": form})


@login_required
def example_detail(request, example_id):
    example = selectors.example_get_for_user(request.user, example_id)
    role = role_in_team(request.user, example.dataset.team_id)
    messages_list = example.current_revision.messages
    example_wide, by_turn = findings_by_turn(example_findings(example), len(messages_list))
    return render(
        request,
        "datasets/example.html",
        {
            "example": example,
            "dataset": example.dataset,
            "revision": example.current_revision,
            "tags": sorted(t.name for t in example.tags.all()),
            "metadata_json": json.dumps(
                example.current_revision.metadata, indent=2, ensure_ascii=False
            ),
            "tools_json": json.dumps(example.current_revision.tools, indent=2, ensure_ascii=False)
            if example.current_revision.tools
            else "",
            "can_annotate": role_allows(role, Action.ANNOTATE),
            "example_wide_findings": example_wide,
            "turns": [(m, by_turn.get(i, [])) for i, m in enumerate(messages_list)],
        },
    )
