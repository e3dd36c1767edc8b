"""Which waiting requests start decoding now: the engine's admission rule, over plain keys.

A batch decodes one (base, adapter) pair, the pair of the oldest waiting request when it
starts; it starts with every waiting request of that pair, up to the batch size. While it runs,
waiting requests of the same pair join it at the next step, oldest first, up to the free rows;
a waiting request of another pair stops further joins, so the batch drains and that request's
pair is next (no pair can starve another by arriving steadily).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def admit(keys: Sequence[Hashable], *, pair: Hashable, free: int, joining: bool) -> list[int]:
    """Indices into ``keys`` (the waiting requests' pairs, oldest first) to start now in the
    batch of ``pair`` that has ``free`` rows left; ``joining``: the batch is already running.

    >>> admit(["a", "b", "a"], pair="a", free=8, joining=False)
    [0, 2]
    >>> admit(["a", "b", "a"], pair="a", free=8, joining=True)
    [0]
    >>> admit(["b", "a"], pair="a", free=8, joining=True)
    []
    """
    if free <= 0:
        return []
    if not joining:
        return [i for i, key in enumerate(keys) if key == pair][:free]
    chosen = []
    for i, key in enumerate(keys):
        if key != pair or len(chosen) == free:
            break
        chosen.append(i)
    return chosen
