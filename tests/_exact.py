"""Shared by the engine and mechanism tests: agreement with the exact solver within 4 SE, with power.

Agreement: the simulated request and time availability must lie within 4 standard errors of
``hasim.analyze``.  Power: the exact answer for the same scenario with one MTTR 2 % longer must lie
more than 4 standard errors away, so a simulator that got that MTTR wrong by 2 % would fail.
"""

from __future__ import annotations

import math

from hasim import Scenario
from hasim.analytic.analysis import analyze
from hasim.sim.engine import simulate

SIGMAS = 4.0


def scenario(entry: str, services: dict, zones: dict | None = None, **kw) -> Scenario:
    return Scenario(name="t", entry=entry, services=services, zones=zones or {}, **kw)


def with_mttr(sc: Scenario, name: str, factor: float) -> Scenario:
    """``sc`` with the repair law of service (or zone) ``name`` stretched by ``factor``."""
    if name in sc.services:
        svc = sc.services[name]
        services = {**sc.services, name: svc.model_copy(update={"repair": svc.repair.scaled(factor)})}
        return sc.model_copy(update={"services": services})
    zone = sc.zones[name]
    zones = {**sc.zones, name: zone.model_copy(update={"repair": zone.repair.scaled(factor)})}
    return sc.model_copy(update={"zones": zones})


def agree(sc: Scenario, perturb: str, *, replicas: int, horizon: float, seed: int = 7,
          exact_fn=None) -> None:
    """Assert agreement within 4 SE with the exact solver, and power against a 2 % MTTR error."""
    exact_fn = exact_fn or (lambda s: analyze(s, cut_sets=False))
    res = simulate(sc, replicas=replicas, horizon=horizon, seed=seed)
    exact = exact_fn(sc)
    wrong = exact_fn(with_mttr(sc, perturb, 1.02))
    for metric, values in (("request_availability", res.out.ra), ("time_availability", res.out.ta)):
        mean = float(values.mean())
        se = float(values.std(ddof=1)) / math.sqrt(values.size)
        want = getattr(exact, metric)
        other = getattr(wrong, metric)
        assert se > 0, metric
        assert abs(mean - want) <= SIGMAS * se, (
            f"{metric}: simulated {mean:.8f} +- {se:.2e}, exact {want:.8f} ({(mean - want) / se:+.1f} SE)")
        assert abs(other - want) > SIGMAS * se, (
            f"{metric}: no power: a 2 % MTTR error moves the answer by {abs(other - want):.2e} "
            f"but 4 SE = {SIGMAS * se:.2e}")
