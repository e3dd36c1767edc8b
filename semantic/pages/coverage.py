"""The coverage plan's pages: the plan (actual vs target, the gap), adding and removing
targets, the freeze gate setting, a gap turned into a review queue, and the authoring queue
(the new-example form prefilled with the bucket). Views parse and delegate."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from datasets_app import selectors
from datasets_app.forms import ExampleForm
from datasets_app.models import Split
from datasets_app.services.datasets import COVERAGE_GATES, dataset_update
from datasets_app.services.examples import example_create
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import role_in_team

from ..coverage import KINDS, MODES
from ..selectors import coverage_target_get_for_user
from ..services.coverage import (
    coverage_plan_status,
    coverage_target_create,
    coverage_target_delete,
    coverage_target_status,
)
from ..services.coverage_queue import coverage_authoring_url, coverage_queue_create

ADDED = "Target added: {describe}."
REMOVED = "Target removed: {describe}."
GATE_SET = "Freezes now check the coverage plan: {gate}."
QUEUED = "Review queue created: {name} ({items} examples)."
WRITTEN = "Example #{pk} saved in {describe}; {left}."
TARGET_FIELDS = ("kind", "key", "value", "split", "mode", "share", "tolerance")


def _error_text(exc: ApplicationError) -> str:
    return "; ".join(f"{e['path']}: {e['message']}" for e in exc.errors) or exc.message


@login_required
@require_http_methods(["GET", "POST"])
def coverage(request, dataset_id):
    action = Action.CURATE if request.method == "POST" else Action.READ
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=action)
    error, entered = None, {}
    if request.method == "POST":
        entered = {f: request.POST.get(f, "") for f in TARGET_FIELDS}
        try:
            target = coverage_target_create(user=request.user, dataset=dataset, **entered)
        except ApplicationError as exc:
            error = _error_text(exc)
        else:
            messages.success(
                request, ADDED.format(describe=coverage_target_status(target=target)["describe"])
            )
            return redirect("semantic:coverage", dataset_id=dataset.pk)
    role = role_in_team(request.user, dataset.team_id)
    status = coverage_plan_status(dataset=dataset)
    for t in status["targets"]:
        t["authoring_url"] = coverage_authoring_url(coverage_target_id=t["id"])
    context = {
        "dataset": dataset,
        "tab": "coverage",
        "status": status,
        "error": error,
        "entered": entered,
        "kinds": KINDS,
        "modes": MODES,
        "splits": Split.values,
        "gates": COVERAGE_GATES,
        "can_curate": role_allows(role, Action.CURATE),
        "can_annotate": role_allows(role, Action.ANNOTATE),
        "can_manage": role_allows(role, Action.MANAGE_DATASETS),
    }
    return render(request, "semantic/coverage.html", context, status=400 if error else 200)


@login_required
@require_POST
def coverage_target_remove(request, coverage_target_id):
    target = coverage_target_get_for_user(
        user=request.user, coverage_target_id=coverage_target_id, action=Action.CURATE
    )
    describe = coverage_target_status(target=target)["describe"]
    dataset_id = target.dataset_id
    coverage_target_delete(user=request.user, target=target)
    messages.success(request, REMOVED.format(describe=describe))
    return redirect("semantic:coverage", dataset_id=dataset_id)


@login_required
@require_POST
def coverage_gate(request, dataset_id):
    dataset = selectors.dataset_get_for_user(
        request.user, dataset_id, action=Action.MANAGE_DATASETS
    )
    try:
        dataset_update(
            user=request.user, dataset=dataset, settings={"coverage_gate": request.POST.get("gate")}
        )
    except ApplicationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, GATE_SET.format(gate=request.POST.get("gate")))
    return redirect("semantic:coverage", dataset_id=dataset.pk)


@login_required
@require_POST
def coverage_queue(request, coverage_target_id):
    target = coverage_target_get_for_user(
        user=request.user, coverage_target_id=coverage_target_id, action=Action.CURATE
    )
    try:
        assignment = coverage_queue_create(user=request.user, target=target)
    except ApplicationError as exc:
        if exc.code == "under_target":
            return redirect(exc.extra["authoring_url"])
        messages.error(request, _error_text(exc))
        return redirect("semantic:coverage", dataset_id=target.dataset_id)
    messages.success(request, QUEUED.format(name=assignment.name, items=assignment.items.count()))
    return redirect("annotation:assignment", assignment_id=assignment.pk)


def _left(status: dict) -> str:
    if status["state"] == "under":
        if status["add"] is None:
            return "adding alone cannot reach this target"
        return f"{status['add']} more wanted"
    return "the target is met" if status["state"] == "met" else f"state: {status['state']}"


@login_required
@require_http_methods(["GET", "POST"])
def coverage_write(request, coverage_target_id):
    """The authoring queue: write the bucket's next example; the gap is counted again after
    every save. A tag bucket's examples get the tag, a metadata bucket's the key and value; a
    topic's join it once the dataset is embedded again."""
    target = coverage_target_get_for_user(
        user=request.user, coverage_target_id=coverage_target_id, action=Action.ANNOTATE
    )
    dataset = target.dataset
    initial = {"tags": target.value if target.kind == "tag" else "", "status": "needs_review"}
    form = ExampleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        tags = form.cleaned_data["tag_list"]
        if target.kind == "tag" and target.value not in tags:
            tags.append(target.value)
        try:
            example = example_create(
                user=request.user,
                dataset=dataset,
                messages=form.cleaned_data["messages"],
                status=form.cleaned_data["status"],
                tags=tags,
                metadata={target.key: target.value} if target.kind == "metadata" else None,
                **({"split": target.split} if target.split else {}),
            )
        except ApplicationError as exc:
            form.add_error(None, _error_text(exc))
        else:
            status = coverage_target_status(target=target)
            messages.success(
                request,
                WRITTEN.format(pk=example.pk, describe=status["describe"], left=_left(status)),
            )
            return redirect("semantic:coverage-write", coverage_target_id=target.pk)
    status = coverage_target_status(target=target)
    context = {
        "dataset": dataset,
        "target": target,
        "status": status,
        "left": _left(status),
        "form": form,
    }
    return render(request, "semantic/coverage_write.html", context)
