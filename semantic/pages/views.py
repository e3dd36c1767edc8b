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
from ..services.topics import dataset_topics, topics_k_parse

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


MAP_W, MAP_H, MAP_PAD = 640, 420, 12
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")  # fmt: skip


def _map(points) -> list[dict]:
    """The projection scaled into the SVG's box, one colour per topic."""
    if not points:
        return []
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, y0 = min(xs), min(ys)
    sx = (MAP_W - 2 * MAP_PAD) / ((max(xs) - x0) or 1.0)
    sy = (MAP_H - 2 * MAP_PAD) / ((max(ys) - y0) or 1.0)
    return [
        {
            "x": round(MAP_PAD + (x - x0) * sx, 1),
            "y": round(MAP_H - MAP_PAD - (y - y0) * sy, 1),
            "color": PALETTE[t % len(PALETTE)],
            "topic": t,
            "example": e,
        }
        for x, y, t, e in points
    ]


@login_required
@require_GET
def topics(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id)
    data, error = None, None
    try:
        data = dataset_topics(dataset=dataset, k=topics_k_parse(request.GET.get("k")))
    except ApplicationError as exc:
        error = "; ".join([exc.message] + [e["message"] for e in exc.errors])
    rows = []
    for t in (data or {}).get("topics", []):
        shares = sorted(t["share_by_split"].items())
        rows.append({**t, "color": PALETTE[t["topic"] % len(PALETTE)], "shares": shares})
    context = {
        "dataset": dataset,
        "tab": "examples",
        "data": data,
        "rows": rows,
        "points": _map((data or {}).get("points", [])),
        "error": error,
        "k": request.GET.get("k", ""),
        "map_w": MAP_W,
        "map_h": MAP_H,
    }
    return render(request, "semantic/topics.html", context)
