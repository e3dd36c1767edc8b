"""Version pages: history with the freeze form, a version, a diff, restore and its undo."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from finetunedb.actions.selectors import action_job_active
from finetunedb.actions.services import action_job_status
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import role_in_team

from .. import selectors
from ..formats import EXPORT_FORMATS
from ..services import versions as services
from ..services.action_jobs import freeze_key, version_freeze_start

RESTORED = "The working copy now equals v{number}: {examples} example(s) changed."
UNDONE = "The restore was undone."


class VersionFreezeForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="Defaults to vN.")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    force = forms.BooleanField(required=False, label="Freeze anyway")
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        label="Why freeze past the quality gate?",
    )


class VersionEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


def _can(user, team_id, *actions) -> dict:
    role = role_in_team(user, team_id)
    return {f"can_{a.value}": role_allows(role, a) for a in actions}


def _history(request, dataset, form, blockers=None, status=200):
    active = action_job_active(team_id=dataset.team_id, key=freeze_key(dataset))
    context = {
        "active_job": active,
        "active_status": action_job_status(active) if active else None,
        "dataset": dataset,
        "versions": selectors.version_list(dataset),
        "restores": selectors.restore_list(dataset)[:20],
        "form": form,
        "blockers": blockers,
        **_can(request.user, dataset.team_id, Action.FREEZE, Action.CURATE),
    }
    return render(request, "versions/history.html", context, status=status)


@login_required
def version_history(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id)
    if request.method != "POST":
        return _history(request, dataset, VersionFreezeForm())
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.FREEZE)
    form = VersionFreezeForm(request.POST)
    if not form.is_valid():
        return _history(request, dataset, form, status=400)
    try:
        # A freeze of a large dataset takes seconds: it runs as a job and this answer is at
        # once the job's status page (what the gate refuses is still shown here, with the form).
        job, _ = version_freeze_start(
            user=request.user, dataset=dataset, back_url=request.path, **form.cleaned_data
        )
    except ApplicationError as exc:
        form.add_error(None, exc.message)
        return _history(
            request, dataset, form, blockers=exc.extra.get("blockers"), status=exc.status_code
        )
    return redirect("actions:job", job_id=job.pk)


@login_required
def version_detail(request, version_id):
    version = selectors.version_get_for_user(request.user, version_id)
    edit_form = VersionEditForm(
        request.POST or None, initial={"name": version.name, "notes": version.notes}
    )
    if request.method == "POST":
        version = selectors.version_get_for_user(request.user, version_id, action=Action.FREEZE)
        if edit_form.is_valid():
            services.dataset_version_update(
                user=request.user, version=version, **edit_form.cleaned_data
            )
            messages.success(request, "Saved.")
            return redirect("datasets:version", version_id=version.pk)
    splits = sorted(version.counts)
    export_url = reverse("api:version-export", args=[version.pk])
    return render(
        request,
        "versions/detail.html",
        {
            "version": version,
            "dataset": version.dataset,
            "edit_form": edit_form,
            "others": selectors.version_list(version.dataset, excluding=version.pk),
            "exports": [
                {
                    "format": fmt,
                    "links": [("all", f"{export_url}?format={fmt}")]
                    + [(s, f"{export_url}?format={fmt}&split={s}") for s in splits],
                }
                for fmt in EXPORT_FORMATS
            ],
            **_can(
                request.user, version.dataset.team_id, Action.FREEZE, Action.EXPORT, Action.CURATE
            ),
        },
    )


@login_required
def version_diff(request, version_id):
    version = selectors.version_get_for_user(request.user, version_id)
    others = selectors.version_list(version.dataset, excluding=version.pk)
    against_id = request.GET.get("against") or (version.parent_id and str(version.parent_id))
    diff = error = None
    if against_id:
        against = selectors.version_get_for_user(request.user, against_id)
        try:
            diff = services.dataset_version_diff(
                version=version,
                against=against,
                page=request.GET.get("page"),
                page_size=request.GET.get("page_size"),
                kind=request.GET.get("kind"),
            )
        except ApplicationError as exc:
            error = exc.message
    return render(
        request,
        "versions/diff.html",
        {
            "version": version,
            "dataset": version.dataset,
            "others": others,
            "against_id": int(against_id) if against_id else None,
            "kind": request.GET.get("kind") or "",
            "diff": diff,
            "error": error,
        },
    )


@login_required
def version_restore(request, version_id):
    version = selectors.version_get_for_user(request.user, version_id, action=Action.CURATE)
    if request.method == "POST":
        try:
            restore = services.dataset_version_restore(user=request.user, version=version)
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                RESTORED.format(number=version.number, examples=restore.counts["examples"]),
            )
        return redirect("datasets:versions", dataset_id=version.dataset_id)
    return render(
        request, "versions/restore_confirm.html", {"version": version, "dataset": version.dataset}
    )


@login_required
@require_POST
def restore_undo(request, restore_id):
    restore = selectors.restore_get_for_user(request.user, restore_id, action=Action.CURATE)
    try:
        services.version_restore_undo(user=request.user, restore=restore)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, UNDONE)
    return redirect("datasets:versions", dataset_id=restore.dataset_id)
