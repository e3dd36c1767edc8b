"""Capture rules: which new logs go into which dataset's review queue, at what rate."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import parse_id, require_role

from ..filters import filters_match, filters_parse
from ..models import CaptureRule, Log
from ..sampling import sampled
from .from_logs import BAD_STATUS, CAPTURE_STATUSES, create_from_logs

RATE = "sample_rate is a fraction in (0, 1]: 0.1 routes one log in ten."
OTHER_TEAM_DATASET = "The dataset must belong to the rule's team."
RULE_ID_REQUIRED = 'Send the id of the rule to delete: {"id": <id>}.'
NO_SUCH_RULE = "No such capture rule in this team."
# columns filters_match reads from a log
MATCH_FIELDS = (
    "pk",
    "team_id",
    "model",
    "tags",
    "trace_id",
    "created_at",
    "feedback_score",
    "search_text",
    "metadata",
)


def capture_rule_create(*, user, team, dataset, filter: dict, sample_rate: float, status: str):
    require_role(user, team.pk, Action.CURATE)
    if dataset.team_id != team.pk:
        raise ApplicationError(OTHER_TEAM_DATASET, code="dataset")
    clean = filters_parse(filter or {}, prefix="filter.")
    if "team" in clean:
        raise ApplicationError(
            "A rule applies to its own team's logs; leave filter.team out.", code="invalid_filter"
        )
    if not isinstance(sample_rate, int | float) or not 0 < sample_rate <= 1:
        raise ApplicationError(RATE, code="sample_rate")
    if status not in CAPTURE_STATUSES:
        raise ApplicationError(BAD_STATUS, code="status")
    return CaptureRule.objects.create(
        team=team,
        dataset=dataset,
        filter=filter or {},
        sample_rate=sample_rate,
        status=status,
        created_by=user,
    )


def capture_rule_delete(*, user, team, rule_id) -> None:
    require_role(user, team.pk, Action.CURATE)
    rule_id = parse_id(rule_id)
    if rule_id is None:
        raise ApplicationError(RULE_ID_REQUIRED, code="id_required")
    deleted, _ = CaptureRule.objects.filter(pk=rule_id, team=team).delete()
    if not deleted:
        raise ApplicationError(NO_SUCH_RULE, code="not_found", status_code=404)


def capture_rules_schedule(*, team_id: int, log_ids: list[int]) -> None:
    """After a batch commits, apply the team's rules to it in a task (the default queue)."""
    if not log_ids or not CaptureRule.objects.filter(team_id=team_id).exists():
        return
    from ..tasks import capture_rules_apply

    transaction.on_commit(lambda: capture_rules_apply.delay(team_id, log_ids), robust=True)


def capture_rules_apply(*, team_id: int, log_ids: list[int]) -> dict[int, int]:
    """Route ``log_ids`` through every rule of the team; returns {rule id: examples created}.

    Idempotent: a log already turned into an example of the rule's dataset is a duplicate there
    and is skipped, so a retried task creates nothing twice.
    """
    rows = list(Log.objects.filter(team_id=team_id, pk__in=log_ids).values(*MATCH_FIELDS))
    out = {}
    for rule in CaptureRule.objects.filter(team_id=team_id).select_related("dataset", "created_by"):
        clean = filters_parse(rule.filter, strict=False)
        chosen = [
            row["pk"]
            for row in rows
            if filters_match(clean, row) and sampled(row["pk"], rule.sample_rate, seed=rule.pk)
        ]
        if not chosen:
            out[rule.pk] = 0
            continue
        result = create_from_logs(
            user=rule.created_by, dataset=rule.dataset, log_ids=chosen, status=rule.status
        )
        CaptureRule.objects.filter(pk=rule.pk).update(
            applied_count=F("applied_count") + len(result.created)
        )
        out[rule.pk] = len(result.created)
    return out


def capture_rules_authorize(*, user, team) -> None:
    require_role(user, team.pk, Action.CURATE)
