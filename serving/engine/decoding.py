"""Pure pieces of decoding: sampling one row's next token and cutting text at stop strings."""

from __future__ import annotations

import torch


def next_token(logits: torch.Tensor, *, temperature: float, top_p: float, generator) -> int:
    """The next token id from one row's logits: greedy at ``temperature`` 0, else sampled from
    the nucleus of cumulative probability ``top_p`` with the row's own ``generator`` (so a
    request's ``seed`` gives the same answer whichever batch it shares)."""
    if temperature <= 0:
        return int(torch.argmax(logits))
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = torch.sort(probs, descending=True)
        cumulative = torch.cumsum(sorted_probs, dim=-1)
        # Keep the smallest prefix whose mass reaches top_p (the first token always stays).
        drop = cumulative - sorted_probs >= top_p
        sorted_probs[drop] = 0.0
        probs = torch.zeros_like(probs).scatter_(0, order, sorted_probs)
    return int(torch.multinomial(probs, 1, generator=generator))


class StopCutter:
    """Turns the text decoded so far into deltas a client may see, holding back what could still
    become a stop string, and says when a stop string appeared.

    >>> cut = StopCutter(["\\n\\n"])
    >>> cut.feed("Hi\\n"), cut.feed("Hi\\n\\nmore")
    (('Hi', False), ('', True))
    """

    def __init__(self, stops: list[str]):
        self.stops = [s for s in stops if s]
        self.hold = max((len(s) for s in self.stops), default=1) - 1
        self.sent = ""

    def feed(self, text: str, *, final: bool = False) -> tuple[str, bool]:
        """(delta, stopped) for the full decoded ``text``; ``final`` flushes what was held."""
        hits = [text.find(s) for s in self.stops if s in text]
        if hits:
            text, stopped, final = text[: min(hits)], True, True
        else:
            stopped = False
        if text.endswith("\ufffd") and not final:  # half of a multi-byte character
            text = text[:-1]
        visible = text if final else text[: max(len(self.sent), len(text) - self.hold)]
        delta = visible[len(self.sent) :] if visible.startswith(self.sent) else ""
        self.sent = visible if visible.startswith(self.sent) else self.sent
        return delta, stopped
