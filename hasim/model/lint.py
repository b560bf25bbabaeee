"""Warnings about scenarios that are valid but probably not what was meant.

Errors stop a scenario (:class:`hasim.ScenarioError`); warnings do not.  They
are returned as :class:`hasim.Problem` lists, never issued through Python's
``warnings`` module, so loading a scenario stays silent everywhere and
``hasim validate`` prints them as ``warning: FILE: key.path: message``.

Two kinds:

* **unused parts**: a service nothing reachable from ``entry`` depends on, a
  zone no instance is placed in (directly or through a zone within it): they
  cannot change any result, which usually means a typo or a forgotten edge;
* **bare numbers that look like seconds or minutes**: a number without a unit
  is hours, so ``failover.detection: 30`` is 30 hours.  Each duration key has a
  plausible range in hours (:data:`PLAUSIBLE_HOURS`); a bare number above it
  that would be plausible in seconds or minutes gets a warning that names the
  unit string to write.  Writing the unit (``30s``, or ``30h`` to keep hours)
  silences it.  Bare numbers only exist in the raw data (the model holds float
  hours), so this check needs ``raw``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hasim.units import UNITS, parse_duration
from hasim.errors import Problem
from hasim.model.io import load, parse_text
from hasim.model.scenario import Scenario
from hasim.model.structure import roles

__all__ = ["check", "check_file", "PLAUSIBLE_HOURS"]

#: Duration key (as it ends a key path) -> (largest plausible value in hours, the units to
#: suggest in order, what the value is).  "repair" covers every duration of a repair law and
#: the ``mttr`` shorthand.  Deliberately generous: a warning costs the user a unit suffix.
PLAUSIBLE_HOURS: dict[str, tuple[float, tuple[str, ...], str]] = {
    "failover.detection": (1.0, ("s", "m"), "failure detection"),
    "failover.promotion": (1.0, ("s", "m"), "promotion"),
    "failover.manual": (24.0, ("m",), "manual intervention"),
    "health_check.interval": (0.5, ("s", "m"), "health-check interval"),
    "dns.ttl": (24.0, ("s", "m"), "DNS TTL"),
    "dns.stale_for": (168.0, ("m", "s"), "stale DNS period"),
    "cached.ttl": (24.0, ("s", "m"), "cache TTL"),
    "repair": (48.0, ("m", "s"), "repair time"),
}

_UNIT_WORDS = {"s": "seconds", "m": "minutes"}
_LAW_DURATIONS = ("mean", "mtbf", "mttr", "scale", "median", "value", "low", "high", "samples")


def check(scenario: Scenario, raw: dict | None = None) -> list[Problem]:
    """Warnings about a valid scenario, as :class:`Problem` entries (empty when all is well).

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    raw : dict, optional
        The data it was built from (a parsed file, or the keyword arguments of a
        Python constructor given as a mapping): needed to spot bare numbers.

    Returns
    -------
    list of Problem
        Bare-number warnings in file order, then unused services and zones.
    """
    problems = list(_bare_numbers(raw)) if isinstance(raw, dict) else []
    problems += _unused(scenario)
    return problems


def check_file(path: str | os.PathLike, scenario: Scenario | None = None) -> list[Problem]:
    """:func:`check` of a scenario file (``scenario``: the already loaded file, to skip loading it again).

    Raises
    ------
    ScenarioError
        If the file is not a valid scenario.
    """
    path = Path(path)
    if scenario is None:
        scenario = load(path)
    fmt = "toml" if path.suffix.lower() == ".toml" else "yaml"
    raw = parse_text(path.read_text(encoding="utf-8"), fmt, source=str(path))
    return check(scenario, raw)


# --- unused parts -----------------------------------------------------------------------------


def _unused(sc: Scenario) -> list[Problem]:
    role = roles(sc)
    problems = [
        Problem(f"services.{name}", f"unused: not reachable from entry {sc.entry!r} through requires, optional, "
                                    "cached, targets or failover.requires, so it cannot change any result")
        for name in sc.services if role[name] == "unused"
    ]
    placed = {z for svc in sc.services.values() for z in svc.zones}
    used = {z for zone in placed for z in sc.zone_chain(zone)}
    problems += [
        Problem(f"zones.{name}", "unused: no service has instances in it or in a zone within it, "
                                 "so its outages change nothing")
        for name in sc.zones if name not in used
    ]
    return problems


# --- bare numbers --------------------------------------------------------------------------------


def _bare_numbers(raw: dict):
    for label in ("zones", "services"):
        table = raw.get(label)
        if isinstance(table, list):
            table = {item.get("name"): item for item in table if isinstance(item, dict)}
        if not isinstance(table, dict):
            continue
        for name, part in table.items():
            if isinstance(part, dict):
                yield from _part_numbers(f"{label}.{name}", part)


def _part_numbers(base: str, part: dict):
    if "mttr" in part:
        yield from _judge(f"{base}.mttr", part["mttr"], "repair")
    repair = part.get("repair")
    if isinstance(repair, dict):
        for key in _LAW_DURATIONS:
            value = repair.get(key)
            items = enumerate(value) if key == "samples" and isinstance(value, list) else [(None, value)]
            for i, item in items:
                yield from _judge(f"{base}.repair.{key}" + (f".{i}" if i is not None else ""), item, "repair")
    for block, keys in (("failover", ("detection", "promotion", "manual")), ("health_check", ("interval",)),
                        ("dns", ("ttl", "stale_for"))):
        sub = part.get(block)
        if isinstance(sub, dict):
            for key in keys:
                yield from _judge(f"{base}.{block}.{key}", sub.get(key), f"{block}.{key}")
    cached = part.get("cached")
    items = [(f"{base}.cached", cached)] if isinstance(cached, dict) else \
        [(f"{base}.cached.{i}", c) for i, c in enumerate(cached)] if isinstance(cached, list) else []
    for where, item in items:
        if isinstance(item, dict):
            yield from _judge(f"{where}.ttl", item.get("ttl"), "cached.ttl")


def _bare_hours(value: Any) -> float | None:
    """``value`` as hours if it is a number without a unit (``90``, ``"90"``), else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text or text[-1].isalpha():
            return None
    elif not isinstance(value, (int, float)):
        return None
    try:
        return parse_duration(value)
    except ValueError:
        return None


def _judge(path: str, value: Any, kind: str):
    hours = _bare_hours(value)
    if hours is None or hours <= 0:
        return
    limit, units, what = PLAUSIBLE_HOURS[kind]
    if hours <= limit:
        return
    for unit in units:
        if hours * UNITS[unit] <= limit:
            shown = f"{hours:g}"
            yield Problem(path, f"a bare number is hours: {shown} means {shown}h, implausible for a {what}; "
                                f"write '{shown}{unit}' if you meant {_UNIT_WORDS[unit]} "
                                f"(or '{shown}h' to keep hours)")
            return
