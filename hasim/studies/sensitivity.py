"""What is each parameter worth?  One-at-a-time sensitivity and sweeps, with common random numbers.

:func:`sensitivity` lowers and raises every key parameter of a design (each
MTBF and MTTR, failover detection and promotion, health-check interval, DNS
and cache TTLs, replica counts) and simulates each variant with the *same*
seed and replica count as the baseline.  hasim gives replica ``i`` the random
stream ``(seed, i)``, so the baseline and a variant see largely the same
failures: their per-replica difference has a far smaller variance than two
independent runs, and a difference of a few minutes a year is real.

:func:`sweep` (now in :mod:`hasim.sweep`, re-exported here) runs a design over a grid of values.

Both take ``engine=`` and import the engine only when called, so importing
this module compiles nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable

import numpy as np

from hasim.units import HOURS_PER_YEAR, parse_duration
from hasim.errors import ScenarioError
from hasim.model.mechanisms import knobs
from hasim.model.scenario import Scenario
from hasim.results.estimate import half_width
from hasim.studies.sweep import default_replicas

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["sensitivity", "parameters", "Parameter", "default_replicas"]

_MINUTES_PER_YEAR = HOURS_PER_YEAR * 60.0

_COLUMNS = [
    "parameter", "path", "kind", "unit", "base_value", "low_value", "high_value",
    "availability_base", "availability_low", "availability_high", "delta_low", "delta_high",
    "downtime_base", "downtime_low", "downtime_high", "downtime_delta_low", "downtime_delta_high",
    "downtime_delta_low_ci", "downtime_delta_high_ci", "effect", "note",
]


@dataclass
class Parameter:
    """One parameter of a design and how to change it.

    ``low`` / ``high`` map a factor-free variant to ``Scenario.replace`` changes
    (dotted path -> new value); ``None`` when that variant is not valid, with
    the reason in ``notes``.
    """

    label: str
    path: str
    kind: str
    unit: str                       # "h" (a duration in hours) or "count"
    base: float
    low_value: float | None
    high_value: float | None
    low: dict[str, Any] | None
    high: dict[str, Any] | None
    notes: list[str] = field(default_factory=list)


def parameters(scenario: Scenario, factors: tuple[float, float] = (0.5, 2.0)) -> list[Parameter]:
    """Every key parameter of ``scenario`` with its low and high variant (see :func:`_enumerate`)."""
    return _enumerate(scenario, factors)


def _enumerate(scenario: Scenario, factors: tuple[float, float]) -> list[Parameter]:
    """Every key parameter of ``scenario`` with its low and high variant.

    The parameters are the :class:`~hasim.model.mechanism.Knob` s its mechanisms declare
    (:func:`hasim.model.mechanisms.knobs`).  Durations are multiplied by ``factors``; replica
    counts go -1 / +1 (at least 1, at least ``min_healthy``, at least 2 for a standby pair).
    Zero-valued delays are skipped (scaling zero changes nothing).
    """
    lo_f, hi_f = factors
    out: list[Parameter] = []
    for knob in knobs(scenario):
        if knob.unit == "count":
            out.append(_count_parameter(scenario, knob))
        elif knob.base:
            out.append(Parameter(knob.label, knob.path, knob.kind, knob.unit, knob.base, knob.base * lo_f,
                                 knob.base * hi_f, {knob.path: knob.scaled(lo_f)}, {knob.path: knob.scaled(hi_f)}))
    return out


def _count_parameter(scenario: Scenario, knob) -> Parameter:
    """Replicas -1 / +1, the low variant dropped (with the reason) where it would be invalid."""
    svc = scenario.services[knob.path.split(".")[1]]
    n = int(knob.base)
    floor = max(1, svc.min_healthy, 2 if svc.mode == "standby" else 1)
    notes = []
    low = {knob.path: n - 1}
    if n - 1 < floor:
        why = ("a standby pair needs 2" if svc.mode == "standby" and n - 1 < 2 else
               f"min_healthy is {svc.min_healthy}" if n - 1 < svc.min_healthy else "at least 1")
        notes.append(f"-1 replica invalid ({why})")
        low = None
    return Parameter(knob.label, knob.path, knob.kind, "count", float(n), float(n - 1) if low else None,
                     float(n + 1), low, {knob.path: n + 1}, notes)


def _per_replica_downtime(results) -> np.ndarray:
    return np.asarray(results.replicas["downtime_minutes_per_year"], dtype=float)


def sensitivity(scenario: Scenario, factors: tuple[float, float] = (0.5, 2.0), replicas: int | None = None,
                seed: int | None = None, parameters: Iterable[str] | None = None, *,
                engine: str = "numba", horizon: float | str | None = None,
                progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Lower and raise each key parameter; simulate every variant with common random numbers.

    Parameters
    ----------
    scenario : Scenario
        The baseline design.
    factors : (float, float)
        Multipliers of durations for the low and the high variant (default
        halved and doubled).  Replica counts go -1 / +1.
    replicas, seed, horizon
        Of every run (baseline and variants).  ``replicas`` defaults to
        ``max(200, scenario.replicas // 4)``: enough to rank parameters,
        cheap enough for a report.
    parameters : iterable of str, optional
        Restrict to these labels or paths (e.g. ``"db failover detection"``,
        ``"services.api.replicas"``).
    engine : str
        Passed to :func:`hasim.sim.engine.simulate`.
    progress : callable, optional
        ``progress(done, total)`` after each run.

    Returns
    -------
    DataFrame
        One row per parameter, sorted by effect (largest change in downtime
        first; parameters with no valid variant (see ``note``) last):
        ``parameter, path, kind, unit, base_value, low_value, high_value``
        (hours for durations, counts for replicas), request availability of
        the baseline and both variants and their differences (``delta_*``),
        downtime in minutes per year and its change (``downtime_delta_*``) with
        the half-width of its paired 95 % CI (``downtime_delta_*_ci``),
        ``effect`` (the larger absolute change) and ``note``.  ``attrs`` keeps
        the run settings and the baseline.
    """
    import pandas as pd

    from hasim.sim.engine import simulate  # lazy: importing hasim compiles nothing

    replicas = default_replicas(scenario, replicas)
    seed = scenario.seed if seed is None else int(seed)
    horizon_h = scenario.horizon if horizon is None else parse_duration(horizon)
    params = _enumerate(scenario, factors)
    if parameters is not None:
        wanted = set(parameters)
        params = [p for p in params if p.label in wanted or p.path in wanted]
    total = 1 + 2 * len(params)
    done = 0

    def run(sc: Scenario):
        nonlocal done
        r = simulate(sc, replicas=replicas, seed=seed, horizon=horizon_h, engine=engine)
        done += 1
        if progress is not None:
            progress(done, total)
        return r

    base = run(scenario)
    base_ra = np.asarray(base.replicas["request_availability"], dtype=float)
    base_dt = _per_replica_downtime(base)
    rows = []
    for p in params:
        notes = list(p.notes)
        cells: dict[str, float] = {}
        for side, changes in (("low", p.low), ("high", p.high)):
            cells[f"availability_{side}"] = cells[f"delta_{side}"] = math.nan
            cells[f"downtime_{side}"] = cells[f"downtime_delta_{side}"] = math.nan
            cells[f"downtime_delta_{side}_ci"] = math.nan
            if changes is None:
                continue
            try:
                variant = scenario.replace(changes)
            except ScenarioError as exc:
                notes.append(f"{side} variant invalid: {'; '.join(exc.lines())}")
                continue
            r = run(variant)
            ra = np.asarray(r.replicas["request_availability"], dtype=float)
            dt = _per_replica_downtime(r)
            cells[f"availability_{side}"] = float(ra.mean())
            cells[f"delta_{side}"] = float(ra.mean() - base_ra.mean())
            cells[f"downtime_{side}"] = float(dt.mean())
            cells[f"downtime_delta_{side}"] = float(dt.mean() - base_dt.mean())
            cells[f"downtime_delta_{side}_ci"] = half_width(dt - base_dt)
        effects = [abs(cells["downtime_delta_low"]), abs(cells["downtime_delta_high"])]
        effects = [e for e in effects if math.isfinite(e)]
        rows.append({
            "parameter": p.label, "path": p.path, "kind": p.kind, "unit": p.unit, "base_value": p.base,
            "low_value": p.low_value if p.low is not None else math.nan,
            "high_value": p.high_value if p.high is not None else math.nan,
            "availability_base": float(base_ra.mean()), "downtime_base": float(base_dt.mean()),
            **cells, "effect": max(effects) if effects else math.nan, "note": "; ".join(notes),
        })
    frame = pd.DataFrame(rows, columns=_COLUMNS)
    frame = frame.sort_values("effect", ascending=False, na_position="last", kind="stable").reset_index(drop=True)
    frame.attrs.update({"scenario": scenario.name, "replicas": replicas, "seed": seed, "horizon_hours": horizon_h,
                        "factors": tuple(factors), "engine": engine,
                        "baseline_availability": float(base_ra.mean()),
                        "baseline_downtime": float(base_dt.mean())})
    return frame
