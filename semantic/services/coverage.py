"""A dataset's coverage plan (issue 22): its targets (CRUD), their status against the examples
that count (not archived: what a freeze would hold), the gate a freeze can put on it, and the
queue that closes a gap. The arithmetic is the pure semantic/coverage.py."""

from __future__ import annotations

import re
from fractions import Fraction

from django.db import IntegrityError, transaction

from datasets_app.models import Dataset, Example, ExampleStatus, Split
from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from .. import coverage as plan
from ..models import CoverageTarget
from .topics import MAX_K, dataset_topics

METADATA_KEY = re.compile(r"^[A-Za-z0-9_]{1,64}$")
MAX_TARGETS = 100
INVALID = "Invalid coverage target."
KIND_BAD = f"must be one of {', '.join(plan.KINDS)}."
MODE_BAD = f"must be one of {', '.join(plan.MODES)} (about: share ± tolerance)."
SPLIT_BAD = f"must be empty (every split) or one of {', '.join(Split.values)}."
KEY_BAD = "a metadata target needs its key: 1 to 64 letters, digits or _."
KEY_ONLY_METADATA = "only a metadata target has a key."
VALUE_BAD = "must be 1 to 200 characters."
TOPIC_BAD = f"a topic is its number on the Topics tab, 0 to {MAX_K - 1}."
TOPIC_UNKNOWN = (
    "there is no topic {value}: the dataset has {k} topics on the Topics tab, numbered from 0."
)
TOO_MANY = f"A dataset's coverage plan holds at most {MAX_TARGETS} targets."
TAKEN = "This bucket already has a target in that scope; change that one instead."
NOT_EMBEDDED_NOTE = "Topics are not available: {reason}"
OVER_ONLY = (
    "{target} is under its target, not over: there is nothing to deprioritize; write "
    "{add} more at {url}."
)
MET = "{target} is met: there is no gap to queue."
QUEUE_GUIDELINES = (
    "This bucket is over its coverage target: {target}. It holds {count} of {total} examples "
    "({share}); removing or deprioritizing {remove} of them meets it. Reject or archive the "
    "weakest, keep the best."
)
FIELDS = ("kind", "key", "value", "split", "mode", "share", "tolerance")


def _error(path: str, message: str) -> ApplicationError:
    return ApplicationError(
        f"{INVALID} {path}: {message}", errors=[{"path": path, "message": message}]
    )


def _as_target(row: CoverageTarget) -> plan.Target:
    return plan.Target(
        plan.Bucket(row.kind, row.value, row.key),
        row.mode,
        Fraction(row.share),
        Fraction(row.tolerance),
        row.split,
    )


def _clean(values: dict) -> dict:
    """The fields of a target, each checked; the first bad one is a 400 naming it."""
    kind = values.get("kind")
    if kind not in plan.KINDS:
        raise _error("kind", KIND_BAD)
    key = str(values.get("key") or "").strip()
    if kind == "metadata" and not METADATA_KEY.match(key):
        raise _error("key", KEY_BAD)
    if kind != "metadata" and key:
        raise _error("key", KEY_ONLY_METADATA)
    value = values.get("value")
    value = (
        str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    )
    if not 1 <= len(value) <= 200:
        raise _error("value", VALUE_BAD)
    if kind == "topic":
        if not value.isdigit() or not 0 <= int(value) < MAX_K:
            raise _error("value", TOPIC_BAD)
        value = str(int(value))
    split = str(values.get("split") or "").strip()
    if split and split not in Split.values:
        raise _error("split", SPLIT_BAD)
    mode = values.get("mode")
    if mode not in plan.MODES:
        raise _error("mode", MODE_BAD)
    share = plan.percent_parse(values.get("share"))
    if share is None:
        raise _error("share", plan.SHARE_RANGE)
    tolerance = plan.percent_parse(values.get("tolerance") or 0, maximum=plan.MAX_TOLERANCE)
    if tolerance is None:
        raise _error("tolerance", plan.TOLERANCE_RANGE)
    if tolerance and mode != "about":
        raise _error("tolerance", plan.TOLERANCE_ONLY_ABOUT)
    return {"kind": kind, "key": key, "value": value, "split": split, "mode": mode,
            "share": share, "tolerance": tolerance}  # fmt: skip


