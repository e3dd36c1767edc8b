"""An LLM as judge: the rubric prompt, and a STRICT parser of the judge's answer. Pure: the
judge model itself is called by the service (a model the administrator configured), which hands
the answers back here.

Strict means: only the format the prompt asked for is read. ``json`` asks for exactly
``{"score": <integer in the scale>, "reason": "<text>"}`` (whitespace around it allowed, nothing
else); ``line`` asks for a first line ``Score: <n>`` (a reason may follow on later lines). Any
other answer — prose, a score out of the scale, ``4.5``, two objects — is ``judge_error`` and
counts in no mean: a garbled judge never reads as a 0.

Pairwise judging shows two answers as A and B; which one comes first is drawn per item from the
seed (:func:`pairwise_order`), the verdict is mapped back (:func:`pairwise_parse`), and
:func:`position_bias` reports how often the judge picked whichever answer came first, and
:func:`judged_summary` adds the verdicts of two runs up into a win rate with its interval.
"""

from __future__ import annotations

import hashlib
import json
import re

from ..stats import CONFIDENCE, win_rate
from .registry import Evaluator, Item, Param, Score, register

JUDGE_ERROR = "judge_error"
NOT_ASKED_FORMAT = "the judge did not answer in the asked format"
OUT_OF_SCALE = "the judge's score {score} is outside {low}-{high}"
PASS_OUT_OF_SCALE = "must lie within the scale {low}-{high}"
SCALE_ORDER = "scale_min must be below scale_max"
_LINE = re.compile(r"\AScore:[ \t]*(-?\d+)[ \t]*(?:\n(.*))?\Z", re.DOTALL)

SYSTEM = (
    "You are a strict evaluator. You grade an assistant's answer to a user's request against a "
    "rubric. Answer only in the format you are asked for."
)
FORMATS = {
    "json": (
        'Reply with exactly one JSON object and nothing else: {{"score": <integer from {low} '
        'to {high}>, "reason": "<one sentence>"}}'
    ),
    "line": (
        "Reply with a first line exactly `Score: <integer from {low} to {high}>`, then one line "
        "giving your reason."
    ),
}


def judge_prompt(
    item: Item, *, rubric: str, low: int, high: int, fmt: str, reference: bool
) -> list[dict]:
    """The chat messages sent to the judge for one item."""
    parts = [f"Rubric:\n{rubric}", f"User request:\n{item.prompt}"]
    if reference and item.reference is not None:
        parts.append(f"Reference answer:\n{item.reference}")
    parts.append(f"Assistant's answer:\n{item.output}")
    parts.append(FORMATS[fmt].format(low=low, high=high))
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}]


def judge_parse(text: str, *, low: int, high: int, fmt: str) -> tuple[int | None, str]:
    """``(score, reason)`` from the judge's answer, or ``(None, why)`` when it is not exactly
    the asked format or the score is outside [low, high]."""
    text = text.strip()
    score = reason = None
    if fmt == "json":
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return None, NOT_ASKED_FORMAT
        if (
            isinstance(value, dict)
            and set(value) == {"score", "reason"}
            and type(value["score"]) is int
            and isinstance(value["reason"], str)
        ):
            score, reason = value["score"], value["reason"]
    else:
        match = _LINE.match(text)
        if match:
            score, reason = int(match.group(1)), (match.group(2) or "").strip()
    if score is None:
        return None, NOT_ASKED_FORMAT
    if not low <= score <= high:
        return None, OUT_OF_SCALE.format(score=score, low=low, high=high)
    return score, reason


@register
class LlmJudge(Evaluator):
    """A judge model grades the output on ``rubric`` with an integer in [scale_min, scale_max];
    the value is the score mapped to [0, 1], passing at ``pass_score``. ``judge`` names one of
    the judges the administrator configured (FINETUNEDB_EVAL_JUDGES)."""

    type = "llm_judge"
    params = {
        "rubric": Param(str, max_length=4_000),
        "judge": Param(str, default="default", max_length=100),
        "format": Param(str, default="json", choices=tuple(FORMATS)),
        "scale_min": Param(int, default=1, minimum=0, maximum=100),
        "scale_max": Param(int, default=5, minimum=1, maximum=100),
        "pass_score": Param(int, default=4, minimum=0, maximum=100),
        "show_reference": Param(bool, default=True),
    }
    needs_judge = True

    def validate(self):
        low, high = self.p["scale_min"], self.p["scale_max"]
        if low >= high:
            return "scale_min", SCALE_ORDER
        if not low <= self.p["pass_score"] <= high:
            return "pass_score", PASS_OUT_OF_SCALE.format(low=low, high=high)
        if not self.p["rubric"].strip():
            return "rubric", "must not be empty"
        return None

    def prompt(self, item: Item) -> list[dict]:
        return judge_prompt(
            item,
            rubric=self.p["rubric"],
            low=self.p["scale_min"],
            high=self.p["scale_max"],
            fmt=self.p["format"],
            reference=self.p["show_reference"],
        )

    def parse(self, answer: str | None) -> Score:
        """The Score of one judge answer; None (the judge failed or timed out) → judge_error."""
        low, high = self.p["scale_min"], self.p["scale_max"]
        if answer is None:
            return Score(None, False, {"answer": None}, JUDGE_ERROR)
        score, reason = judge_parse(answer, low=low, high=high, fmt=self.p["format"])
        if score is None:
            return Score(None, False, {"answer": answer[:500], "why": reason}, JUDGE_ERROR)
        value = (score - low) / (high - low)
        return Score(value, score >= self.p["pass_score"], {"score": score, "reason": reason[:500]})

    def score(self, item: Item) -> Score:
        raise TypeError(
            "llm_judge scores through prompt() and parse(): the service calls the judge"
        )


