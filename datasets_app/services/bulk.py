"""Bulk actions on many examples at once, chosen by ids or by a filter."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.permissions import Action
from finetunedb.teams.scoping import require_role

from ..models import Dataset, Example, ExampleStatus, Split, Tag
from .checks import dataset_checks_schedule
from .examples import status_change_action
from .selection import examples_selected_ids

ACTIONS = ("set_status", "add_tags", "remove_tags", "set_split", "archive")


def examples_bulk_apply(
    *,
    user,
    dataset: Dataset,
    action: str,
    value=None,
    ids=None,
    queryset=None,
    expected_count: int | None = None,
    expected_token: str | None = None,
) -> int:
    """Apply ``action`` to the examples named by ``ids`` (all must belong to ``dataset``) or to
    ``queryset`` (already scoped to it). All or nothing; returns the number of examples changed.
    Every touched example's revision counter moves, so open editors see the change (412).

    ``expected_count`` / ``expected_token`` are what the caller confirmed; a selection that
    differs now is refused with a 409 before anything changes (``selection_check``)."""
    require_role(
        user, dataset.team_id, Action.CURATE if action != "set_status" else Action.ANNOTATE
    )
    if action not in ACTIONS:
        raise ApplicationError(f"Unknown action {action!r}; use one of {', '.join(ACTIONS)}.")
    with transaction.atomic():
        # Read inside the transaction: the rows updated are the ones just counted and compared.
        pks = examples_selected_ids(
            dataset,
            ids=ids,
            queryset=queryset,
            expected_count=expected_count,
            expected_token=expected_token,
        )
        rows = Example.objects.filter(pk__in=pks)
        if action in ("set_status", "archive"):
            status = ExampleStatus.ARCHIVED if action == "archive" else value
            if status not in ExampleStatus.values:
                raise ApplicationError(f"status must be one of {', '.join(ExampleStatus.values)}")
            # Archiving, or un-archiving any selected row, is curation (status_change_action).
            currents = set(rows.order_by().values_list("status", flat=True).distinct())
            for current in currents or {None}:
                require_role(
                    user, dataset.team_id, status_change_action(current=current, new=status)
                )
            rows.update(status=status, revision=F("revision") + 1)
            # Archived examples leave the checks; the full run drops or restores their rows.
            dataset_checks_schedule(dataset_id=dataset.pk)
        elif action == "set_split":
            if value not in Split.values:
                raise ApplicationError(f"split must be one of {', '.join(Split.values)}")
            rows.update(
                split=value, split_locked=value != Split.UNASSIGNED, revision=F("revision") + 1
            )
        else:
            names = value if isinstance(value, list) else [value]
            if not names or any(
                not isinstance(n, str) or not 1 <= len(n.strip()) <= 64 for n in names
            ):
                raise ApplicationError("value must be a tag or a list of tags of 1–64 characters")
            names = sorted({n.strip() for n in names})
            Tag.objects.bulk_create(
                [Tag(dataset=dataset, name=n) for n in names], ignore_conflicts=True
            )
            tags = list(Tag.objects.filter(dataset=dataset, name__in=names))
            through = Example.tags.through
            if action == "add_tags":
                through.objects.bulk_create(
                    [through(example_id=pk, tag_id=t.pk) for pk in pks for t in tags],
                    ignore_conflicts=True,
                )
            else:
                through.objects.filter(example_id__in=pks, tag__in=tags).delete()
            rows.update(revision=F("revision") + 1)
    return len(pks)
