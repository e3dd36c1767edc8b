"""The dataset overview: counts by status and split, the check summary and token histograms,
versions and imports, and the buttons to the dataset's tools."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from finetunedb.teams.permissions import Action, role_allows
from finetunedb.teams.scoping import role_in_team

from .. import selectors
from ..checks_charts import histogram_chart
from ..models import ExampleStatus, Split
from ..services.checks import dataset_report, rules_for_summary
from .checks import HISTOGRAMS

TOP_RULES = 8


def _choice_counts(counts: dict, choices) -> list[dict]:
    return [{"value": v, "label": label, "n": counts.get(v, 0)} for v, label in choices]


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
            "by_status": _choice_counts(
                selectors.example_counts_by(dataset=dataset, field="status"),
                ExampleStatus.choices,
            ),
            "by_split": _choice_counts(
                selectors.example_counts_by(dataset=dataset, field="split", include_archived=False),
                Split.choices,
            ),
            "report": report,
            "rules": rules,
            "more_rules": more_rules,
            "charts": [
                {"label": label, "chart": histogram_chart(report["histograms"].get(key))}
                for key, label in HISTOGRAMS
                if report["histograms"].get(key)
            ],
            "versions": selectors.version_list(dataset)[:5],
            "imports": selectors.import_job_list(dataset=dataset)[:5],
            "can_annotate": role_allows(role, Action.ANNOTATE),
            "can_curate": role_allows(role, Action.CURATE),
            "can_import": role_allows(role, Action.IMPORT),
            "can_export": role_allows(role, Action.EXPORT),
            "can_freeze": role_allows(role, Action.FREEZE),
        },
    )
