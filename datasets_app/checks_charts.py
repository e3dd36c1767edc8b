"""Histogram geometry for server-rendered inline SVG (no script, no inline style: CSP).

Pure: ``(lo, hi, count)`` bins in, bar rectangles and axis labels out; the template only
prints the numbers.
"""

from __future__ import annotations

WIDTH = 560
HEIGHT = 170
LEFT = 44  # room for the count axis labels
BOTTOM = 24  # room for the value axis labels
TOP = 8
# bins whose widths differ by more than this factor were chosen for skewed data (log or
# quantile bins, see tokens.histogram_edges): the caption says so, as bars no longer share a width
UNEVEN_RATIO = 1.5


def _bin_label(lo: float, hi: float) -> str:
    # One bin per integer value (see tokens.histogram): edges are v - 0.5 .. v + 0.5.
    if hi - lo == 1 and (lo + 0.5).is_integer():
        return f"{int(lo + 0.5)}"
    return f"{lo:,.0f}–{hi:,.0f}"


def histogram_chart(bins, *, width: int = WIDTH, height: int = HEIGHT) -> dict | None:
    """Bars, labels and view box of one histogram; None when there is nothing to draw.

    >>> chart = histogram_chart([(1.5, 2.5, 3), (2.5, 3.5, 1)])
    >>> [(bar["label"], bar["count"], bar["height"]) for bar in chart["bars"]]
    [('2', 3, 138.0), ('3', 1, 46.0)]
    """
    if not bins:
        return None
    top_count = max(count for _, _, count in bins) or 1
    plot_w = width - LEFT
    plot_h = height - BOTTOM - TOP
    bar_w = plot_w / len(bins)
    bars = []
    for i, (lo, hi, count) in enumerate(bins):
        bar_h = round(plot_h * count / top_count, 1)
        bars.append(
            {
                "x": round(LEFT + i * bar_w + 1, 1),
                "y": round(TOP + plot_h - bar_h, 1),
                "width": round(max(bar_w - 2, 1), 1),
                "height": bar_h,
                "count": count,
                "label": _bin_label(lo, hi),
            }
        )
    first, last = bins[0], bins[-1]
    widths = [hi - lo for lo, hi, _ in bins]
    return {
        "uneven": len(bins) > 1 and max(widths) > UNEVEN_RATIO * min(widths),
        "width": width,
        "height": height,
        "bars": bars,
        "axis_y": TOP + plot_h,
        "axis_x": LEFT,
        "label_y": height - 6,
        "top_label_y": TOP + 10,
        "max_count": top_count,
        "min_label": _bin_label(*first[:2]).split("–")[0],
        "max_label": _bin_label(*last[:2]).split("–")[-1],
        "right": width,
    }
