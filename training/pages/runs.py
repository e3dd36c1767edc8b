"""Training pages for runs: the train form with pre-flight, a run and its cancel, token preview."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from datasets_app.selectors import version_get_for_user
from finetunedb.actions.models import ActionStatus
from finetunedb.actions.selectors import action_job_get_for_user
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import NOT_FOUND, parse_id, role_in_team

from .. import selectors, services
from ..charts import run_chart_panels
from ..forms import TrainForm, launch_option_fields
from ..models import ModelArtifact
from ..services.budget import TrainingOverBudget
from ..services.launch import training_run_launch
from ..services.preflight_jobs import training_preflight_start

LAUNCHED = "Run {id} queued on the training worker."
CANCEL_ASKED = "Cancel requested."


def role_flags(user, team_id, *actions) -> dict:
    role = role_in_team(user, team_id)
    return {f"can_{a.value}": role_allows(role, a) for a in actions}


@login_required
def train_form(request, version_id):
    version = version_get_for_user(request.user, version_id, action=Action.TRAIN)
    option_fields = launch_option_fields(user=request.user, version=version)
    parents = list(selectors.sft_models_for_team(team_id=version.dataset.team_id)[:200])
    form = TrainForm(request.POST or None, option_fields=option_fields, parent_models=parents)
    preflight = None
    status = 200
    if request.method == "GET" and request.GET.get("preflight"):
        job = action_job_get_for_user(request.user, request.GET["preflight"])
        if job.action != "preflight" or job.params.get("version") != version.pk:
            raise Http404(NOT_FOUND)
        if job.status != ActionStatus.SUCCEEDED:
            return redirect("actions:job", job_id=job.pk)
        form = TrainForm(
            job.params.get("form") or {}, option_fields=option_fields, parent_models=parents
        )
        preflight = job.result
        form.is_valid()  # shown as it was sent
    elif request.method == "POST" and form.is_valid():
        arguments = form.request_arguments()
        try:
            if "launch" in request.POST:
                run = training_run_launch(
                    user=request.user,
                    version=version,
                    options=form.option_values(),
                    **arguments,
                    **form.parent_arguments(),
                )
                messages.success(request, LAUNCHED.format(id=run.pk))
                return redirect("training:run", run_id=run.pk)
            # Tokenizing the split takes seconds: a job; this answer is its status page, which
            # comes back here (?preflight=) with the figures. Bad values are refused here.
            job, _ = training_preflight_start(
                user=request.user,
                version=version,
                arguments=arguments,
                form={k: v for k, v in request.POST.items() if k != "csrfmiddlewaretoken"},
                back_url=request.path,
            )
            return redirect("actions:job", job_id=job.pk)
        except ApplicationError as exc:
            form.add_service_errors(exc.errors or [{"path": "", "message": exc.message}])
            if exc.code == TrainingOverBudget.default_code:
                # Next to the fields each reason names, and once above the form as a whole.
                form.add_error(None, exc.message)
            status = exc.status_code
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "training/train.html",
        {"version": version, "dataset": version.dataset, "form": form, "preflight": preflight},
        status=status,
    )


@login_required
def run_detail(request, run_id):
    run = selectors.run_get_for_user(request.user, run_id)
    try:
        model = run.model
    except ModelArtifact.DoesNotExist:
        model = None
    return render(
        request,
        "training/run.html",
        {
            "run": run,
            "version": run.version,
            "dataset": run.version.dataset,
            "model": model,
            "panels": run_chart_panels(run),
            **role_flags(request.user, run.version.dataset.team_id, Action.TRAIN),
        },
    )


@login_required
@require_POST
def run_cancel(request, run_id):
    run = selectors.run_get_for_user(request.user, run_id, action=Action.TRAIN)
    try:
        services.training_run_cancel(user=request.user, run=run)
        messages.success(request, CANCEL_ASKED)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("training:run", run_id=run.pk)


@login_required
def version_preview(request, version_id):
    version = version_get_for_user(request.user, version_id)
    preview = error = None
    example_id = request.GET.get("example")
    if example_id and parse_id(example_id) is None:
        raise Http404(NOT_FOUND)
    if example_id:
        try:
            preview = services.training_preview(
                version=version,
                example_id=example_id,
                base_model=request.GET.get("base_model"),
                max_seq_len=parse_id(request.GET.get("max_seq_len")),
            )
        except ApplicationError as exc:
            if exc.errors and exc.errors[0]["path"] == "example":
                raise Http404(exc.message) from exc
            error = exc.message
    return render(
        request,
        "training/preview.html",
        {
            "version": version,
            "dataset": version.dataset,
            "preview": preview,
            "error": error,
            "example_id": example_id or "",
        },
    )
