"""Pages for uploading files and following an import."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from finetunedb.exceptions import ApplicationError
from finetunedb.parsers import json_text_parse
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.quota import team_storage_usage
from finetunedb.teams.scoping import role_in_team

from .. import selectors
from ..formats import EXPORT_FORMATS, FORMATS
from ..models import ExampleStatus, ImportMode, ImportStatus, Split
from ..services import imports as import_services
from ..services.examples import status_choices_for
from ..uploads import TOO_LARGE, max_upload_bytes

FORMAT_LABELS = {
    "auto": "Detect automatically",
    "openai": "OpenAI chat (messages)",
    "openai_preference": "OpenAI preference (input / preferred_output / non_preferred_output)",
    "sharegpt": "ShareGPT (conversations)",
    "sharegpt_preference": "ShareGPT preference (chosen / rejected)",
    "prompt_chosen_rejected": "Prompt / chosen / rejected",
    "prompt_completion": "Prompt / completion",
    "alpaca": "Alpaca (instruction / input / output)",
    "question_answer": "Question / answer",
    "self_instruct": "Self-instruct (instruction + instances)",
}


@login_required
def import_new(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.IMPORT)
    error = None
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        status = 400
        if getattr(request, "upload_too_large", False):
            error = TOO_LARGE.format(limit=max_upload_bytes())
            status = 413
        elif upload is None:
            error = "Choose a file to upload."
        else:
            mapping = None
            raw_mapping = request.POST.get("column_mapping", "").strip()
            try:
                if raw_mapping:
                    mapping = json_text_parse(raw_mapping, field="column_mapping")
                job = import_services.import_job_create(
                    user=request.user,
                    dataset=dataset,
                    upload=upload,
                    format=request.POST.get("format") or "auto",
                    mode=request.POST.get("mode") or ImportMode.STRICT,
                    column_mapping=mapping,
                    skip_duplicates=request.POST.get("skip_duplicates") == "on",
                    status=request.POST.get("status") or ExampleStatus.DRAFT,
                )
            except ApplicationError as exc:
                error = "; ".join(
                    [exc.message] + [f"{e['path']}: {e['message']}" for e in exc.errors]
                )
                status = exc.status_code
            else:
                return redirect("datasets:import", import_id=job.pk)
    return render(
        request,
        "datasets/import_new.html",
        {
            "dataset": dataset,
            "formats": [(f, FORMAT_LABELS.get(f, f)) for f in FORMATS],
            "modes": ImportMode.choices,
            "statuses": status_choices_for(role=role_in_team(request.user, dataset.team_id)),
            "chosen_status": request.POST.get("status") or ExampleStatus.DRAFT,
            "error": error,
            "max_bytes": max_upload_bytes(),
            "recent": selectors.import_job_list(dataset=dataset)[:10],
            "storage": team_storage_usage(team_id=dataset.team_id),
            "active_imports": import_services.import_active_count(team_id=dataset.team_id),
            "max_active_imports": import_services.import_active_limit(),
        },
        status=status if error else 200,
    )


@login_required
def import_detail(request, import_id):
    job = selectors.import_job_get_for_user(user=request.user, import_id=import_id)
    if request.GET.get("done") and job.is_finished and job.status == "succeeded":
        messages.success(request, f"Imported {job.examples_created} examples.")
        return redirect("datasets:detail", dataset_id=job.dataset_id)
    role = role_in_team(request.user, job.dataset.team_id)
    # A strict import that failed only on its bad lines can be retried keeping the good ones.
    can_retry = (
        job.status == ImportStatus.FAILED
        and job.mode == ImportMode.STRICT
        and job.rows_valid > 0
        and role_allows(role, Action.IMPORT)
    )
    return render(
        request,
        "datasets/import_detail.html",
        {"job": job, "dataset": job.dataset, "can_retry": can_retry},
    )


@login_required
@require_POST
def import_retry(request, import_id):
    job = selectors.import_job_get_for_user(user=request.user, import_id=import_id)
    try:
        new = import_services.import_job_retry(user=request.user, job=job)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("datasets:import", import_id=job.pk)
    return redirect("datasets:import", import_id=new.pk)


@login_required
def export_form(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.EXPORT)
    return render(
        request,
        "datasets/export.html",
        {"dataset": dataset, "formats": EXPORT_FORMATS, "splits": Split.choices},
    )
