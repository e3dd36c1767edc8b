"""The split page: assign train/validation/test by ratios and a seed, with the leakage report.
Views parse and delegate to the split services."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render

from finetunedb.actions.models import ActionStatus
from finetunedb.actions.selectors import action_job_active, action_job_get_for_user
from finetunedb.actions.services import action_job_status
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import NOT_FOUND, role_in_team

from .. import selectors
from ..services import splits as split_services
from ..services.action_jobs import dataset_split_start, split_key
from .dedup import BAD_NUMBER, error_text

FORM_FIELDS = (
    "preset",
    "ratio_train",
    "ratio_validation",
    "ratio_test",
    "seed",
    "stratify_by",
    "group_near_duplicates",
    "keep_existing",
    "group_topics",
)
PRESETS = (
    ("80/10/10", {"train": 0.8, "validation": 0.1, "test": 0.1}),
    ("80/20", {"train": 0.8, "validation": 0.2}),
    ("90/10", {"train": 0.9, "test": 0.1}),
)


def _ratios_from(post) -> dict:
    preset = post.get("preset", "80/10/10")
    for name, ratios in PRESETS:
        if preset == name:
            return ratios
    ratios = {}
    for split in ("train", "validation", "test"):
        raw = (post.get(f"ratio_{split}") or "").strip()
        if raw:
            try:
                value = float(raw)
            except ValueError:
                raise ApplicationError(BAD_NUMBER.format(field=f"The {split} share")) from None
            # the form takes percentages; zero means "no such split"
            if value:
                ratios[split] = value / 100
    return ratios


def _active(dataset) -> dict:
    job = action_job_active(team_id=dataset.team_id, key=split_key(dataset))
    return {"active_job": job, "active_status": action_job_status(job) if job else None}


@login_required
def split_page(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id)
    role = role_in_team(request.user, dataset.team_id)
    source = request.POST if request.method == "POST" else request.GET
    stratify_by = (source.get("stratify_by") or "").strip()
    result, error, status = None, None, 200
    is_post = request.method == "POST"
    if is_post:
        dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
        try:
            # Seconds on a large dataset: a job; bad ratios are refused here, with the form.
            job, _ = dataset_split_start(
                user=request.user,
                dataset=dataset,
                ratios=_ratios_from(request.POST),
                seed=int(request.POST.get("seed") or 0),
                stratify_by=stratify_by or None,
                group_near_duplicates=request.POST.get("group_near_duplicates") == "on",
                keep_existing=request.POST.get("keep_existing") == "on",
                group_topics=request.POST.get("group_topics") == "on",
                form={k: request.POST.get(k) for k in FORM_FIELDS if k in request.POST},
                back_url=request.path,
            )
        except ValueError:
            error, status = BAD_NUMBER.format(field="The seed"), 400
        except ApplicationError as exc:
            error, status = error_text(exc), 400
        else:
            return redirect("actions:job", job_id=job.pk)
    elif request.GET.get("job"):
        job = action_job_get_for_user(request.user, request.GET["job"])
        if job.action != "split" or job.params.get("dataset") != dataset.pk:
            raise Http404(NOT_FOUND)
        if job.status != ActionStatus.SUCCEEDED:
            return redirect("actions:job", job_id=job.pk)
        result, source, is_post = job.result, job.params.get("form", {}), True
        stratify_by = (source.get("stratify_by") or "").strip()
    try:
        leakage = split_services.dataset_leakage(dataset=dataset, stratify_by=stratify_by or None)
    except ApplicationError as exc:
        leakage = split_services.dataset_leakage(dataset=dataset)
        error, status = error or error_text(exc), 400
    return render(
        request,
        "splits/page.html",
        {
            "dataset": dataset,
            "presets": [name for name, _ in PRESETS] + ["custom"],
            "form": source,
            "preset": source.get("preset", "80/10/10"),
            "stratify_by": stratify_by,
            "result": result,
            "leakage": leakage,
            "error": error,
            **_active(dataset),
            "can_curate": role_allows(role, Action.CURATE),
            "is_post": is_post,
        },
        status=status,
    )
