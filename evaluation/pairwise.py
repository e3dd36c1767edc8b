"""Human pairwise review in plain data: which answer an item shows first, and what the judgments
add up to. Pure: no Django.

- :func:`shown_swapped`: whether an item shows the second run's answer as A — drawn from (seed,
  item) alone by the judge's :func:`~evaluation.evaluators.judge.pairwise_order`, so the human and
  the LLM judge randomise the same way and a review's layout is reproducible;
- :func:`winner_of`: a choice as shown (a / b / tie) in the runs' terms (run / against / tie);
- :func:`pairwise_summary`: the win rate of the run over the other with the Wilson interval,
  ties counting as half a win (``stats.win_rate``), per reviewer, and the agreement between
  reviewers on items several judged (``annotation.agreement``: Krippendorff's alpha, nominal,
  and Cohen's kappa per pair of reviewers).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import asdict
from statistics import median
from typing import NamedTuple

from annotation.agreement import cohen_kappa_pairwise, krippendorff_alpha

from .evaluators.judge import pairwise_order
from .stats import CONFIDENCE, win_rate

RUN, AGAINST, TIE = "run", "against", "tie"
CHOICES = ("a", "b", "tie")
TIES_RULE = "ties count as half a win"


class Judgment(NamedTuple):
    """One reviewer's verdict on one item; ``winner`` None for a skipped item."""

    item: Hashable
    reviewer: Hashable
    winner: str | None
    seconds: float | None = None


def shown_swapped(seed: int, item_key: Hashable) -> bool:
    """True when the item shows the ``against`` run's answer as A."""
    return pairwise_order(seed, str(item_key))


def winner_of(choice: str, *, swapped: bool) -> str:
    """``choice`` as shown (``a``, ``b`` or ``tie``) in the runs' terms.

    >>> winner_of("a", swapped=False), winner_of("a", swapped=True), winner_of("tie", swapped=True)
    ('run', 'against', 'tie')
    """
    if choice == "tie":
        return TIE
    if choice not in ("a", "b"):
        raise ValueError(f"choice must be one of {', '.join(CHOICES)}")
    return RUN if (choice == "a") != swapped else AGAINST


def _tally(judgments: list[Judgment], confidence: float) -> dict:
    wins = sum(1 for j in judgments if j.winner == RUN)
    losses = sum(1 for j in judgments if j.winner == AGAINST)
    ties = sum(1 for j in judgments if j.winner == TIE)
    skipped = sum(1 for j in judgments if j.winner is None)
    interval = win_rate(wins, losses, ties, confidence)
    timed = [j.seconds for j in judgments if j.seconds is not None and j.winner is not None]
    return {
        "wins": wins,
        "losses": losses,
        "ties": ties,
        "skipped": skipped,
        "n": interval.n,
        "win_rate": interval.mean,
        "ci_low": interval.ci_low,
        "ci_high": interval.ci_high,
        "median_seconds": median(timed) if timed else None,
    }


def _agreement(judgments: list[Judgment]) -> dict:
    ratings: dict = {}
    for j in judgments:
        if j.winner is not None:
            ratings.setdefault(j.item, {})[j.reviewer] = j.winner
    shared = {item: by for item, by in ratings.items() if len(by) >= 2}
    alpha = krippendorff_alpha(shared, level="nominal")
    kappas = [
        {"reviewers": [first, second], **asdict(value)}
        for (first, second), value in sorted(
            cohen_kappa_pairwise(shared).items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))
        )
    ]
    return {
        "items": len(shared),
        "agreed_items": sum(1 for by in shared.values() if len(set(by.values())) == 1),
        "alpha": asdict(alpha),
        "kappa": kappas,
    }


def pairwise_summary(judgments: Iterable[Judgment], confidence: float = CONFIDENCE) -> dict:
    """The review's figures: overall, ``per_reviewer`` (in first-judgment order) and
    ``agreement``. ``n`` counts decisive and tied judgments (skips are left out); an item judged
    by two reviewers counts twice."""
    judgments = list(judgments)
    reviewers: dict = {}
    for j in judgments:
        reviewers.setdefault(j.reviewer, []).append(j)
    return {
        **_tally(judgments, confidence),
        "confidence": confidence,
        "ties_rule": TIES_RULE,
        "method": "wilson",
        "per_reviewer": [
            {"reviewer": reviewer, **_tally(own, confidence)} for reviewer, own in reviewers.items()
        ],
        "agreement": _agreement(judgments),
    }
