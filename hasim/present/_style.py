"""The look every chart shares: the palette, figure creation, axes tidying and window names.

Private: :mod:`hasim.present.plot` is the public namespace (and re-exports ``PALETTE``).
"""

from __future__ import annotations

import math

from hasim.text import duration as format_duration
from hasim.units import HOURS_PER_YEAR

#: Colours shared by the charts and the HTML report.
PALETTE = {
    "primary": "#1f4e79",
    "secondary": "#5b8db8",
    "accent": "#e07b39",
    "good": "#2e7d32",
    "bad": "#c62828",
    "warn": "#b26a00",
    "grid": "#e3e7ec",
    "text": "#1f2933",
    "muted": "#6b7785",
    "router": "#ede7f6",
    "router_edge": "#5e35b1",
}
_TIER_COLOURS = {99.0: "#8d6e63", 99.9: "#b26a00", 99.99: "#c62828", 99.999: "#6a1b9a"}
_REGION_FILLS = ["#e3f2fd", "#e8f5e9", "#fff3e0", "#fce4ec", "#f3e5f5", "#e0f7fa", "#f9fbe7", "#efebe9"]
_REGION_EDGES = ["#1565c0", "#2e7d32", "#ef6c00", "#ad1457", "#6a1b9a", "#00838f", "#9e9d24", "#5d4037"]


def _axes(ax, figsize):
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    # A Figure that is not registered with pyplot: nothing to close, no GUI, works under any backend.
    try:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=figsize, layout="constrained")
    except Exception:  # pragma: no cover - a headless interpreter without a usable backend
        fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _tidy(ax, grid: str | None = "y") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9aa5b1")
    ax.tick_params(colors=PALETTE["text"], labelsize=8.5)
    if grid:
        ax.grid(axis=grid, color=PALETTE["grid"], linewidth=0.8)
        ax.set_axisbelow(True)


def _title(ax, text: str) -> None:
    ax.set_title(text, loc="left", fontsize=10.5, fontweight="bold", color=PALETTE["text"])


def window_name(hours: float) -> str:
    """'month' for 730 h, 'week', 'day', 'year', else '<duration> window'."""
    for name, size in (("month", HOURS_PER_YEAR / 12), ("week", 168.0), ("day", 24.0), ("year", HOURS_PER_YEAR)):
        if math.isclose(hours, size, rel_tol=1e-6):
            return name
    return f"{format_duration(hours)} window"
