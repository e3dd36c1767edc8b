"""The dataset Checks page and the safe-fix flow (choose → preview → apply)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from finetunedb.actions.models import ActionStatus
from finetunedb.actions.selectors import action_job_get_for_user
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import NOT_FOUND, role_in_team

from .. import selectors
from ..checks import FIXES, RULES
from ..checks_charts import histogram_chart
from ..services import checks as services
from ..services.action_jobs import fixes_apply_start, fixes_preview_start
from ..services.checks.fix_scan import example_fixes_page

PREVIEW_PAGE = 50
HISTOGRAMS = (
    ("messages", "Messages per example"),
    ("total_tokens", "Total tokens per example"),
    ("assistant_tokens", "Assistant tokens per example"),
)
DISTRIBUTIONS = (
    ("messages", "Messages"),
    ("total_tokens", "Total tokens"),
    ("assistant_tokens", "Assistant tokens"),
)


def _fix_choices(rules: list[dict]) -> list[dict]:
    flagged = {}
    for rule in rules:
        if rule.get("autofix"):
            flagged[rule["autofix"]] = flagged.get(rule["autofix"], 0) + rule["count"]
    return [
        {"id": fix.id, "title": fix.title, "flagged": flagged.get(fix.id, 0)}
        for fix in FIXES.values()
    ]


@login_required
def checks_page(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id)
    role = role_in_team(request.user, dataset.team_id)
    price, epochs, errors = services.parse_cost_inputs(
        request.GET.get("price_per_million"), request.GET.get("epochs")
    )
    report = services.dataset_report(dataset=dataset, price_per_million=price, epochs=epochs)
    stats = report["token_stats"]
    return render(
        request,
        "checks/page.html",
        {
            "dataset": dataset,
            "report": report,
            "cost_errors": errors,
            "price": request.GET.get("price_per_million", ""),
            "epochs": request.GET.get("epochs", ""),
            "distributions": [
                {"label": label, "values": stats[key]}
                for key, label in DISTRIBUTIONS
                if stats and stats.get(key)
            ],
            "charts": [
                {"label": label, "chart": histogram_chart(report["histograms"].get(key))}
                for key, label in HISTOGRAMS
                if report["histograms"].get(key)
            ],
            "fixes": _fix_choices(report["rules"]),
            "can_curate": role_allows(role, Action.CURATE),
        },
    )


def _selection(request, dataset) -> tuple[list[str], str, dict]:
    source = request.POST if request.method == "POST" else request.GET
    fix_ids = source.getlist("fix")
    rule = source.get("rule", "")
    filters = {"rule": rule} if rule else {}
    return fix_ids, rule, {"queryset": selectors.example_list(dataset, filters=filters)}


@login_required
def fixes_preview(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
    if not request.GET.get("job"):
        # Reading every selected example takes seconds on a large dataset: the scan is a job,
        # and its status page comes back here (?job=) when it is done.
        fix_ids, rule, _ = _selection(request, dataset)
        try:
            job, _ = fixes_preview_start(
                user=request.user,
                dataset=dataset,
                fix_ids=fix_ids,
                rule=rule,
                back_url=reverse("datasets:checks", args=[dataset.pk]),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("datasets:checks", dataset_id=dataset.pk)
        return redirect("actions:job", job_id=job.pk)
    job = action_job_get_for_user(request.user, request.GET["job"])
    if job.action != "fix_preview" or job.params.get("dataset") != dataset.pk:
        raise Http404(NOT_FOUND)
    if job.status != ActionStatus.SUCCEEDED:
        return redirect("actions:job", job_id=job.pk)
    try:
        page = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        page = 1
    preview = example_fixes_page(
        dataset=dataset, scan=job.result, offset=(page - 1) * PREVIEW_PAGE, limit=PREVIEW_PAGE
    )
    rule = job.params.get("rule", "")
    shown_to = min(preview["offset"] + PREVIEW_PAGE, preview["examples_changed"])
    return render(
        request,
        "checks/fix_preview.html",
        {
            "dataset": dataset,
            "preview": preview,
            "job_id": job.pk,
            "rule": RULES.get(rule),
            "rule_id": rule,
            "fix_titles": [FIXES[f].title for f in preview["fix_ids"]],
            "page": page,
            "shown_from": preview["offset"] + 1,
            "shown_to": shown_to,
            "has_next": shown_to < preview["examples_changed"],
        },
    )


@login_required
@require_POST
def fixes_apply(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
    fix_ids, rule, _ = _selection(request, dataset)
    try:
        # New revisions for every changed example, in one transaction: a job on a large dataset.
        job, _ = fixes_apply_start(
            user=request.user,
            dataset=dataset,
            fix_ids=fix_ids,
            rule=rule,
            back_url=reverse("datasets:checks", args=[dataset.pk]),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("datasets:checks", dataset_id=dataset.pk)
    return redirect("actions:job", job_id=job.pk)


@login_required
@require_POST
def recheck(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id, action=Action.CURATE)
    services.dataset_checks_schedule(dataset_id=dataset.pk, full=True)
    messages.success(request, "A full re-check is queued; this page shows it when it is done.")
    return redirect("datasets:checks", dataset_id=dataset.pk)
