"""Which examples a bulk request names: explicit ids (all of this dataset, or nothing) or a
filtered queryset. Shared by bulk actions and safe fixes."""

from __future__ import annotations

from django.db.models import QuerySet

from finetunedb.exceptions import ApplicationError
from finetunedb.teams.scoping import parse_id

from ..models import Dataset, Example

MAX_IDS = 100_000
UNKNOWN_IDS = "Some ids are not examples of this dataset: {ids}. Nothing was changed."
TOO_MANY_IDS = "At most {max} ids per request; use a filter instead."
NO_SELECTION = "Give ids or a filter."


def examples_selected_ids(
    dataset: Dataset, *, ids=None, queryset: QuerySet | None = None
) -> list[int]:
    """Sorted primary keys of the selected examples of ``dataset``.

    Every id must be an example of this dataset; ids of other datasets or teams are reported
    exactly like nonexistent ones, and nothing is selected.
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
        return wanted
    if queryset is None:
        raise ApplicationError(NO_SELECTION)
    return list(queryset.filter(dataset=dataset).order_by("pk").values_list("pk", flat=True))
