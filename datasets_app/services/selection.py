"""Which examples a bulk request names: explicit ids (all of this dataset, or nothing) or a
filtered queryset. Shared by bulk actions and safe fixes.

A filter names a set that moves while a person looks at it (imports land, a reviewer approves),
so a request may say what it saw: the exact count and the selection token of the set it
confirmed (:func:`selection_token`). When the set it would change now differs, it is refused
(409) and nothing changes, rather than acting on a number nobody was shown."""

from __future__ import annotations

import hashlib

from django.db.models import QuerySet

from finetunedb.exceptions import ApplicationError, ConflictError
from finetunedb.teams.scoping import parse_id

from ..models import Dataset, Example

MAX_IDS = 100_000
UNKNOWN_IDS = "Some ids are not examples of this dataset: {ids}. Nothing was changed."
TOO_MANY_IDS = "At most {max} ids per request; use a filter instead."
NO_SELECTION = "Give ids or a filter."
COUNT_CHANGED = (
    "The selection changed since you saw it: {expected} example{s} then, {now} now. "
    "Nothing was changed; look at the list again and confirm the new number."
)
SET_CHANGED = (
    "The selection changed since you saw it: still {now} example{s}, but not the same ones "
    "(some were added and others left). Nothing was changed; look at the list again."
)


def selection_token(count: int, id_sum: int) -> str:
    """A short fingerprint of a set of example ids from its size and the sum of its ids, both of
    which one aggregate query gives without reading the rows. Rows coming and going change the
    sum unless the ids added add up exactly to the ids removed, so a filter whose matches were
    swapped under the same count is still told apart.

    >>> selection_token(3, 6)
    'e6baaa69fe5d'
    """
    return hashlib.sha256(f"{count}:{id_sum}".encode()).hexdigest()[:12]


def selection_check(pks: list[int], *, expected_count=None, expected_token=None) -> None:
    """Refuse (409) when ``pks`` is not the set the caller confirmed; a missing expectation is
    not checked."""
    now = len(pks)
    if expected_count is not None and int(expected_count) != now:
        expected = int(expected_count)
        raise ConflictError(
            COUNT_CHANGED.format(expected=expected, now=now, s="" if expected == 1 else "s"),
            code="selection_changed",
            extra={"expected_count": expected, "count": now},
        )
    if expected_token and expected_token != selection_token(now, sum(pks)):
        raise ConflictError(
            SET_CHANGED.format(now=now, s="" if now == 1 else "s"),
            code="selection_changed",
            extra={"count": now},
        )


def examples_selected_ids(
    dataset: Dataset,
    *,
    ids=None,
    queryset: QuerySet | None = None,
    expected_count: int | None = None,
    expected_token: str | None = None,
) -> list[int]:
    """Sorted primary keys of the selected examples of ``dataset``.

    Every id must be an example of this dataset; ids of other datasets or teams are reported
    exactly like nonexistent ones, and nothing is selected. With ``expected_count`` /
    ``expected_token``, a selection other than the one confirmed raises a 409
    (:func:`selection_check`).
    """
    if ids is not None:
        if len(ids) > MAX_IDS:
            raise ApplicationError(TOO_MANY_IDS.format(max=MAX_IDS))
        parsed = {i: parse_id(i) for i in ids}
        bad = [str(i) for i, n in parsed.items() if n is None]
        if bad:
            raise ApplicationError(
                UNKNOWN_IDS.format(ids=", ".join(bad[:20])[:400]), code="unknown_ids"
            )
        wanted = sorted(set(parsed.values()))
        found = set(
            Example.objects.filter(dataset=dataset, pk__in=wanted).values_list("pk", flat=True)
        )
        missing = [i for i in wanted if i not in found]
        if missing:
            raise ApplicationError(
                UNKNOWN_IDS.format(ids=", ".join(map(str, missing[:20]))), code="unknown_ids"
            )
        selection_check(wanted, expected_count=expected_count, expected_token=expected_token)
        return wanted
    if queryset is None:
        raise ApplicationError(NO_SELECTION)
    pks = list(queryset.filter(dataset=dataset).order_by("pk").values_list("pk", flat=True))
    selection_check(pks, expected_count=expected_count, expected_token=expected_token)
    return pks
