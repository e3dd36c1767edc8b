"""Who annotates which example: overlap k, balanced loads, deterministic from a seed. No Django.

:func:`distribute` gives each example to ``overlap`` distinct annotators so that annotators' loads
differ by at most one. Examples are ordered by ``sha256(seed, example id)``; each in turn
then goes to the ``overlap`` least loaded annotators, ties broken by ``sha256(seed, (example,
annotator))``. Taking the k least loaded keeps every load within one of the others; the per-example
tie-break varies who works with whom. The same ids and seed give the same assignment whatever
order they come in.

:func:`redistribute_without` moves a removed annotator's open items — and only those — to the
remaining annotators, keeping every example with distinct annotators and the loads as even as
that constraint allows (within one wherever any placement reaches it).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

ERROR_OVERLAP_LOW = "overlap must be at least 1; got {overlap}"
ERROR_OVERLAP_HIGH = (
    "overlap {overlap} needs at least {overlap} annotators, but only {count} were given: "
    "add annotators or lower the overlap"
)
ERROR_DUPLICATE_ANNOTATOR = "annotator {annotator!r} is listed twice"
ERROR_DUPLICATE_EXAMPLE = "example {example!r} is listed twice"
ERROR_NOT_AN_ANNOTATOR = "annotator {annotator!r} holds no item and is not among the annotators"
ERROR_NO_ONE_LEFT = (
    "example {example!r} cannot move from {removed!r}: every remaining annotator already has it "
    "(overlap needs more annotators than remain; add an annotator first)"
)
ERROR_REMOVED_REMAINS = "annotator {removed!r} is being removed and cannot also receive items"


@dataclass(frozen=True)
class Item:
    """One example given to one annotator; ``open`` until the annotator submits it."""

    example: Hashable
    annotator: Hashable
    open: bool = True


def _rank(seed: str | int, value: Hashable) -> bytes:
    return hashlib.sha256(f"{seed}\x00{value!r}".encode()).digest()


def _unique(values: Sequence, message: str, key: str) -> None:
    seen = set()
    for value in values:
        if value in seen:
            raise ValueError(message.format(**{key: value}))
        seen.add(value)


def distribute(
    example_ids: Sequence[Hashable],
    annotators: Sequence[Hashable],
    *,
    overlap: int,
    seed: str | int,
) -> list[Item]:
    """Assign every example to ``overlap`` distinct annotators, loads within one of each other."""
    if overlap < 1:
        raise ValueError(ERROR_OVERLAP_LOW.format(overlap=overlap))
    if overlap > len(annotators):
        raise ValueError(ERROR_OVERLAP_HIGH.format(overlap=overlap, count=len(annotators)))
    _unique(annotators, ERROR_DUPLICATE_ANNOTATOR, "annotator")
    _unique(example_ids, ERROR_DUPLICATE_EXAMPLE, "example")
    load = dict.fromkeys(annotators, 0)
    items = []
    for example in sorted(example_ids, key=lambda e: _rank(seed, e)):
        # The least loaded first, ties broken per example: pairings vary from example to example,
        # so every pair of annotators shares items (pairwise kappa) and a removed annotator's
        # items can go to many others.
        chosen = sorted(annotators, key=lambda a: (load[a], _rank(seed, (example, a))))[:overlap]
        for annotator in chosen:
            load[annotator] += 1
            items.append(Item(example=example, annotator=annotator))
    return items


def loads(items: Iterable[Item], annotators: Iterable[Hashable] = ()) -> dict[Hashable, int]:
    """Items per annotator (open and submitted), with zero for listed annotators holding none."""
    counts = dict.fromkeys(annotators, 0)
    for item in items:
        counts[item.annotator] = counts.get(item.annotator, 0) + 1
    return counts


def redistribute_without(
    items: Iterable[Item],
    *,
    removed: Hashable,
    annotators: Sequence[Hashable],
    seed: str | int,
) -> list[tuple[Hashable, Hashable]]:
    """Where ``removed``'s open items go: ``[(example, new annotator)]``, in a stable order.

    ``annotators`` are the ones who stay (they may hold nothing yet). Submitted items of the
    removed annotator stay theirs (their annotations count). Each moved example goes to an
    annotator who does not hold it yet, and loads among ``annotators`` end within one of each
    other wherever any placement can reach that, otherwise as even as the constraint allows
    (e.g. 6 annotators, overlap 3: if the removed one always shared with the same annotator, that
    one can take none of the moved items). A greedy pass to the least loaded, then
    cost-reducing paths.
    """
    if removed in annotators:
        raise ValueError(ERROR_REMOVED_REMAINS.format(removed=removed))
    _unique(annotators, ERROR_DUPLICATE_ANNOTATOR, "annotator")
    items = list(items)
    staying = set(annotators)
    for item in items:
        if item.annotator != removed and item.annotator not in staying:
            raise ValueError(ERROR_NOT_AN_ANNOTATOR.format(annotator=item.annotator))
    holders: dict[Hashable, set] = {}
    for item in items:
        if item.annotator != removed:
            holders.setdefault(item.example, set()).add(item.annotator)
    moving = sorted(
        (item.example for item in items if item.annotator == removed and item.open),
        key=lambda e: _rank(seed, e),
    )
    load = loads((i for i in items if i.annotator != removed), annotators)
    order = {a: _rank(seed, a) for a in annotators}
    target: dict[Hashable, Hashable] = {}
    for example in moving:
        eligible = [a for a in annotators if a not in holders.get(example, ())]
        if not eligible:
            raise ValueError(ERROR_NO_ONE_LEFT.format(example=example, removed=removed))
        chosen = min(eligible, key=lambda a: (load[a], order[a]))
        target[example] = chosen
        holders.setdefault(example, set()).add(chosen)
        load[chosen] += 1
    _rebalance(target, holders, load, order)
    return [(example, target[example]) for example in moving]


def _rebalance(target, holders, load, order) -> None:
    """Apply cost-reducing paths until none is left (Harvey et al., optimal semi-matchings).

    A path moves moved examples annotator to annotator, from one with load ``l`` to one with at
    most ``l - 2``; with none left the loads are as even as the constraint allows. Only examples
    in ``target`` (the removed annotator's open items) move again, so nobody else's work changes.
    """
    improved = True
    while improved:
        improved = False
        for start in sorted(load, key=lambda a: (-load[a], order[a])):
            path = _cost_reducing_path(start, target, holders, load, order)
            if path is None:
                continue
            for example, giver, taker in path:
                target[example] = taker
                holders[example].discard(giver)
                holders[example].add(taker)
            load[start] -= 1
            load[path[-1][2]] += 1
            improved = True
            break


def _cost_reducing_path(start, target, holders, load, order):
    """Breadth-first: a chain of moves from ``start`` to an annotator at least 2 items lighter."""
    held_by: dict[Hashable, list] = {}
    for example, annotator in target.items():
        held_by.setdefault(annotator, []).append(example)
    for examples in held_by.values():
        examples.sort(key=repr)
    people = sorted(load, key=lambda a: order[a])
    came_from = {start: None}
    queue = deque([start])
    while queue:
        giver = queue.popleft()
        for example in held_by.get(giver, ()):
            for taker in people:
                if taker in came_from or taker in holders[example]:
                    continue
                came_from[taker] = (example, giver)
                if load[taker] <= load[start] - 2:
                    path = []
                    node = taker
                    while came_from[node] is not None:
                        moved, source = came_from[node]
                        path.append((moved, source, node))
                        node = source
                    return path[::-1]
                queue.append(taker)
    return None
