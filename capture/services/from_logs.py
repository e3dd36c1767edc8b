"""Logs → examples of a dataset, each keeping its log's id (``Example.source_log``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from datasets_app.models import Example, ExampleRevision
from datasets_app.models import ExampleStatus as Status
from datasets_app.services.checks import dataset_checks_schedule, example_checks_refresh
from datasets_app.services.examples import status_change_action
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..models import Log
from ..sampling import sample_ids
from ..selectors import log_filter

MAX_LOGS = 10_000
MAX_SAMPLED_FROM = 1_000_000
IDS_OR_FILTER = (
    "Send either ids (a list of log ids) or filter (an object of log filters), not both."
)
UNKNOWN_LOGS = "{n} of the ids are not logs of this dataset's team: {ids}."
TOO_MANY = (
    f"More than {MAX_LOGS} logs match; narrow the filter or send sample (at most {MAX_LOGS})."
)
BAD_STATUS = "Examples from logs start as draft or needs_review (the default)."
NO_RESPONSE = "{n} logs have no response (failed calls) and were skipped."
CAPTURE_STATUSES = (Status.DRAFT, Status.NEEDS_REVIEW)


@dataclass
class FromLogsResult:
    created: list[int]
    skipped_duplicates: int
    skipped_without_response: int


def examples_from_logs(
    *,
    user,
    dataset,
    ids: list[int] | None = None,
    filters: dict | None = None,
    sample: int | None = None,
    seed: int = 0,
    status: str = Status.NEEDS_REVIEW,
) -> FromLogsResult:
    """Turn logs of ``dataset``'s team into its examples (curators and up).

    ``ids`` or clean ``filters`` (``capture.filters.filters_parse``) pick the logs; ``sample``
    keeps that many of them, the same ones for the same ``seed``. A log whose conversation
    (messages + response) is already an example of the dataset, or repeats an earlier log of
    the call, is skipped and counted. All examples are created in one transaction.
    """
    require_role(user, dataset.team_id, Action.CURATE)
    if status not in CAPTURE_STATUSES:
        raise ApplicationError(BAD_STATUS, code="status")
    require_role(user, dataset.team_id, status_change_action(current=None, new=status))
    team_logs = Log.objects.filter(team_id=dataset.team_id)
    if (ids is None) == (filters is None):
        raise ApplicationError(IDS_OR_FILTER, code="ids_or_filter")
    if ids is not None:
        wanted = sorted(set(ids))
        found = set(team_logs.filter(pk__in=wanted).values_list("pk", flat=True))
        missing = [i for i in wanted if i not in found]
        if missing:
            raise ApplicationError(
                UNKNOWN_LOGS.format(n=len(missing), ids=", ".join(map(str, missing[:20]))),
                code="unknown_logs",
            )
    else:
        filters = {**filters, "team": dataset.team_id}
        limit = MAX_SAMPLED_FROM if sample else MAX_LOGS
        wanted = list(log_filter(team_logs, filters).values_list("pk", flat=True)[: limit + 1])
        if len(wanted) > limit:
            raise ApplicationError(TOO_MANY, code="too_many_logs")
    if sample is not None:
        wanted = sample_ids(wanted, sample, seed)
    if len(wanted) > MAX_LOGS:
        raise ApplicationError(TOO_MANY, code="too_many_logs")
    return create_from_logs(user=user, dataset=dataset, log_ids=wanted, status=status)


def create_from_logs(*, user, dataset, log_ids: list[int], status: str) -> FromLogsResult:
    """Examples of ``dataset`` from these logs (already chosen and allowed), duplicates skipped."""
    logs = list(
        Log.objects.filter(pk__in=log_ids)
        .order_by("pk")
        .only("pk", "messages", "tools", "response", "metadata", "content_hash")
    )
    seen = set(
        Example.objects.filter(
            dataset=dataset, content_hash__in={log.content_hash for log in logs}
        ).values_list("content_hash", flat=True)
    )
    fresh, duplicates, failed = [], 0, 0
    for log in logs:
        if log.response is None:
            failed += 1
        elif log.content_hash in seen:
            duplicates += 1
        else:
            seen.add(log.content_hash)
            fresh.append(log)
    with transaction.atomic():
        examples = Example.objects.bulk_create(
            [
                Example(
                    dataset=dataset,
                    content_hash=log.content_hash,
                    status=status,
                    source_format="log",
                    source_log=log.pk,
                    created_by=user,
                )
                for log in fresh
            ]
        )
        revisions = ExampleRevision.objects.bulk_create(
            [
                ExampleRevision(
                    example=example,
                    number=1,
                    messages=list(log.messages) + [log.response],
                    tools=log.tools or None,
                    metadata=log.metadata or {},
                    content_hash=log.content_hash,
                    author=user,
                )
                for example, log in zip(examples, fresh, strict=True)
            ]
        )
        for example, revision in zip(examples, revisions, strict=True):
            example.current_revision = revision
        Example.objects.bulk_update(examples, ["current_revision"], batch_size=500)
        if examples:
            example_checks_refresh(dataset=dataset, example_ids=[e.pk for e in examples])
            dataset_checks_schedule(dataset_id=dataset.pk)
    return FromLogsResult(
        created=[e.pk for e in examples],
        skipped_duplicates=duplicates,
        skipped_without_response=failed,
    )


def from_logs_authorize(*, user, dataset) -> None:
    require_role(user, dataset.team_id, Action.CURATE)
