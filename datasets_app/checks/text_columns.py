"""Per-text screens over many ASCII texts at once: numpy over the one buffer Arrow packs them in.

For a chunk of examples whose texts are all ASCII (bytes are characters), this answers per
example what the Python loop of :func:`~.content.check_texts` would look at text by text:

* a text is empty, or starts or ends with whitespace (``str.isspace`` on ASCII) — a finding;
* a text passes every count :func:`~.content.check_case` makes — a candidate for mostly
  upper-case, which only ``check_case`` itself can settle (code hints rule it out);
* a text holds a C0 control character (not tab, LF, CR) or DEL, or an "@" — the control and
  email detectors have something to look at.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa

_SPACE = np.zeros(256, dtype=bool)
_SPACE[list(b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f ")] = True
_LINE_CONTROLS = (9, 10, 13)  # tab, LF, CR: the only C0 bytes the control rule allows
_DEL = 0x7F
_AT = ord("@")


class TextScreens(NamedTuple):
    """One example's screens: a shape finding, texts to ask check_case, detectors to run."""

    shape_finding: bool
    case_candidates: list[str]
    detector_rules: tuple[str, ...]


def ascii_text_screens(text_lists: list[list[str]], settings) -> list[TextScreens]:
    """:class:`TextScreens` per list of texts; every text must be ASCII."""
    flat = [text for texts in text_lists for text in texts]
    if not flat:
        return [TextScreens(False, [], ()) for _ in text_lists]
    owner = np.repeat(np.arange(len(text_lists)), [len(texts) for texts in text_lists])
    packed = pa.array(flat, type=pa.large_string())
    buffers = packed.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64, count=len(flat) + 1)
    size = int(offsets[-1])
    # one zero byte after the data keeps every start (an empty last text too) inside the array
    data = np.zeros(size + 1, dtype=np.uint8)
    if size:
        data[:size] = np.frombuffer(buffers[2], dtype=np.uint8, count=size)
    starts, ends = offsets[:-1], offsets[1:]
    lengths = ends - starts
    bad = (lengths == 0) | _SPACE[data[starts]] | _SPACE[data[np.maximum(ends - 1, 0)]]
    # letter counts per text (uint8 arithmetic wraps, so "b - 65 < 26" is "A" <= b <= "Z");
    # reduceat sums each text's bytes: an empty text gets a neighbour's, but it is bad anyway
    upper = np.add.reduceat(data - 65 < 26, starts, dtype=np.int32)
    letters = upper + np.add.reduceat(data - 97 < 26, starts, dtype=np.int32)
    min_letters = settings.uppercase_min_letters
    case = (
        (lengths >= min_letters)
        & (upper * 3 >= min_letters)
        & (letters >= min_letters)
        & (upper > settings.uppercase_max_share * letters)
    )
    bad_owners = set(owner[bad].tolist())
    candidates: dict[int, list[str]] = {}
    for t in np.flatnonzero(case & ~bad).tolist():
        candidates.setdefault(int(owner[t]), []).append(flat[t])
    rules: dict[int, set[str]] = {}
    body = data[:size]
    low = np.flatnonzero(body < 32)
    controls = low[~np.isin(body[low], _LINE_CONTROLS)]
    for rule, positions in (
        ("control_characters", np.concatenate((controls, np.flatnonzero(body == _DEL)))),
        ("contains_email", np.flatnonzero(body == _AT)),
    ):
        if positions.size:
            texts_at = np.searchsorted(offsets, positions, side="right") - 1
            for i in set(owner[texts_at].tolist()):
                rules.setdefault(i, set()).add(rule)
    return [
        TextScreens(i in bad_owners, candidates.get(i, []), tuple(sorted(rules.get(i, ()))))
        for i in range(len(text_lists))
    ]
