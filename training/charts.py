"""The run page's charts as server-drawn SVG: axes with nice ticks, a line and a marker per point.

Pure geometry over plain numbers: :func:`nice_ticks` picks the axis ticks, :func:`chart_panel`
turns series into coordinates and labels, :func:`run_chart_panels` reads a run's stored metrics.
The template only prints numbers (no inline style or script: CSP). Each marker carries its value
in a ``<title>`` (the browser's own tooltip) and in ``data-label`` for static/js/training.js,
which shows it on hover and swaps in a fresh copy of the charts while the run trains. A series of
one point (the single evaluation of a short run) is still drawn: as its marker.
"""

from __future__ import annotations

import math

WIDTH, HEIGHT = 360, 190
LEFT, RIGHT, TOP, BOTTOM = 52, 12, 10, 34
MAX_MARKERS = 250  # per series; a longer series keeps every n-th point, its first and its last
PANELS = (
    ("Loss", (("loss", "metrics", "train", "train loss"), ("eval_loss", "evals", "eval", "eval loss"))),
    ("Learning rate", (("lr", "metrics", "lr", "learning rate"),)),
    ("Tokens/s", (("tokens_per_s", "metrics", "tps", "tokens/s"),)),
    ("Peak memory (MB)", (("memory_mb", "metrics", "mem", "peak memory MB"),)),
)  # fmt: skip
# DPO and ORPO runs report the implicit rewards per step and on the validation pairs.
PREFERENCE_PANELS = (
    ("Rewards", (
        ("rewards_chosen", "metrics", "chosen", "chosen reward"),
        ("rewards_rejected", "metrics", "rejected", "rejected reward"),
        ("eval_rewards_chosen", "evals", "eval-chosen", "eval chosen reward"),
        ("eval_rewards_rejected", "evals", "eval-rejected", "eval rejected reward"),
    )),
    ("Reward margin", (
        ("reward_margin", "metrics", "train", "margin"),
        ("eval_reward_margin", "evals", "eval", "eval margin"),
    )),
    ("Reward accuracy", (
        ("reward_accuracy", "metrics", "train", "accuracy"),
        ("eval_reward_accuracy", "evals", "eval", "eval accuracy"),
    )),
)  # fmt: skip
PREFERENCE_METHODS = ("dpo", "orpo")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Evenly spaced ticks covering ``[lo, hi]`` at a step of 1, 2 or 5 × 10^k (Heckbert).

    >>> nice_ticks(0.0, 10.0)
    [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    >>> nice_ticks(2.31, 2.87)
    [2.2, 2.4, 2.6, 2.8, 3.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError("ticks need finite bounds")
    lo, hi = min(lo, hi), max(lo, hi)
    if hi - lo <= 1e-9 * max(abs(lo), abs(hi)):
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.floor(lo / step) * step
    ticks = []
    value = first
    # Rounding to the step's decimals keeps 0.30000000000000004 out of the labels.
    digits = max(0, -math.floor(math.log10(step))) + 2
    while value < hi + step * 1e-9 or not ticks or ticks[-1] < hi:
        ticks.append(round(value, digits) + 0.0)
        value = first + step * len(ticks)
    return ticks


def tick_label(value: float, step: float) -> str:
    """A tick's text with as many decimals as its step needs; tiny or huge steps in e-notation.

    >>> tick_label(0.0003, 0.0001), tick_label(1.5e-4, 5e-5), tick_label(12000, 2000)
    ('3e-04', '1.5e-04', '12,000')
    """
    if step and (abs(step) < 1e-3 or abs(step) >= 1e7):
        if not value:
            return "0"
        decimals = max(0, math.floor(math.log10(abs(value))) - math.floor(math.log10(step)))
        return f"{value:.{decimals}e}"
    decimals = max(0, -math.floor(math.log10(step))) if step else 0
    return f"{value:,.{decimals}f}"


def value_label(value: float) -> str:
    """A measured value for hover text: four significant digits."""
    return f"{value:.4g}"


def _sample(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    if len(points) <= MAX_MARKERS:
        return points
    every = math.ceil(len(points) / MAX_MARKERS)
    kept = points[::every]
    return kept if kept[-1] == points[-1] else [*kept, points[-1]]


def chart_panel(title: str, series: list[dict], *, x_max: float) -> dict:
    """Coordinates and labels of one panel.

    ``series`` is ``[{"name", "label", "points": [(step, value), …]}]``; ``x_max`` the last step
    of the axis (the run's total). Returns the view box, the plot frame, x and y ticks with their
    positions and labels, and per series a polyline and markers (``x``, ``y``, ``label``).
    """
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    values = [y for s in series for _, y in s["points"]]
    x_end = max(float(x_max), 1.0)
    x_ticks = nice_ticks(0.0, x_end, count=5)
    # Steps are whole numbers: a 0.5 step tick would name a step that does not exist.
    if x_ticks[1] - x_ticks[0] < 1:
        x_ticks = [float(t) for t in range(int(x_end) + 1)]
    # The x axis ends at the run's last step; ticks past it are dropped, not the axis stretched.
    x_ticks = [t for t in x_ticks if t <= x_end]
    y_ticks = nice_ticks(min(values), max(values), count=4) if values else nice_ticks(0.0, 1.0)
    x0, x1, y0, y1 = 0.0, x_end, y_ticks[0], y_ticks[-1]

    def px(x: float) -> float:
        return round(LEFT + plot_w * (x - x0) / (x1 - x0), 1)

    def py(y: float) -> float:
        return round(TOP + plot_h - plot_h * (y - y0) / (y1 - y0), 1)

    x_step = x_ticks[1] - x_ticks[0] if len(x_ticks) > 1 else 1.0
    y_step = y_ticks[1] - y_ticks[0]
    lines = []
    for s in series:
        coords = [(px(x), py(y), x, y) for x, y in s["points"]]
        lines.append(
            {
                "name": s["name"],
                "label": s["label"],
                "points": " ".join(f"{cx},{cy}" for cx, cy, _, _ in coords),
                "markers": [
                    {
                        "x": px(x),
                        "y": py(y),
                        "label": f"step {x:g}: {s['label']} {value_label(y)}",
                    }
                    for x, y in _sample(s["points"])
                ],
            }
        )
    return {
        "title": title,
        "width": WIDTH,
        "height": HEIGHT,
        "frame": {"x": LEFT, "y": TOP, "width": plot_w, "height": plot_h},
        "x_axis_y": TOP + plot_h,
        "x_label_y": TOP + plot_h + 14,
        "x_title_y": HEIGHT - 4,
        "x_title_x": LEFT + plot_w / 2,
        "mid_y": TOP + plot_h / 2,
        "y_label_x": LEFT - 5,
        "frame_right": LEFT + plot_w,
        "x_ticks": [{"pos": px(t), "label": tick_label(t, x_step)} for t in x_ticks],
        "y_ticks": [{"pos": py(t), "label": tick_label(t, y_step)} for t in y_ticks],
        "lines": lines,
        "empty": not values,
        "last": {s["label"]: value_label(s["points"][-1][1]) for s in series if s["points"]},
    }


def _series(points: list[dict], key: str) -> list[tuple[float, float]]:
    return [
        (p["step"], float(p[key]))
        for p in points
        if isinstance(p.get(key), int | float) and math.isfinite(p[key])
    ]


def run_chart_panels(run) -> list[dict]:
    """The four panels of a run (loss with evaluations, learning rate, tokens/s, memory), and
    for a DPO or ORPO run three more: rewards chosen and rejected, margin, reward accuracy."""
    sources = {"metrics": run.metrics or [], "evals": run.evals or []}
    steps = [p["step"] for points in sources.values() for p in points]
    x_max = max([run.total_steps or 0, *steps, 1])
    return [
        chart_panel(
            title,
            [
                {"name": name, "label": label, "points": _series(sources[source], key)}
                for key, source, name, label in lines
            ],
            x_max=x_max,
        )
        for title, lines in PANELS
        + (PREFERENCE_PANELS if getattr(run, "method", None) in PREFERENCE_METHODS else ())
    ]
