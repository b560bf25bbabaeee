"""Rare-event simulation: importance splitting for designs beyond five nines (``method="splitting"``).

:func:`simulate_splitting` runs the RESTART kernel (:mod:`hasim.sim.kernel._splitting`) on a design
that is a series of active k-of-n pools of independent instances: the entry and the services it
requires, each with ``replicas``, ``min_healthy`` and failure / repair laws that are exponential,
Weibull, fixed or uniform.  Anything else (zones, failover modes, health checks, DNS, caches,
shards, lognormal or empirical laws) is refused with the reason: those mechanisms run on the plain
engine, whose answers for such designs are already reachable.

The levels are the failures the design has absorbed (see the kernel's docstring); the number of
retrials on entering level ``j`` is ``R_j = 1 / p_j`` rounded, where ``p_j`` is the chance, with
the mean rates of the weakest pool, that its next change is one more failure rather than a repair
(the balanced-growth choice of Villén-Altamirano; any ``R`` gives an unbiased answer).
"""

from __future__ import annotations

import math
import time

import numpy as np

from hasim.analytic.exact import _paths_from
from hasim.model.oncall import repair_hours
from hasim.model.scenario import Scenario
from hasim.results.rare import RareEventResults
from hasim.sim.compile import _Dists
from hasim.units import parse_duration

__all__ = ["simulate_splitting", "splitting_plan", "SUPPORTED_LAWS"]

#: Laws whose residual time given an age the kernel can draw exactly.
SUPPORTED_LAWS = ("exponential", "weibull", "fixed", "uniform")
#: Upper bound on the retrials of one level (memory: one saved state per retrial).
MAX_SPLIT = 5000


def _law_row(d) -> tuple[float, float, float]:
    """``(code, p0, p1)`` of a law, as the plain kernel's compiler writes it."""
    dists = _Dists()
    return tuple(dists.rows[dists.add(d)][:3])


def splitting_plan(scenario: Scenario) -> dict:
    """The arrays and levels :func:`simulate_splitting` runs ``scenario`` with.

    Returns
    -------
    dict
        ``pools`` (names), ``laws``, ``inst_pool``, ``pool_n``, ``pool_k``, ``pool_mult``, ``top``
        (failures absorbed before the entry is not fully up) and ``splits`` (``R_j`` per level).

    Raises
    ------
    ValueError
        Naming what the splitting engine does not model, when the design has it.
    """
    sc = scenario
    problems = []
    if sc.zones:
        problems.append("zones")
    edges = {name: list(svc.requires) for name, svc in sc.services.items()}
    mult = _paths_from(sc, sc.entry, edges)
    pools = [name for name in sc.topological_order() if name in mult]
    for name in pools:
        svc = sc.services[name]
        what = []
        if svc.is_router:
            what.append("a DNS router")
        if svc.mode != "active":
            what.append(f"mode {svc.mode}")
        for key in ("health_check", "failover", "dns", "capacity"):
            if getattr(svc, key, None) is not None:
                what.append(key)
        if svc.cached:
            what.append("cached dependencies")
        if getattr(svc, "shards", 1) != 1:
            what.append("shards")
        if svc.zones:
            what.append("zones")
        for key in ("failure", "repair"):
            law = getattr(svc, key)
            if law is None:
                what.append(f"no {key} law")
            elif law.dist not in SUPPORTED_LAWS:
                what.append(f"a {law.dist} {key} law")
        if what:
            problems.append(f"service {name!r} has " + ", ".join(what))
    if problems:
        raise ValueError("splitting models series of active k-of-n pools with exponential, weibull, fixed or "
                         "uniform laws only; " + "; ".join(problems) + " (run it with the plain engine)")
    laws, inst_pool = [], []
    pool_n, pool_k = [], []
    for p, name in enumerate(pools):
        svc = sc.services[name]
        n, k = int(svc.replicas), int(svc.min_healthy)
        pool_n.append(n)
        pool_k.append(k)
        row = (*_law_row(svc.failure), *_law_row(svc.repair))
        for _ in range(n):
            laws.append(row)
            inst_pool.append(p)
    margin = [n - k + 1 for n, k in zip(pool_n, pool_k)]
    top = min(margin)
    # The weakest pool: the fewest failures to the outage, then the most frequent failures.
    weakest = min(range(len(pools)), key=lambda p: (margin[p], sc.services[pools[p]].failure.mean_hours))
    svc = sc.services[pools[weakest]]
    lam, mu, n = 1.0 / svc.failure.mean_hours, 1.0 / repair_hours(sc, svc), pool_n[weakest]
    splits = [1] * (top + 1)
    for j in range(2, top + 1):  # entering level 1 from all-up is certain: no split there
        failed = j - 1
        p = (n - failed) * lam / ((n - failed) * lam + failed * mu)
        splits[j] = int(min(MAX_SPLIT, max(1, round(1.0 / p))))
    return {"pools": pools, "laws": np.asarray(laws, dtype=np.float64).reshape(-1, 6),
            "inst_pool": np.asarray(inst_pool, dtype=np.int64), "pool_n": np.asarray(pool_n, dtype=np.int64),
            "pool_k": np.asarray(pool_k, dtype=np.int64),
            "pool_mult": np.asarray([mult[name] for name in pools], dtype=np.int64), "top": int(top),
            "splits": np.asarray(splits, dtype=np.int64)}


