"""Reads of datasets and examples: the example list's filters and orderings, exact counts,
revisions, and the small reads the dataset pages show."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum

from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import MAX_ID, get_for_user, parse_id, scope_to_user

from ..checks import RULES
from ..models import (
    CheckResult,
    Dataset,
    DuplicateClusterMember,
    Example,
    ExampleRevision,
    ExampleStatus,
    Severity,
)
from ..services.search import example_search
from ..services.selection import selection_token

EXAMPLE_ORDERINGS = {
    "id": ("id",),
    "-id": ("-id",),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "rating": ("rating", "id"),
    "-rating": ("-rating", "-id"),
    "status": ("status", "id"),
}


def dataset_list_for_user(user, *, team_id=None) -> QuerySet:
    qs = scope_to_user(Dataset.objects.all(), user).select_related("team")
    if team_id not in (None, ""):
        team_id = parse_id(team_id)
        if team_id is None:
            return qs.none()
        qs = qs.filter(team_id=team_id)
    return qs.annotate(
        example_count=Count("examples", filter=~Q(examples__status=ExampleStatus.ARCHIVED))
    ).order_by("name", "id")


def dataset_get_for_user(user, dataset_id, *, action: Action = Action.READ) -> Dataset:
    return get_for_user(Dataset.objects.select_related("team"), user, pk=dataset_id, action=action)


def example_get_for_user(user, example_id, *, action: Action = Action.READ) -> Example:
    return get_for_user(
        Example.objects.select_related(
            "current_revision", "dataset", "dataset__team"
        ).prefetch_related("tags", "check_results"),
        user,
        pk=example_id,
        action=action,
    )


@dataclass(frozen=True)
class ExampleCount:
    """The exact size of a selection and its token (``selection_token``), which a bulk request
    sends back so that the service can refuse a set that changed since it was shown."""

    count: int
    token: str


def example_count(qs: QuerySet) -> ExampleCount:
    """The exact number of examples in ``qs`` (from :func:`example_list`), never capped: one
    aggregate, answered from the (dataset, status, id) index for the common filters. It reads
    every match's index entry (~45 ms per million on an idle SQLite, several times that on a
    loaded machine: bench/pages.py), so the example list asks for it after the page is shown."""
    row = qs.order_by().aggregate(n=Count("pk"), s=Sum("pk"))
    n, id_sum = row["n"] or 0, int(row["s"] or 0)
    return ExampleCount(count=n, token=selection_token(n, id_sum))


def example_list(dataset: Dataset, *, filters: dict | None = None) -> QuerySet:
    """Examples of a dataset the caller already reached through :func:`dataset_get_for_user`.

    Filters are allow-listed here; anything else in ``filters`` is ignored.
    """
    filters = filters or {}
    qs = (
        Example.objects.filter(dataset=dataset)
        .select_related("current_revision")
        .prefetch_related("tags", "check_results")
    )
    status = filters.get("status")
    if status:
        qs = qs.filter(status__in=[s for s in str(status).split(",") if s in ExampleStatus.values])
    elif not filters.get("include_archived"):
        qs = qs.exclude(status=ExampleStatus.ARCHIVED)
    if filters.get("split"):
        qs = qs.filter(split=filters["split"])
    if filters.get("tag"):
        # An IN over the tag's rows rather than a join: SQLite keeps the list sorted and walks
        # it in id order, so the first page of a tag on 1 % of a million rows reads 51 of them;
        # the join read and sorted every tagged example before its LIMIT (bench/pages.py).
        tagged = Example.tags.through.objects.filter(tag__dataset=dataset, tag__name=filters["tag"])
        qs = qs.filter(pk__in=tagged.values("example_id"))
    if filters.get("source_format"):
        qs = qs.filter(source_format=filters["source_format"])
    if filters.get("rating"):
        try:
            rating = int(filters["rating"])
        except (TypeError, ValueError):
            qs = qs.none()
        else:
            # beyond any stored rating, and beyond what the database driver accepts
            qs = qs.filter(rating=rating) if abs(rating) <= MAX_ID else qs.none()
    rule, severity = filters.get("rule"), filters.get("severity")
    if rule or severity:
        # Unknown values match nothing, as an unknown status does. An IN over the dataset's
        # findings (index on dataset, rule) rather than EXISTS per example: a rare rule then
        # costs its few rows, not a scan of every example until enough match.
        findings = CheckResult.objects.filter(dataset=dataset, example__isnull=False)
        if rule:
            findings = findings.filter(rule_id=rule if rule in RULES else "")
        if severity:
            findings = findings.filter(severity=severity if severity in Severity.values else "")
        qs = qs.filter(pk__in=findings.values("example_id"))
    cluster = filters.get("cluster")
    if cluster:
        # members of one duplicate cluster of this dataset; a foreign or bad id matches nothing
        cluster_id = parse_id(cluster)
        if cluster_id is None:
            qs = qs.none()
        else:
            members = DuplicateClusterMember.objects.filter(
                example=OuterRef("pk"), cluster_id=cluster_id
            )
            qs = qs.filter(Exists(members))
    if filters.get("author"):
        author_id = parse_id(filters["author"])
        qs = qs.none() if author_id is None else qs.filter(created_by_id=author_id)
    search = (filters.get("search") or "").strip()
    if search:
        qs = example_search(qs, search, dataset_id=dataset.pk)
    if filters.get("topic"):
        # one topic cluster of the dataset's embeddings (the semantic app, issue 22)
        from semantic.services.topics import topic_example_ids

        qs = qs.filter(pk__in=topic_example_ids(dataset=dataset, topic=filters["topic"]))
    semantic = (filters.get("semantic") or "").strip()
    if semantic:
        # nearest by embedding (the semantic app, issue 22), nearest first unless ordered
        from semantic.services.search import examples_semantic_filter

        qs = examples_semantic_filter(qs, dataset=dataset, text=semantic)
        if not filters.get("ordering"):
            return qs.order_by("semantic_rank", "pk")
    ordering = EXAMPLE_ORDERINGS.get(filters.get("ordering") or "id", EXAMPLE_ORDERINGS["id"])
    return qs.order_by(*ordering)


def tag_names(*, dataset: Dataset) -> QuerySet:
    """The names of a dataset's tags, alphabetically (the list's tag filter)."""
    return dataset.tags.order_by("name").values_list("name", flat=True)


def example_counts_by(*, dataset: Dataset, field: str, include_archived: bool = True) -> dict:
    """``{value: number of examples}`` of a dataset by one of its fields (status, split)."""
    qs = Example.objects.filter(dataset=dataset)
    if not include_archived:
        qs = qs.exclude(status=ExampleStatus.ARCHIVED)
    return dict(qs.values_list(field).annotate(n=Count("pk")).order_by())


def example_messages_by_id(*, datasets: list[Dataset], ids) -> dict[int, list]:
    """``{id: messages}`` of the examples ``ids`` that belong to ``datasets`` (others are left out)."""
    rows = Example.objects.filter(pk__in=list(ids), dataset__in=datasets).values_list(
        "pk", "current_revision__messages"
    )
    return {pk: messages or [] for pk, messages in rows}


def example_revision_list(*, example: Example) -> QuerySet:
    """Every revision of an example the caller already reached, newest first."""
    return example.revisions.select_related("author").order_by("-number")


def example_revision_get(*, example: Example, number: int) -> ExampleRevision | None:
    return example.revisions.filter(number=number).first()


def dataset_list_team_others(*, dataset: Dataset) -> QuerySet:
    """The other datasets of the team of a dataset the caller already reached."""
    return Dataset.objects.filter(team_id=dataset.team_id).exclude(pk=dataset.pk)
