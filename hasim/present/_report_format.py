"""How the report words and draws things: percentages, minutes, laws, inline SVG figures."""

from __future__ import annotations


import io
import math
import re
from typing import Any, Callable

from hasim.text import duration as format_duration
from hasim.text import minutes as _minutes
from hasim.text import interval_digits, percent
from hasim.analytic.exact import nines
from hasim.units import HOURS_PER_MONTH, HOURS_PER_YEAR

_MINUTES_PER_YEAR = HOURS_PER_YEAR * 60.0


_MINUTES_PER_MONTH = HOURS_PER_MONTH * 60.0


def _pct(a: float | None, digits: int | None = None) -> str:
    if a is None or not math.isfinite(a):
        return "n/a"

    return percent(a, digits)


def _pct_range(lo: float, hi: float, mean: float | None = None) -> str:
    """'99.9918 – 99.9931 %' (one unit, so that it does not wrap inside a number), with as many
    decimals as it takes for the two ends to differ."""
    finite = all(x is not None and math.isfinite(x) for x in (lo, hi))
    digits = interval_digits(lo if mean is None else mean, lo, hi) if finite else None
    low, high = _pct(lo, digits), _pct(hi, digits)
    return f"{low[:-2] if low.endswith(' %') else low} – {high}"


def _mins(m: float | None) -> str:
    if m is None or not math.isfinite(m):
        return "n/a"
    return _minutes(max(m, 0.0))


def _nines_text(a: float | None) -> str:
    """'4.06 nines', or what an availability of exactly 1 means (no simulated request was lost)."""
    if a is None or not math.isfinite(a):
        return "n/a"
    n = nines(a)
    return "no request lost in any simulated history" if math.isinf(n) else f"{n:.2f} nines"


def _delta(x: float) -> str:
    """A change in minutes a year, signed, never in exponent notation."""
    return f"{x:+.2f}" if abs(x) < 1 else f"{x:+.3g}"


def _nines(a: float | None) -> str:
    if a is None or not math.isfinite(a):
        return "n/a"
    n = nines(a)
    return "no downtime at all" if math.isinf(n) else f"{n:.2f}"


def _law(dist) -> str:
    """A distribution in words: 'Weibull k=0.8, mean 30d'."""
    if dist is None:
        return "–"
    mean = format_duration(dist.mean_hours)
    kind = dist.dist
    if kind == "exponential":
        return f"exponential, mean {mean}"
    if kind == "weibull":
        return f"Weibull k={dist.shape:g}, mean {mean}"
    if kind == "lognormal":
        return f"lognormal median {format_duration(math.exp(dist.mu))}, σ={dist.sigma:g} (mean {mean})"
    if kind == "fixed":
        return f"fixed {mean}"
    if kind == "uniform":
        return f"uniform {format_duration(dist.low)}–{format_duration(dist.high)}"
    if kind == "empirical":
        return f"empirical, {len(dist.samples)} samples (mean {mean})"
    return f"{kind}, mean {mean}"  # pragma: no cover


def _num(x: float, digits: int = 3) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.{digits}g}"


_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.titlesize": 10.5,
    "axes.labelcolor": "#1f2933",
    "svg.hashsalt": "hasim",
    "svg.fonttype": "path",
    "figure.dpi": 100,
}


def _svg(draw: Callable[[Any], Any], figsize: tuple[float, float], name: str) -> str:
    """Run ``draw(ax)`` on a fresh (non-pyplot) figure and return it as inline SVG markup."""
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=figsize, layout="constrained")
        ax = fig.add_subplot()
        draw(ax)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    return _inline_svg(buf.getvalue(), name)


def _inline_svg(text: str, prefix: str) -> str:
    """Strip the XML prolog, make the SVG scale with its container and make its ids unique in the page."""
    text = re.sub(r"^.*?(?=<svg)", "", text, flags=re.S)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r'(<svg[^>]*?)\s(width|height)="[^"]*"', r"\1", text, count=1)
    text = re.sub(r'(<svg[^>]*?)\s(width|height)="[^"]*"', r"\1", text, count=1)
    box = re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+) [\d.]+"', text)
    cap = f' style="max-width: {float(box.group(1)) * _MAX_SCALE:.0f}px"' if box else ""
    text = text.replace("<svg ", f'<svg role="img" aria-label="{prefix} chart" class="chart"{cap} ', 1)
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    text = re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text)
    return text


#: Width (inches) of a full-width chart: the page shows it at about 1.4x, so 8 pt text reads as ~11 px.
_WIDE = 9.6


#: Largest on-screen scale of a chart (px per pt): small diagrams are not blown up.
_MAX_SCALE = 1.45


def _figure_height(n_rows: int, base: float = 0.9, per_row: float = 0.32) -> float:
    return base + per_row * max(n_rows, 1)


def _duration(hours: float) -> str:
    """A duration in words for the prose: '45 s', '16.9 min', '1.6 h', '3.2 d'."""
    from hasim.present import plot

    if hours >= 48:
        return f"{hours / 24:.3g} d"
    return plot._at(hours)


def _markup(text: str):
    from markupsafe import Markup

    return Markup(text)
