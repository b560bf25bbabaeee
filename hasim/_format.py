"""Numbers for people: durations and downtimes as the report, the charts and the notebooks print them.

One place for these so that a chart, the report and the command line say the same thing the same
way (``hasim.cli`` keeps its own ``minutes`` for now; it prints what :func:`minutes` prints).

* :func:`duration` -- a model duration in the scenario's own units (``30s``, ``4h``, ``1y``) without
  scientific notation: a mean time between failures of a thousand years is ``1000y``, not ``1e+03y``.
* :func:`minutes` -- a downtime in the unit a reader expects for that size (s, min, h, d).
* :func:`minutes_unit` / :func:`in_unit` -- one unit for a whole chart, chosen from the data's range,
  and a value in that unit (tiny values as ``< 0.01`` rather than ``8.81e-06``).
"""

from __future__ import annotations

import math
from typing import Iterable

from .durations import HOURS_PER_YEAR, UNITS

__all__ = ["duration", "minutes", "minutes_unit", "in_unit", "MINUTE_UNITS"]

#: Downtime units and their size in minutes.
MINUTE_UNITS = {"s": 1.0 / 60.0, "min": 1.0, "h": 60.0, "d": 1440.0}


def _plain(value: float) -> str:
    """Three significant figures, never an exponent (``1000``, ``12345``, ``0.0036``)."""
    if value >= 1000:
        return f"{value:.0f}"
    text = f"{value:.3g}"
    if "e" in text:                     # below 1e-4: four decimals are enough for a duration
        return f"{value:.2g}" if value >= 1e-4 else f"{value:.6f}".rstrip("0")
    return text


def duration(hours: float) -> str:
    """A duration in the largest unit of the scenario language that keeps the number readable:
    ``'30s'``, ``'1.5h'``, ``'91.2d'``, ``'3y'``, ``'1000y'`` (``'∞'`` for an infinite one)."""
    if hours == 0:
        return "0s"
    if not math.isfinite(hours):
        return "∞"
    sign = "-" if hours < 0 else ""
    hours = abs(hours)
    for unit in ("y", "d", "h", "m", "s", "ms"):
        if unit == "d" and hours >= HOURS_PER_YEAR:
            continue
        size = UNITS[unit]
        if hours >= size:
            return f"{sign}{_plain(hours / size)}{unit}"
    return f"{sign}{_plain(hours / UNITS['ms'])}ms"


def minutes(m: float) -> str:
    """A downtime (minutes) in the unit a reader expects: ``'42.0 s'``, ``'45.5 min'``, ``'8.76 h'``, ``'3.65 d'``."""
    if not math.isfinite(m):
        return "n/a"
    if m < 1:
        return f"{m * 60:.1f} s"
    if m < 120:
        return f"{m:.1f} min"
    if m < 48 * 60:
        return f"{m / 60:.2f} h"
    return f"{m / 1440:.2f} d"


def minutes_unit(values: Iterable[float]) -> tuple[str, float]:
    """``(unit, minutes per unit)`` for a chart of downtimes (minutes): from the largest finite value,
    seconds below a minute, minutes below two hours, hours below two days, then days."""
    finite = [abs(float(v)) for v in values if v is not None and math.isfinite(float(v))]
    top = max(finite, default=0.0)
    unit = "s" if top < 1 else "min" if top < 120 else "h" if top < 48 * 60 else "d"
    return unit, MINUTE_UNITS[unit]


def in_unit(m: float, unit: str) -> str:
    """A downtime (minutes) as a number in ``unit`` with the unit: ``'45.5 min'``, ``'< 0.01 s'``, ``'0 s'``."""
    if not math.isfinite(m):
        return "n/a"
    v = m / MINUTE_UNITS[unit]
    if v == 0:
        return f"0 {unit}"
    if abs(v) < 0.01:
        return f"{'> −' if v < 0 else '< '}0.01 {unit}"
    return f"{v:.3g} {unit}" if abs(v) < 1000 else f"{v:.0f} {unit}"
