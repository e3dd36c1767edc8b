"""Keyset pagination: pages are addressed by the id of the row they follow (``?after=``) or
precede (``?before=``), so page 20,000 costs what page 1 costs, and rows inserted meanwhile do
not shift the pages. The sort key is a column plus the id as tie-breaker; an index on
(dataset, column, id) serves it."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

# The one id parser: an id past 64 bits would make the driver raise (a 500), not miss.
from finetunedb.teams.scoping import parse_id

# name → (column or None for the id alone, descending?, label)
SORTS = {
    "-id": (None, True, "Newest first"),
    "id": (None, False, "Oldest first"),
    "-updated_at": ("updated_at", True, "Recently edited"),
    "updated_at": ("updated_at", False, "Least recently edited"),
}
DEFAULT_SORT = "id"


@dataclass
class Page:
    rows: list
    has_next: bool
    has_prev: bool

    @property
    def first_id(self):
        return self.rows[0].pk if self.rows else None

    @property
    def last_id(self):
        return self.rows[-1].pk if self.rows else None


def _beyond(column: str | None, value, anchor_id: int, forward: bool) -> Q:
    """Rows after (``forward``) or before the anchor in ascending key order."""
    if column is None:
        return Q(pk__gt=anchor_id) if forward else Q(pk__lt=anchor_id)
    op, op_eq = ("gt", "gte") if forward else ("lt", "lte")
    # The first conjunct is the index range; the second breaks ties on the id.
    return Q(**{f"{column}__{op_eq}": value}) & (
        Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"pk__{op}": anchor_id})
    )


def keyset_page(
    qs: QuerySet, *, sort: str, after=None, before=None, size: int = 50, sorts: dict | None = None
) -> Page:
    """One page of ``qs`` in ``sort`` order after/before the row with the given id.

    ``sorts`` adds a caller's own orders to :data:`SORTS` (same shape).

    An anchor id that is not in ``qs``'s model (deleted, foreign) falls back to its value alone
    for the id sort and to the first page otherwise; nothing is raised for bad input.
    """
    column, descending, _ = (sorts or {}).get(sort) or SORTS.get(sort, SORTS[DEFAULT_SORT])
    order = [f"-{column}" if descending else column] if column else []
    order.append("-pk" if descending else "pk")
    reverse = [o[1:] if o.startswith("-") else f"-{o}" for o in order]
    anchor_id = parse_id(after) or parse_id(before)
    going_back = parse_id(after) is None and anchor_id is not None
    if anchor_id is not None:
        value = None
        if column is not None:
            value = qs.model.objects.filter(pk=anchor_id).values_list(column, flat=True).first()
            if value is None:
                anchor_id = None
        if anchor_id is not None:
            # Descending order walks the ascending key backwards, and "before" flips it again.
            forward = descending == going_back
            qs = qs.filter(_beyond(column, value, anchor_id, forward))
    if anchor_id is not None and going_back:
        rows = list(qs.order_by(*reverse)[: size + 1])
        has_prev = len(rows) > size
        return Page(rows=rows[:size][::-1], has_next=True, has_prev=has_prev)
    rows = list(qs.order_by(*order)[: size + 1])
    return Page(rows=rows[:size], has_next=len(rows) > size, has_prev=anchor_id is not None)


FIRST_WINDOW = 2_000
MAX_WINDOW = 32_000


def keyset_search_page(
    qs: QuerySet,
    text: str,
    *,
    dataset_id: int,
    sort: str,
    after=None,
    before=None,
    size: int = 50,
) -> Page:
    """Like :func:`keyset_page` for the id sorts, with a full-text search: candidate ids come
    from the index of ``dataset_id`` in windows, in page order, and ``qs`` (the other filters,
    over that dataset) keeps those it allows, until a page is full. The match set is never
    materialized, so a word found in every one of a million rows costs one window."""
    from ..services.search import fts_window, search_words

    words = search_words(text)
    after_id, before_id = parse_id(after), parse_id(before)
    going_back = after_id is None and before_id is not None
    descending = sort == "-id"
    ascending = descending == going_back
    cursor = after_id or before_id
    rows: list = []
    window = FIRST_WINDOW
    scan = cursor
    while words and len(rows) <= size:
        ids = fts_window(
            words, dataset_id=dataset_id, cursor=scan, ascending=ascending, limit=window
        )
        if not ids:
            break
        need = size + 1 - len(rows)
        rows += list(qs.filter(pk__in=ids).order_by("pk" if ascending else "-pk")[:need])
        if len(ids) < window:
            break
        scan = ids[-1]
        window = min(window * 2, MAX_WINDOW)
    more = len(rows) > size
    rows = rows[:size]
    if going_back:
        return Page(rows=rows[::-1], has_next=True, has_prev=more)
    return Page(rows=rows, has_next=more, has_prev=cursor is not None)
