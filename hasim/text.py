"""Numbers for people: durations and downtimes as the report, the charts and the notebooks print them.

One place for these so that a chart, the report and the command line say the same thing the same
way.

* :func:`duration` -- a model duration in the scenario's own units (``30s``, ``4h``, ``1y``) without
  scientific notation: a mean time between failures of a thousand years is ``1000y``, not ``1e+03y``.
* :func:`minutes` -- a downtime in the unit a reader expects for that size (s, min, h, d).
* :func:`minutes_unit` / :func:`in_unit` -- one unit for a whole chart, chosen from the data's range,
  and a value in that unit (tiny values as ``< 0.01`` rather than ``8.81e-06``).
"""

from __future__ import annotations

import math
from typing import Iterable

from hasim.units import format_duration

__all__ = ["duration", "minutes", "percent", "interval_digits", "percents", "plural", "nines_text", "rate", "minutes_unit", "in_unit",
           "MINUTE_UNITS"]

#: Downtime units and their size in minutes.
MINUTE_UNITS = {"s": 1.0 / 60.0, "min": 1.0, "h": 60.0, "d": 1440.0}


def duration(hours: float) -> str:
    """A duration in the largest unit of the scenario language that keeps the number readable:
    ``'30s'``, ``'1.5h'``, ``'91.2d'``, ``'3y'``, ``'1000y'`` (``'∞'`` for an infinite one)."""
    return "∞" if math.isinf(hours) else format_duration(hours)


def minutes(m: float) -> str:
    """A downtime (minutes) in the unit a reader expects: milliseconds, seconds, minutes, hours or
    days (never ``1e-05``): ``'30 ms'``, ``'42.0 s'``, ``'45.5 min'``, ``'8.76 h'``, ``'3.65 d'``."""
    if m is None or not math.isfinite(m):
        return "n/a"
    if m <= 0:
        return "0 s"
    if m < 1e-4 / 60:  # below 0.1 ms: too small to matter, and a number of zeros helps nobody
        return "< 0.1 ms"
    if m < 1 / 60:
        ms = m * 60_000
        return f"{ms:.2g} ms" if ms < 10 else f"{ms:.0f} ms"
    if m < 1:
        return f"{m * 60:.1f} s"
    if m < 120:
        return f"{m:.1f} min"
    if m < 48 * 60:
        return f"{m / 60:.2f} h"
    return f"{m / 1440:.2f} d"


def _digits(a: float) -> int:
    """Decimals of a percentage that show two significant figures of 1 - a (4 to 9)."""
    return 4 if a >= 1.0 or a <= 0.99 else min(9, max(4, math.ceil(-math.log10(1.0 - a)) - 1))


def percent(a: float, digits: int | None = None) -> str:
    """99.9871 % style, with enough digits to show two significant figures of 1 - a."""
    return f"{100 * a:.{_digits(a) if digits is None else digits}f} %"


def interval_digits(mean: float, lo: float, hi: float) -> int:
    """Decimals of :func:`percent` that show a 95 % interval as an interval: the mean's own digits,
    more while the two ends would print alike (``[99.9988 %, 99.9988 %]`` looks certain), at most 9."""
    digits = _digits(mean)
    while digits < 9 and percent(lo, digits) == percent(hi, digits):
        digits += 1
    return digits


def percents(mean: float, lo: float, hi: float) -> tuple[str, str, str]:
    """``mean, lo, hi`` as :func:`percent` texts with the same decimals, enough for ``lo`` and ``hi``
    to differ (:func:`interval_digits`); non-finite values print as ``n/a``."""
    if not all(x is not None and math.isfinite(x) for x in (mean, lo, hi)):
        return tuple("n/a" if x is None or not math.isfinite(x) else percent(x) for x in (mean, lo, hi))
    d = interval_digits(mean, lo, hi)
    return percent(mean, d), percent(lo, d), percent(hi, d)


def plural(n: int, word: str) -> str:
    """``1 service``, ``3 services``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def nines_text(a: float) -> str:
    """``4.07 nines``; a 100 % estimate has no finite number of nines, so it says so instead of ``inf``."""
    n = -math.log10(1.0 - a) if a < 1.0 else math.inf
    return f"{n:.2f} nines" if math.isfinite(n) else "all nines (no downtime at all)"


def rate(x: float | None) -> str:
    """A count per year: ``0.0133``, ``17.5``, ``0`` (fixed notation, never ``1e-05``)."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0"
    if x < 0.001:
        return "< 0.001"
    return f"{x:.3g}" if x < 1000 else f"{x:.0f}"


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
