"""The dataset overview: counts by status and split, the check summary and token histograms,
versions and imports, and the buttons to the dataset's tools."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import render

from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import role_in_team

from .. import selectors
from ..checks_charts import histogram_chart
from ..models import DatasetVersion, Example, ExampleStatus, ImportJob, Split
from ..services.checks import dataset_report, rules_for_summary
from .checks import HISTOGRAMS

TOP_RULES = 8


def counts_by(dataset, field: str, choices) -> list[dict]:
    rows = dict(
        Example.objects.filter(dataset=dataset)
        .values_list(field)
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [{"value": v, "label": label, "n": rows.get(v, 0)} for v, label in choices]


@login_required
def dataset_overview(request, dataset_id):
    dataset = selectors.dataset_get_for_user(request.user, dataset_id)
    role = role_in_team(request.user, dataset.team_id)
    report = dataset_report(dataset=dataset)
    rules, more_rules = rules_for_summary(report["rules"], cap=TOP_RULES)
    return render(
        request,
        "workspace/overview.html",
        {
            "dataset": dataset,
            "tab": "overview",
            "by_status": counts_by(dataset, "status", ExampleStatus.choices),
            "by_split": _split_counts(dataset),
            "report": report,
            "rules": rules,
            "more_rules": more_rules,
            "charts": [
                {"label": label, "chart": histogram_chart(report["histograms"].get(key))}
                for key, label in HISTOGRAMS
                if report["histograms"].get(key)
            ],
            "versions": DatasetVersion.objects.filter(dataset=dataset).order_by("-number")[:5],
            "imports": ImportJob.objects.filter(dataset=dataset).order_by("-pk")[:5],
            "can_annotate": role_allows(role, Action.ANNOTATE),
            "can_curate": role_allows(role, Action.CURATE),
            "can_import": role_allows(role, Action.IMPORT),
            "can_export": role_allows(role, Action.EXPORT),
            "can_freeze": role_allows(role, Action.FREEZE),
        },
    )


def _split_counts(dataset) -> list[dict]:
    rows = dict(
        Example.objects.filter(dataset=dataset)
        .exclude(status=ExampleStatus.ARCHIVED)
        .values_list("split")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [{"value": v, "label": label, "n": rows.get(v, 0)} for v, label in Split.choices]