# --- pairwise ------------------------------------------------------------------------------
PAIRWISE_FORMAT = (
    'Reply with exactly one JSON object and nothing else: {"winner": "A" | "B" | "tie", '
    '"reason": "<one sentence>"}'
)


def pairwise_order(seed: int, key: str) -> bool:
    """Whether item ``key`` shows the second run's answer first: drawn from (seed, key) alone,
    so it does not depend on which items came before."""
    return hashlib.sha256(f"{seed}:{key}".encode()).digest()[0] >= 128


def pairwise_prompt(item_prompt: str, first: str, second: str, *, rubric: str) -> list[dict]:
    text = "\n\n".join(
        [
            f"Rubric:\n{rubric}",
            f"User request:\n{item_prompt}",
            f"Answer A:\n{first}",
            f"Answer B:\n{second}",
            PAIRWISE_FORMAT,
        ]
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]


def pairwise_parse(answer: str | None, *, swapped: bool) -> str | None:
    """The judge's verdict in the runs' terms: ``"a"`` (the first run), ``"b"`` or ``"tie"``;
    None for anything but the asked JSON. ``swapped``: B was shown first as A."""
    if answer is None:
        return None
    try:
        value = json.loads(answer.strip())
    except (ValueError, RecursionError):
        return None
    if not (isinstance(value, dict) and set(value) == {"winner", "reason"}):
        return None
    shown = value["winner"]
    if shown == "tie":
        return "tie"
    if shown not in ("A", "B"):
        return None
    first_run_shown_first = not swapped
    return "a" if (shown == "A") == first_run_shown_first else "b"


def pairwise_reason(answer: str | None) -> str:
    """The judge's one-sentence reason in an answer :func:`pairwise_parse` accepts, else "".

    >>> pairwise_reason('{"winner": "B", "reason": "B shows its working."}')
    'B shows its working.'
    >>> pairwise_reason("B, because it shows its working")
    ''
    """
    if pairwise_parse(answer, swapped=False) is None:
        return ""
    reason = json.loads(answer.strip())["reason"]
    return reason if isinstance(reason, str) else ""


def position_bias(judgments: list[tuple[str | None, bool]]) -> dict:
    """How often the judge picked the answer shown first, over decisive verdicts.
    ``judgments`` are ``(verdict a/b/tie/None, swapped)``; 0.5 is no bias."""
    decisive = [(v, s) for v, s in judgments if v in ("a", "b")]
    first = sum(1 for v, s in decisive if (v == "a") != s)
    return {
        "first_shown_wins": first,
        "decisive": len(decisive),
        "rate": first / len(decisive) if decisive else None,
    }


def judged_summary(
    judgments: list[tuple[str | None, bool]], confidence: float = CONFIDENCE
) -> dict:
    """The first run's win rate over the second from the judge's ``(verdict, swapped)`` per
    item (:func:`pairwise_parse`'s verdicts): ties count as half a win and the interval is
    Wilson's (``stats.win_rate``, as the human review's); a verdict of None (no answer in the
    asked format, a judge that failed) counts in ``errors`` and in no rate.

    >>> s = judged_summary([("a", False), ("a", True), ("tie", False), ("b", True), (None, False)])
    >>> s["wins"], s["losses"], s["ties"], s["errors"], s["n"], s["win_rate"]
    (2, 1, 1, 1, 4, 0.625)
    """
    wins = sum(1 for v, _ in judgments if v == "a")
    losses = sum(1 for v, _ in judgments if v == "b")
    ties = sum(1 for v, _ in judgments if v == "tie")
    interval = win_rate(wins, losses, ties, confidence)
    return {
        "wins": wins,
        "losses": losses,
        "ties": ties,
        "errors": len(judgments) - wins - losses - ties,
        "n": interval.n,
        "win_rate": interval.mean,
        "ci_low": interval.ci_low,
        "ci_high": interval.ci_high,
        "confidence": confidence,
        "method": "wilson",
        "ties_rule": "ties count as half a win",
        "position_bias": position_bias(judgments),
    }
