"""The run page's live chart as plain SVG data: one panel per series group, polylines scaled to
the panel. static/js/training.js draws the same panels from the run's JSON while it runs."""

from __future__ import annotations

WIDTH, HEIGHT, PAD = 320, 140, 24
PANELS = (
    ("Loss", (("loss", "metrics", "train"), ("eval_loss", "evals", "eval"))),
    ("Learning rate", (("lr", "metrics", "lr"),)),
    ("Tokens/s", (("tokens_per_s", "metrics", "tps"),)),
    ("Memory (MB)", (("memory_mb", "metrics", "mem"),)),
)


def _points(series: list[tuple[float, float]], x_max: float, y_min: float, y_max: float) -> str:
    span = (y_max - y_min) or 1.0
    out = []
    for x, y in series:
        px = PAD + (WIDTH - 2 * PAD) * (x / x_max if x_max else 0)
        py = HEIGHT - PAD - (HEIGHT - 2 * PAD) * ((y - y_min) / span)
        out.append(f"{px:.1f},{py:.1f}")
    return " ".join(out)


def run_chart_panels(run) -> list[dict]:
    """Panels of ``{title, lines: [{name, points}], y_min, y_max}`` for the template."""
    sources = {"metrics": run.metrics or [], "evals": run.evals or []}
    x_max = max(run.total_steps, 1)
    panels = []
    for title, lines in PANELS:
        series = {
            name: [
                (p["step"], p[key]) for p in sources[source] if isinstance(p.get(key), int | float)
            ]
            for key, source, name in lines
        }
        values = [y for s in series.values() for _, y in s]
        y_min, y_max = (min(values), max(values)) if values else (0.0, 1.0)
        panels.append(
            {
                "title": title,
                "y_min": y_min,
                "y_max": y_max,
                "lines": [
                    {"name": name, "points": _points(s, x_max, y_min, y_max)}
                    for name, s in series.items()
                ],
            }
        )
    return panels
