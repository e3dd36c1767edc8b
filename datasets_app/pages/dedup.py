"""Pages for duplicates (search, review side by side, resolve) and the contamination check.
Views parse and delegate to the dedup services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import role_in_team

from .. import selectors
from ..dedup.worddiff import word_diff
from ..models import (
    DedupFields,
    DedupMethod,
    DuplicateCluster,
)
from ..services import dedup as dedup_services

CLUSTERS_PER_PAGE = 20
MEMBERS_SHOWN = 4
DIFF_CHARS = 4000  # longer texts are cut before diffing: difflib is quadratic in the worst case
BAD_NUMBER = "{field} must be a number."


def error_text(exc: ApplicationError) -> str:
    return "; ".join([exc.message] + [f"{e['path']}: {e['message']}" for e in exc.errors])


def _first_user_turn(messages_: list) -> str:
    text = next((m.get("content") or "" for m in messages_ if m.get("role") == "user"), "")
    return text[:160]


def _display_text(example) -> str:
    messages_ = example.current_revision.messages if example.current_revision else []
    lines = [f"{m.get('role', '')}: {m.get('content') or ''}" for m in messages_]
    return "\n".join(lines)[:DIFF_CHARS]


def _cluster_view(cluster: DuplicateCluster) -> dict:
    members = list(cluster.members.all())
    shown = members[:MEMBERS_SHOWN]
    reference = _display_text(shown[0].example) if shown else ""
    columns = []
    for index, member in enumerate(shown):
        text = _display_text(member.example)
        segments = [("same", text)] if index == 0 else word_diff(reference, text)
        columns.append({"member": member, "example": member.example, "segments": segments})
    return {"cluster": cluster, "columns": columns, "hidden": len(members) - len(shown)}


@login_required
def duplicates_page(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id)
    role = role_in_team(request.user, dataset.team_id)
    method = request.GET.get("method", "")
    clusters = selectors.duplicate_cluster_list(
        dataset=dataset, method=method if method in DedupMethod.values else None
    )
    page = Paginator(clusters, CLUSTERS_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "dedup/page.html",
        {
            "dataset": dataset,
            "job": selectors.dedup_job_latest(dataset=dataset),
            "page": page,
            "clusters": [_cluster_view(c) for c in page],
            "method": method,
            "methods": DedupMethod.choices,
            "fields_choices": DedupFields.choices,
            "can_curate": role_allows(role, Action.CURATE),
        },
    )


@login_required
@require_POST
def duplicates_run(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
    try:
        threshold = float(request.POST.get("threshold") or 0.8)
        dedup_services.dedup_job_create(
            user=request.user,
            dataset=dataset,
            method=request.POST.get("method") or DedupMethod.NEAR,
            threshold=threshold,
            fields=request.POST.get("fields") or DedupFields.CONVERSATION,
        )
    except ValueError:
        messages.error(request, BAD_NUMBER.format(field="Threshold"))
    except ApplicationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, "Duplicate search started.")
    return redirect("datasets:duplicates", dataset_id=dataset.pk)


RESOLVED = {
    "keep": "Kept one example; archived {archived}.",
    "not_duplicates": "Marked as not duplicates; they will not be flagged again.",
    "merge_tags": "Merged tags on {tagged} examples.",
    "keep_best": "Resolved {clusters_resolved} clusters; archived {archived} examples.",
}


@login_required
@require_POST
def duplicates_resolve(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
    action = request.POST.get("action", "")
    clusters = request.POST.getlist("clusters")
    try:
        result = dedup_services.duplicate_clusters_resolve(
            user=request.user,
            dataset=dataset,
            action=action,
            cluster=request.POST.get("cluster") or None,
            keep=request.POST.get("keep") or None,
            clusters="all" if clusters == ["all"] else clusters,
        )
    except ApplicationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, RESOLVED[action].format(**result))
    url = reverse("datasets:duplicates", kwargs={"dataset_id": dataset.pk})
    page = request.POST.get("page", "")
    return redirect(f"{url}?page={page}" if page.isdigit() else url)


@login_required
def contamination_page(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id)
    others = selectors.dataset_list_team_others(dataset=dataset)
    report, against, error = None, None, None
    method = request.GET.get("method") or "text"
    if request.GET.get("against"):
        # reached like any dataset: another team's id is a 404
        against = selectors.dataset_get_for_user(request.user, request.GET["against"])
        raw = request.GET.get("threshold")
        try:
            report = dedup_services.dataset_contamination(
                dataset=dataset,
                against=against,
                threshold=float(raw) if raw else None,
                method=method,
            )
        except ValueError:
            error = BAD_NUMBER.format(field="Threshold")
        except ApplicationError as exc:
            error = error_text(exc)
    previews = {}
    if report:
        ids = {o["a"] for o in report["overlaps"]} | {o["b"] for o in report["overlaps"]}
        texts = selectors.example_messages_by_id(datasets=[dataset, against], ids=ids)
        previews = {pk: _first_user_turn(messages_) for pk, messages_ in texts.items()}
        for overlap in report["overlaps"]:
            overlap["a_text"], overlap["b_text"] = (
                previews.get(overlap["a"]),
                previews.get(overlap["b"]),
            )
    return render(
        request,
        "dedup/contamination.html",
        {
            "dataset": dataset,
            "others": others,
            "against": against,
            "threshold": request.GET.get("threshold", ""),
            "method": method,
            "report": report,
            "error": error,
        },
        status=400 if error else 200,
    )
