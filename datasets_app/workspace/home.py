"""What the team home page shows: datasets with counts by status, recent activity and the latest
versions. Reads only rows of the given team, which the caller resolved for the user."""

from __future__ import annotations

from django.db.models import Count

from ..models import DatasetVersion, Example, ExampleRevision, ExampleStatus, ImportJob

RECENT = 8


def team_home_summary(*, user, team) -> dict:
    from .. import selectors

    datasets = list(selectors.dataset_list_for_user(user, team_id=team.pk))
    counts: dict[int, dict[str, int]] = {}
    for dataset_id, status, n in (
        Example.objects.filter(dataset__team=team)
        .values_list("dataset_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        counts.setdefault(dataset_id, {})[status] = n
    rows = [
        {
            "dataset": d,
            "counts": [
                (v, label, counts.get(d.pk, {}).get(v, 0)) for v, label in ExampleStatus.choices
            ],
        }
        for d in datasets
    ]
    revisions = (
        ExampleRevision.objects.filter(example__dataset__team=team)
        .select_related("author", "example__dataset")
        .only(
            "number",
            "created_at",
            "example_id",
            "author__username",
            "example__dataset__name",
            "example__dataset_id",
        )
        .order_by("-pk")[:RECENT]
    )
    imports = (
        ImportJob.objects.filter(dataset__team=team).select_related("dataset").order_by("-pk")[:5]
    )
    versions = (
        DatasetVersion.objects.filter(dataset__team=team)
        .select_related("dataset")
        .order_by("-pk")[:5]
    )
    return {"rows": rows, "revisions": revisions, "imports": imports, "versions": versions}