def simulate_splitting(scenario: Scenario, replicas: int | None = None, seed: int | None = None,
                       horizon: float | str | None = None, *, splits=None) -> RareEventResults:
    """Estimate the unavailability of a beyond-five-nines design by importance splitting (RESTART).

    Parameters
    ----------
    scenario : Scenario
        A series of active k-of-n pools (see the module docstring).
    replicas, seed, horizon
        As for :func:`hasim.simulate`: independent main trials of ``horizon`` hours, each with its
        retrials; replica ``i`` draws from stream ``(seed, i)``.
    splits : sequence of int, optional
        ``R_j`` for the levels ``0 .. top`` (default :func:`splitting_plan`'s).

    Returns
    -------
    RareEventResults
        Per-replica estimates, intervals over replicas and the verdict.
    """
    from hasim.sim import kernel as _kernel  # noqa: F401 - the package, compiled on first call
    from hasim.sim.kernel._splitting import split_replicas

    plan = splitting_plan(scenario)
    if splits is not None:
        splits = np.asarray(list(splits), dtype=np.int64)
        if splits.shape != plan["splits"].shape or (splits < 1).any():
            raise ValueError(f"splits: expected {plan['top'] + 1} integers >= 1 (levels 0 .. {plan['top']}), "
                             f"got {list(splits)}")
        plan["splits"] = splits
    replicas = scenario.replicas if replicas is None else int(replicas)
    seed = scenario.seed if seed is None else int(seed)
    horizon = float(scenario.horizon if horizon is None else parse_duration(horizon))
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    if not (horizon > 0 and math.isfinite(horizon)):
        raise ValueError("horizon must be positive")
    out = {k: np.zeros(replicas) for k in ("req", "time", "rate")}
    hits = np.zeros(replicas, dtype=np.int64)
    events = np.zeros(replicas, dtype=np.int64)
    started = time.perf_counter()
    split_replicas(np.uint64(seed & ((1 << 64) - 1)), np.int64(0), np.int64(replicas), plan["laws"],
                   plan["inst_pool"], plan["pool_n"], plan["pool_k"], plan["pool_mult"], np.int64(plan["top"]),
                   plan["splits"], float(horizon), out["req"], out["time"], hits, out["rate"], events)
    elapsed = time.perf_counter() - started
    return RareEventResults(scenario=scenario, replicas=replicas, seed=seed, horizon=horizon,
                            splits=plan["splits"].tolist(), request_unavailability=out["req"],
                            time_unavailability=out["time"], hits=hits, outages=out["rate"], events=events,
                            elapsed_seconds=elapsed)