def _check_plan(dataset: Dataset, fields: dict, *, replacing: int | None = None) -> None:
    """The plan with this target must be one that can be met (coverage.plan_problems)."""
    others = [r for r in CoverageTarget.objects.filter(dataset=dataset) if r.pk != replacing]
    new = plan.Target(
        plan.Bucket(fields["kind"], fields["value"], fields["key"]),
        fields["mode"],
        fields["share"],
        fields["tolerance"],
        fields["split"],
    )
    problems = plan.plan_problems([_as_target(r) for r in others] + [new])
    for problem in problems:
        if problem["index"] == len(others):
            field = "share" if problem["field"] == "share" else "value"
            raise _error(field, problem["message"])


def _label(dataset: Dataset, fields: dict) -> str:
    """A topic's label now; a topic the clustering does not have is refused (before any
    embedding a topic target is accepted and shown as unavailable)."""
    if fields["kind"] != "topic":
        return ""
    try:
        topics = dataset_topics(dataset=dataset)["topics"]
    except ApplicationError:
        return ""
    label = next((t["label"] for t in topics if str(t["topic"]) == fields["value"]), None)
    if label is None:
        raise _error("value", TOPIC_UNKNOWN.format(value=fields["value"], k=len(topics)))
    return label


def coverage_target_create(*, user, dataset: Dataset, **values) -> CoverageTarget:
    require_role(user, dataset.team_id, Action.CURATE)
    fields = _clean(values)
    if CoverageTarget.objects.filter(dataset=dataset).count() >= MAX_TARGETS:
        raise ApplicationError(TOO_MANY, code="too_many")
    _check_plan(dataset, fields)
    try:
        with transaction.atomic():
            return CoverageTarget.objects.create(
                dataset=dataset,
                created_by=user,
                label=_label(dataset, fields),
                **{
                    **fields,
                    "share": _decimal(fields["share"]),
                    "tolerance": _decimal(fields["tolerance"]),
                },  # fmt: skip
            )
    except IntegrityError:
        raise _error("value", TAKEN) from None


def coverage_target_update(*, user, target: CoverageTarget, **values) -> CoverageTarget:
    """Change any of FIELDS; the others keep their values."""
    require_role(user, target.dataset.team_id, Action.CURATE)
    current = {f: getattr(target, f) for f in FIELDS}
    fields = _clean({**current, **{k: v for k, v in values.items() if k in FIELDS}})
    _check_plan(target.dataset, fields, replacing=target.pk)
    bucket_changed = (fields["kind"], fields["value"]) != (target.kind, target.value)
    for name, value in fields.items():
        setattr(target, name, _decimal(value) if name in ("share", "tolerance") else value)
    if bucket_changed:
        target.label = _label(target.dataset, fields)
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise _error("value", TAKEN) from None
    return target


def coverage_target_delete(*, user, target: CoverageTarget) -> None:
    require_role(user, target.dataset.team_id, Action.CURATE)
    target.delete()


def _decimal(value: Fraction):
    from decimal import Decimal

    return Decimal(value.numerator) / Decimal(value.denominator)


def _rows(dataset: Dataset, targets: list[plan.Target]) -> tuple[list[plan.Row], str]:
    """The examples that count, with only what the targets look at; and why topics are not
    available (empty when they are, or when no target needs them)."""
    live = Example.objects.filter(dataset=dataset).exclude(status=ExampleStatus.ARCHIVED)
    kinds = {t.bucket.kind for t in targets}
    fields = ["pk", "split"] + (["current_revision__metadata"] if "metadata" in kinds else [])
    tags: dict[int, set] = {}
    if "tag" in kinds:
        names = {t.bucket.value for t in targets if t.bucket.kind == "tag"}
        through = Example.tags.through.objects.filter(
            tag__dataset=dataset, tag__name__in=names
        ).values_list("example_id", "tag__name")
        for example_id, name in through.iterator(chunk_size=10_000):
            tags.setdefault(example_id, set()).add(name)
    topic_of: dict[int, int] = {}
    unavailable = ""
    if "topic" in kinds:
        try:
            members = dataset_topics(dataset=dataset)["members"]
        except ApplicationError as exc:
            unavailable = exc.message
        else:
            topic_of = {pk: int(t) for t, pks in members.items() for pk in pks}
    rows = []
    for values in live.values_list(*fields).iterator(chunk_size=10_000):
        pk, split = values[0], values[1]
        rows.append(
            plan.Row(
                split=split,
                tags=frozenset(tags.get(pk, ())),
                metadata=values[2] if len(values) > 2 else None,
                topic=topic_of.get(pk),
            )
        )
    return rows, unavailable


