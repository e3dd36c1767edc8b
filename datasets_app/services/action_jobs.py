"""The dataset actions a page runs as a job (finetunedb.actions): freeze, split, the safe-fix
preview and applying the fixes. Each ``*_start`` checks what can be checked at once (role, form
values, the freeze gate) so the form shows those errors as before, then queues the job; each
``*_run`` is the worker's side, calling the same service the API calls.

A freeze is *atomic* (its version and the job's success commit together: a killed worker leaves
no version and the job is frozen once on recovery); so is applying fixes (its revisions). A split
writes its assignments in one transaction of its own and reports its stages. The preview only
reads, and reports every chunk.
"""

from __future__ import annotations

from django.urls import reverse

from finetunedb.actions.registry import ActionKind, ActionOutcome
from finetunedb.actions.services import action_job_start
from finetunedb.exceptions import ApplicationError, ConflictError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from .. import selectors
from ..models import Dataset, Example, ExampleStatus
from ..splits import SplitConfigError, validate_ratios
from .checks.fix_scan import example_fixes_scan, fix_ids_check
from .checks.fixes import example_fixes_apply
from .split_groups import split_group_members
from .splits import dataset_split, parse_stratify_by
from .versions import dataset_version_freeze, version_gate
from .versions.freeze import EMPTY, REASON_REQUIRED, gate_message

FREEZING = "Snapshotting, hashing and sealing the examples in one transaction"
APPLYING = "Writing a new revision of every changed example in one transaction"
FIXED = "Fixed {changed} example(s) ({changes} changes); each got a new revision."
FIXED_CONFLICTS = " {skipped_conflicts} changed meanwhile and were left as they are."
FROZEN = "Version v{number} frozen: {total} examples, hash {hash}."

ACTIONS = (
    ActionKind(
        name="freeze",
        run="datasets_app.services.action_jobs.version_freeze_run",
        atomic=True,
        stage=FREEZING,
    ),
    ActionKind(name="split", run="datasets_app.services.action_jobs.dataset_split_run"),
    ActionKind(name="fix_preview", run="datasets_app.services.action_jobs.fixes_preview_run"),
    ActionKind(
        name="fix_apply",
        run="datasets_app.services.action_jobs.fixes_apply_run",
        atomic=True,
        stage=APPLYING,
    ),
)


def freeze_key(dataset: Dataset) -> str:
    return f"freeze dataset {dataset.pk}"


def split_key(dataset: Dataset) -> str:
    return f"split dataset {dataset.pk}"


def _live(dataset: Dataset) -> int:
    return Example.objects.filter(dataset=dataset).exclude(status=ExampleStatus.ARCHIVED).count()


def _dataset(job) -> Dataset:
    return Dataset.objects.get(pk=job.params["dataset"], team_id=job.team_id)


def _blocker_errors(blockers: list[dict]) -> list[dict]:
    return [
        {"path": b["rule_id"], "message": f"{b['count']} example(s): {b['message']}"}
        for b in blockers
    ]


# --- freeze -----------------------------------------------------------------------------------
def version_freeze_start(
    *, user, dataset: Dataset, name="", notes="", force=False, reason="", back_url=""
):
    """Queue a freeze of ``dataset``; 400/409 at once for what the gate already refuses."""
    require_role(user, dataset.team_id, Action.FREEZE)
    if force and not (reason or "").strip():
        raise ApplicationError(
            REASON_REQUIRED, errors=[{"path": "reason", "message": REASON_REQUIRED}]
        )
    live = _live(dataset)
    if not live:
        raise ApplicationError(EMPTY, code="empty")
    blockers = version_gate(dataset)
    if blockers and not force:
        raise ConflictError(
            gate_message(blockers),
            code="gate",
            extra={"blockers": blockers},
        )
    return action_job_start(
        user=user,
        team_id=dataset.team_id,
        action="freeze",
        key=freeze_key(dataset),
        title=f"Freezing {dataset.name} ({live:,} examples)",
        params={
            "dataset": dataset.pk,
            "name": name or "",
            "notes": notes or "",
            "force": bool(force),
            "reason": reason or "",
        },
        back_url=back_url,
    )


def version_freeze_run(*, job, progress) -> ActionOutcome:
    p = job.params
    try:
        version = dataset_version_freeze(
            user=job.created_by,
            dataset=_dataset(job),
            name=p["name"],
            notes=p["notes"],
            force=p["force"],
            reason=p["reason"],
        )
    except ConflictError as exc:  # the gate closed between the click and the worker
        raise ApplicationError(
            exc.message, errors=_blocker_errors(exc.extra.get("blockers", []))
        ) from exc
    message = FROZEN.format(
        number=version.number, total=version.total, hash=version.content_hash[:12]
    )
    return ActionOutcome(
        url=reverse("datasets:version", args=[version.pk]),
        result={
            "version": version.pk,
            "number": version.number,
            "content_hash": version.content_hash,
            "counts": version.counts,
            "message": message,
        },
    )


