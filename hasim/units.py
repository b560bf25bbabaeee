"""Durations: ``"250ms"``, ``"30s"``, ``"5m"``, ``"4h"``, ``"2d"``, ``"1w"``, ``"1y"`` <-> hours.

Every time in hasim is a float64 number of hours.  Scenario files may write a
duration as a string with a unit or as a plain number, which means hours.
Compound forms such as ``"1h30m"`` are accepted too.
"""

from __future__ import annotations

import math
import re

__all__ = ["UNITS", "parse_duration", "format_duration", "HOURS_PER_YEAR", "HOURS_PER_MONTH"]

HOURS_PER_YEAR = 8760.0
#: The default SLO window: a twelfth of a 365-day year.
HOURS_PER_MONTH = HOURS_PER_YEAR / 12.0

#: Unit suffix -> hours.
UNITS: dict[str, float] = {
    "ms": 1.0 / 3_600_000.0,
    "s": 1.0 / 3600.0,
    "m": 1.0 / 60.0,
    "min": 1.0 / 60.0,
    "h": 1.0,
    "d": 24.0,
    "w": 168.0,
    "mo": HOURS_PER_MONTH,
    "y": HOURS_PER_YEAR,
}

_NUMBER = r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_PART = re.compile(rf"\s*({_NUMBER})\s*([a-zA-Z]+)\s*")
_PLAIN = re.compile(rf"\s*([+-]?{_NUMBER})\s*")


def parse_duration(value: object) -> float:
    """Return ``value`` as hours.

    Parameters
    ----------
    value : str, int or float
        ``"30s"``, ``"1h30m"``, ``"1y"`` or a number of hours.

    Returns
    -------
    float
        The duration in hours (may be negative or zero for a plain number;
        callers decide which ranges are allowed).

    Raises
    ------
    ValueError
        If the text is not a number followed by known units.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration like '720h', got {value!r}")
    if isinstance(value, (int, float)):
        hours = float(value)
    elif isinstance(value, str):
        hours = _parse_text(value)
    else:
        raise ValueError(f"expected a duration like '720h', got {value!r}")
    if not math.isfinite(hours):
        raise ValueError(f"expected a finite duration, got {value!r}")
    return hours


def _parse_text(text: str) -> float:
    plain = _PLAIN.fullmatch(text)
    if plain:
        return float(plain.group(1))
    pos, total, matched = 0, 0.0, False
    while pos < len(text):
        part = _PART.match(text, pos)
        if not part:
            break
        unit = part.group(2)
        if unit not in UNITS:
            known = ", ".join(UNITS)
            raise ValueError(f"unknown unit {unit!r} in {text!r} (known units: {known})")
        total += float(part.group(1)) * UNITS[unit]
        pos, matched = part.end(), True
    if not matched or pos != len(text):
        raise ValueError(f"expected a duration like '720h' or '30s', got {text!r}")
    return total


def format_duration(hours: float) -> str:
    """Format hours with the largest unit that keeps the number readable.

    >>> format_duration(0.5)
    '30m'
    >>> format_duration(8760)
    '1y'
    >>> format_duration(1000 * 8760)
    '1000y'
    """
    if hours == 0:
        return "0s"
    if not math.isfinite(hours):
        return "inf"
    sign = "-" if hours < 0 else ""
    hours = abs(hours)
    for unit in ("y", "d", "h", "m", "s", "ms"):
        if unit == "d" and hours >= HOURS_PER_YEAR:
            continue
        size = UNITS[unit]
        if hours >= size:
            return f"{sign}{plain(hours / size)}{unit}"
    return f"{sign}{plain(hours / UNITS['ms'])}ms"


def plain(value: float) -> str:
    """Three significant figures, never an exponent (``1000``, ``12345``, ``0.0036``)."""
    if value >= 1000:
        return f"{value:.0f}"
    text = f"{value:.3g}"
    if "e" in text:                     # below 1e-4: a few decimals are enough for a duration
        return f"{value:.6f}".rstrip("0")
    return text
