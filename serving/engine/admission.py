"""Which waiting requests start decoding now: the engine's admission rule, over plain keys.

A batch decodes on one base; its rows may use different LoRA adapters of that base (and the
bare base, adapter ``None``), as long as the batch never needs more adapters than the base's LRU
of loaded adapters holds (``slots``). The base is that of the oldest waiting request when the
batch starts; it starts with every waiting request of that base whose adapter fits, oldest
first, up to the batch size. While it runs, waiting requests join it at the next step, oldest
first, up to the free rows, and the first one that cannot join stops further joins: a request
of another base (the batch drains and that base is next) or of an adapter for which no slot is
free (it waits, and everything behind it waits, until the rows of some adapter have all left
and their adapter can be unloaded). So no request is overtaken for ever by a steady stream of
others.

The older policy, one adapter per batch drained before the next, is this rule with one slot
and the bare base counted as an adapter (the scheduler's ``mix_adapters=False``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence


def admit(
    keys: Sequence[tuple[Hashable, Hashable | None]],
    *,
    base: Hashable,
    in_use: set,
    slots: int,
    free: int,
    joining: bool,
) -> list[int]:
    """Indices into ``keys`` (the waiting requests' ``(base, adapter)``, oldest first) to start
    now in the batch of ``base`` that has ``free`` rows left and whose running rows use the
    adapters ``in_use``; at most ``slots`` adapters at once; ``joining``: the batch is running.

    >>> keys = [("b", "x"), ("c", None), ("b", None), ("b", "y")]
    >>> admit(keys, base="b", in_use=set(), slots=4, free=8, joining=False)
    [0, 2, 3]
    >>> admit(keys, base="b", in_use=set(), slots=4, free=8, joining=True)
    [0]
    >>> admit([("b", "y"), ("b", "x")], base="b", in_use={"x"}, slots=1, free=8, joining=True)
    []
    """
    chosen: list[int] = []
    adapters = set(in_use)
    for i, (key_base, adapter) in enumerate(keys):
        if len(chosen) >= free:
            break
        fits = key_base == base and (
            adapter is None or adapter in adapters or len(adapters) < slots
        )
        if not fits:
            if joining:
                break
            continue
        if adapter is not None:
            adapters.add(adapter)
        chosen.append(i)
    return chosen
