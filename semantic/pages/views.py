"""Search by meaning in the workspace, and starting an embedding job. Views parse and delegate."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from datasets_app import selectors
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import role_in_team

from ..selectors import embedding_job_latest
from ..services.jobs import embedding_job_create

RESULTS_SHOWN = 50
JOB_QUEUED = (
    "Embedding job {pk} queued: the examples not embedded yet are embedded in the background."
)


def _first(messages_, role) -> str:
    for m in messages_ or []:
        if m.get("role") == role and isinstance(m.get("content"), str):
            return m["content"][:240]
    return ""


@login_required
@require_GET
def semantic_search(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id)
    query = (request.GET.get("q") or "").strip()
    rows, error = [], None
    if query:
        try:
            found = selectors.example_list(dataset, filters={"semantic": query})
            for example in found[:RESULTS_SHOWN]:
                msgs = example.current_revision.messages if example.current_revision else []
                rows.append(
                    {
                        "example": example,
                        "similarity": example.semantic_similarity,
                        "user": _first(msgs, "user"),
                        "assistant": _first(msgs, "assistant"),
                    }
                )
        except ApplicationError as exc:
            error = exc.message
    context = {
        "dataset": dataset,
        "tab": "examples",
        "query": query,
        "rows": rows,
        "error": error,
        "job": embedding_job_latest(dataset=dataset),
        "can_curate": role_allows(role_in_team(request.user, dataset.team_id), Action.CURATE),
    }
    return render(request, "semantic/search.html", context)


@login_required
@require_POST
def embeddings_start(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
    try:
        job = embedding_job_create(user=request.user, dataset=dataset)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, JOB_QUEUED.format(pk=job.pk))
    return redirect("semantic:search", dataset_id=dataset.pk)