def _percent(value) -> float | None:
    return None if value is None else round(float(value) * 100, 2)


def coverage_plan_status(*, dataset: Dataset) -> dict:
    """``{"gate", "total", "targets": [...], "unmet"}``; each target with its count, actual
    share, bounds, state (met/under/over/unavailable) and gap (``add``, ``remove``)."""
    rows_db = list(CoverageTarget.objects.filter(dataset=dataset).order_by("id"))
    targets = [_as_target(r) for r in rows_db]
    rows, unavailable = _rows(dataset, targets)
    statuses = plan.plan_status(rows, targets)
    labels = {}
    if not unavailable and any(t.bucket.kind == "topic" for t in targets):
        labels = {str(t["topic"]): t["label"] for t in dataset_topics(dataset=dataset)["topics"]}
    out = []
    for row, target, s in zip(rows_db, targets, statuses, strict=True):
        available = not (target.bucket.kind == "topic" and unavailable)
        state = s.state if available else "unavailable"
        out.append(
            {
                "id": row.pk,
                "kind": row.kind,
                "key": row.key,
                "value": row.value,
                "split": row.split,
                "mode": row.mode,
                "share": float(row.share),
                "tolerance": float(row.tolerance),
                "label": row.label,
                "current_label": labels.get(row.value, "") if row.kind == "topic" else "",
                "describe": _describe(row, target, labels),
                "total": s.total,
                "count": s.count,
                "actual_share": _percent(s.share),
                "low": _percent(target.low),
                "high": _percent(target.high),
                "state": state,
                "add": s.add if available else None,
                "remove": s.remove if available else None,
                "note": NOT_EMBEDDED_NOTE.format(reason=unavailable) if not available else "",
            }
        )
    return {
        "dataset": dataset.pk,
        "gate": dataset.effective_settings.get("coverage_gate", "off"),
        "total": len(rows),
        "targets": out,
        "unmet": sum(1 for t in out if t["state"] != "met"),
    }


def _describe(row: CoverageTarget, target: plan.Target, labels: dict) -> str:
    text = target.describe()
    label = labels.get(row.value) if row.kind == "topic" else None
    return text.replace(f"topic {row.value}", f"topic {row.value} “{label}”", 1) if label else text


def coverage_bucket_example_ids(*, target: CoverageTarget) -> list[int]:
    """The examples that count and fall in the target's bucket and scope, in id order."""
    t = _as_target(target)
    live = Example.objects.filter(dataset=target.dataset).exclude(status=ExampleStatus.ARCHIVED)
    if t.split:
        live = live.filter(split=t.split)
    if t.bucket.kind == "tag":
        return list(
            live.filter(tags__name=t.bucket.value).order_by("pk").values_list("pk", flat=True)
        )
    if t.bucket.kind == "topic":
        members = set(dataset_topics(dataset=target.dataset)["members"].get(t.bucket.value, []))
        return sorted(pk for pk in live.values_list("pk", flat=True) if pk in members)
    rows = live.values_list("pk", "current_revision__metadata").order_by("pk")
    return [
        pk
        for pk, metadata in rows.iterator(chunk_size=10_000)
        if isinstance(metadata, dict)
        and plan.metadata_text(metadata.get(t.bucket.key)) == t.bucket.value
    ]


def coverage_target_status(*, target: CoverageTarget) -> dict:
    found = coverage_plan_status(dataset=target.dataset)["targets"]
    return next(t for t in found if t["id"] == target.pk)