# --- split ------------------------------------------------------------------------------------
def dataset_split_start(
    *,
    user,
    dataset: Dataset,
    ratios: dict,
    seed: int,
    stratify_by: str | None,
    group_near_duplicates: bool,
    keep_existing: bool,
    form: dict,
    back_url="",
    group_topics: bool = False,
):
    """Queue a split; bad ratios or stratification are refused at once (400), and topics
    asked for a dataset never embedded (409)."""
    require_role(user, dataset.team_id, Action.CURATE)
    try:
        validate_ratios(ratios)
    except SplitConfigError as exc:
        raise ApplicationError(str(exc), errors=[{"path": "ratios", "message": str(exc)}]) from None
    parse_stratify_by(stratify_by)
    if group_topics:
        split_group_members("topics", dataset)  # computed once here, then kept beside the vectors
    return action_job_start(
        user=user,
        team_id=dataset.team_id,
        action="split",
        key=split_key(dataset),
        title=f"Splitting {dataset.name} ({_live(dataset):,} examples)",
        params={
            "dataset": dataset.pk,
            "ratios": ratios,
            "seed": seed,
            "stratify_by": stratify_by,
            "group_near_duplicates": group_near_duplicates,
            "keep_existing": keep_existing,
            "group_topics": group_topics,
            "form": form,
        },
        back_url=back_url,
    )


def dataset_split_run(*, job, progress) -> ActionOutcome:
    p = job.params
    result = dataset_split(
        user=job.created_by,
        dataset=_dataset(job),
        ratios=p["ratios"],
        seed=p["seed"],
        stratify_by=p["stratify_by"],
        group_near_duplicates=p["group_near_duplicates"],
        keep_existing=p["keep_existing"],
        group_topics=p.get("group_topics", False),  # jobs queued before the option have none
        progress=progress,
    )
    url = reverse("datasets:split", args=[p["dataset"]])
    return ActionOutcome(url=f"{url}?job={job.pk}", result=result)


# --- safe-fix preview -------------------------------------------------------------------------
def fixes_preview_start(*, user, dataset: Dataset, fix_ids, rule: str = "", back_url=""):
    """Queue the scan that finds what the fixes would change; unknown fixes are refused (400)."""
    require_role(user, dataset.team_id, Action.CURATE)
    fix_ids = fix_ids_check(fix_ids)
    return action_job_start(
        user=user,
        team_id=dataset.team_id,
        action="fix_preview",
        key=f"fix preview dataset {dataset.pk} {','.join(fix_ids)} {rule}"[:200],
        title=f"Previewing fixes on {dataset.name}",
        params={"dataset": dataset.pk, "fix_ids": fix_ids, "rule": rule},
        back_url=back_url,
    )


def fixes_preview_run(*, job, progress) -> ActionOutcome:
    p = job.params
    dataset = _dataset(job)
    filters = {"rule": p["rule"]} if p["rule"] else {}
    scan = example_fixes_scan(
        user=job.created_by,
        dataset=dataset,
        fix_ids=p["fix_ids"],
        queryset=selectors.example_list(dataset, filters=filters),
        progress=progress,
    )
    url = reverse("datasets:checks-fixes-preview", args=[dataset.pk])
    return ActionOutcome(url=f"{url}?job={job.pk}", result=scan)


def fixes_apply_start(*, user, dataset: Dataset, fix_ids, rule: str = "", back_url=""):
    """Queue the fixes' writes; unknown fixes are refused at once (400)."""
    require_role(user, dataset.team_id, Action.CURATE)
    fix_ids = fix_ids_check(fix_ids)
    return action_job_start(
        user=user,
        team_id=dataset.team_id,
        action="fix_apply",
        key=f"fix apply dataset {dataset.pk}",
        title=f"Applying fixes to {dataset.name}",
        params={"dataset": dataset.pk, "fix_ids": fix_ids, "rule": rule},
        back_url=back_url,
    )


def fixes_apply_run(*, job, progress) -> ActionOutcome:
    p = job.params
    dataset = _dataset(job)
    filters = {"rule": p["rule"]} if p["rule"] else {}
    result = example_fixes_apply(
        user=job.created_by,
        dataset=dataset,
        fix_ids=p["fix_ids"],
        queryset=selectors.example_list(dataset, filters=filters),
    )
    message = FIXED.format(**result)
    if result["skipped_conflicts"]:
        message += FIXED_CONFLICTS.format(**result)
    return ActionOutcome(
        url=reverse("datasets:checks", args=[dataset.pk]), result={**result, "message": message}
    )
