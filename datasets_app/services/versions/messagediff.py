"""Turn-level diff of two conversations. Pure: plain data in, plain data out."""

from __future__ import annotations

from difflib import SequenceMatcher

from ...canonical import canonical_bytes


def message_diff(old: list[dict], new: list[dict], old_tools=None, new_tools=None) -> dict:
    """Which turns were added, removed or changed between two message lists.

    Turns are aligned by equality first (so a turn inserted at the front does not mark every
    later turn as changed); within a replaced run, turns pair up in order as "changed" and the
    surplus counts as added or removed. Indices refer to the old list for removed turns, the new
    list for added ones, and both for changed ones. ``turn`` / ``old_turn`` / ``new_turn`` are
    the same positions numbered as the editor and the history number turns (from 1, the system
    message included), which is what pages show.

    >>> d = message_diff([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
    ...                  [{"role": "user", "content": "a"}, {"role": "assistant", "content": "c"}])
    >>> [(c["old_index"], c["new_index"], c["old"]["content"], c["new"]["content"]) for c in d["changed"]]
    [(1, 1, 'b', 'c')]
    >>> d["changed"][0]["new_turn"]
    2
    """
    a = [canonical_bytes(m) for m in old]
    b = [canonical_bytes(m) for m in new]
    added, removed, changed = [], [], []
    for tag, i1, i2, j1, j2 in SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(pairs):
            changed.append(
                {
                    "old_index": i1 + k,
                    "new_index": j1 + k,
                    "old_turn": i1 + k + 1,
                    "new_turn": j1 + k + 1,
                    "old": old[i1 + k],
                    "new": new[j1 + k],
                }
            )
        removed.extend(
            {"index": i, "turn": i + 1, "message": old[i]} for i in range(i1 + pairs, i2)
        )
        added.extend({"index": j, "turn": j + 1, "message": new[j]} for j in range(j1 + pairs, j2))
    out = {"added": added, "removed": removed, "changed": changed, "tools_changed": False}
    if canonical_bytes(old_tools or None) != canonical_bytes(new_tools or None):
        out.update(tools_changed=True, old_tools=old_tools or None, new_tools=new_tools or None)
    return out
