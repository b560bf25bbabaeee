"""Shared by the mechanism tests: the tolerance rule of every closed-form comparison, and its helpers.

The first-order formulas of the delay mechanisms: both engines and ``hasim analyze`` against them.

Each mechanism of the README's first-order table is simulated by each engine
and compared with its formula, evaluated here from the scenario's parameters;
the formula is also compared with ``hasim.analyze(sc).delays`` (and its
``to_dict()``), which must give the same first-order terms to rounding.

Tolerance of every statistical comparison::

    |simulated mean - formula| <= 4 SE + B

SE is the standard error of the mean over replicas (std ddof=1 / sqrt(n)); B
bounds the formula's own second-order error, derived below for each case and
computed in the test from the scenario's parameters (the figures quoted are at
the parameters used).  The cases are chosen where B is small, and every
mechanism case checks its power: the tolerance is below 10 % of the term, so
an engine or a formula 10 % off fails (explicitly: the same tolerance rejects
the detection time E[D] computed without the "- 1", 40 % high).

1. Health-checked pool (health-check.yaml: n = 4, lambda = 1/720 h per
   instance, repair exponential with mean m = 10 min, probes every I = 10 s,
   unhealthy_threshold U = 3).  A dead instance is removed at its U-th failed
   probe, D = (V + U - 1) I with V uniform (the probe phase):
   E[D] = I/2 + (U - 1) I = 25 s.  Until removed or repaired it keeps its
   1/n share: E[min(D, R)] = m - (m^2 / I) (exp(-(U-1) I/m) - exp(-U I/m)) =
   24.48 s (E[D] would be 2.1 % high).  Request loss = n lambda E[min(D, R)] / n
   = lambda E[min(D, R)] = 4.96 min/year, all of it stage ``detection``; time
   degraded = n lambda E[min(D, R)] = 19.9 min/year.
   B: another instance out of rotation when one fails (removed and under
   repair, or repaired and not yet re-added: at most E[D] + m + H I per
   failure, at rate (n - 1) lambda) makes the dead one's share 1/(n-1) instead
   of 1/n: relative error <= lambda (E[D] + m + H I) = 2.5e-4; dead-but-routed
   instances at the same time add their shares exactly; overlapping detection
   windows shorten the time degraded by at most (n - 1) lambda 2 U I = 6.9e-5
   relative; all four down at once: ~1e-14.  B = 3.2e-4 of the term.
   With ``retry: true`` nothing is lost while one instance is healthy: zero.
2. DNS failover router (an exponential primary, MTBF 100 h, down exactly 2 h;
   a DR target that never fails; router probes I = 30 s, U = 3, H = 3).  Per
   failure of the primary: E[D] = 75 s fully lost (stage ``detection``), then
   the clients still on the old answer fall linearly over the TTL:
   (1 - f) TTL/2 + f stale_for more (stage ``dns``).  Time not fully up per
   failure: E[D] (down) + max(TTL, stale_for) (degraded).  Two variants: TTL
   300 s (322 min/year: 107 detection + 215 dns), and TTL 60 s with 5 % of
   resolvers ignoring it for 15 min.
   B: the 2 h outage outlasts D + TTL, so no client move is cut short; a
   failure within H I + max(TTL, stale_for) of the primary's return (the
   router has not switched back, or clients are still moving back) loses
   less than a full event: relative error <= (H I + max(TTL, stale_for)) /
   MTBF = 1.1e-3 (TTL 300 s) and 2.8e-3 (15 min stale).
3. Cached dependency (cached.yaml: the database fails every 1000 h, its
   outage is exponential with mean m = 30 min, cache TTL 10 min).  An outage
   shows only beyond the TTL: E[(R - ttl)+] = m exp(-ttl/m) = 21.5 min per
   outage, 8.76 outages per year: 188 min/year, all stage ``stale-cache``.
   Exact for a single exponential instance (memoryless repair); B: the
   catalogue's own pool all down (q^3 = 7e-14) and the start-up transient
   (m / horizon = 1.1e-6 relative).  The naive "m - ttl" per outage is 7 % low:
   within reach of the numba case (4 SE ~ 0.6 %), not of the SimPy one (5-6 %).
4. Standby pair (hot, MTBF 100 h, MTTR 30 min, detection 6 min, promotion
   9 min).  Per failure of the active while both instances are up (rate
   a^2/MTBF, a = 1 - q the instance availability): detection + promotion,
   stage ``failover``.  Both instances down (q^2) is the exact structural
   part.  B: the instances are independent alternating renewals, so the shard
   is down on the union of the both-down periods and the failover windows,
   which overlap a both-down period only if the standby being promoted fails
   within the window (delay / MTBF), and the active is not always the
   instance that was up longest (order q):
   B = rate * delay * (q + delay / MTBF) = 0.75 % of the term.
5. The pitfall "ignoring DNS TTL" (scenarios/dns-ttl-300s.yaml and
   dns-ttl-30s.yaml, the same design but for the TTL): the simulated downtime,
   its detection and dns stages and the paired difference (common random
   numbers: the same histories at both TTLs) against ``hasim analyze``.
   B: a region outage (exponential, mean m = 4 h) that ends before the
   clients have moved cuts the event short; with l(t) the rate of loss t after
   the failure, the missing loss is E[int l(t) 1(R < t) dt] <= int t l(t) dt / m
   = 2.6 s per switch at TTL 300 s, 0.9 s at 30 s (about 1 % of the term);
   the DR region down during a switch (counted twice: delay term and exact
   structural part; the switch back to the dead primary also charges part of
   such both-down time to the dns and detection stages) or a failure within a
   switch's span of a return: (q_dr + span / MTBF) <= 1e-3 of the term.
   These runs have no power at 10 % on the totals (rare both-regions-down
   outages dominate their variance): the mechanism's power is case 2's; here
   the stage figures and the paired difference are tight.

Exact cases (``dist: fixed`` laws, known to the last bit): a DNS ramp loses
exactly TTL/2, stale resolvers exactly f stale_for on top, a cache masks
exactly its TTL, and a health-checked instance is removed after a D in
((U - 1) I, U I].

Engines.  Every case runs on the SimPy reference and on the numba kernel, the
kernel with 40 to 100 times the replicas, so its tolerances are 6 to 10 times
tighter.  Each run takes under ~3 s (SimPy) and ~2 s (numba) of simulation on
two cores: the kernel is ~300 times faster than the reference on failovers
and caches but ~100 times on health probes and DNS ramps, hence fewer
replicas there.

False alarms.  A correct engine exceeds 4 SE with probability 6.3e-5 per
comparison under a normal null (B only adds margin); this module makes about
60 comparisons, so below 0.4 % at a fresh seed; the seeds are fixed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import hasim
from hasim import Scenario


SIGMAS = 4.0
POWER = 0.10                # every mechanism case rejects an answer 10 % away from its formula
MIN_PER_YEAR = 525600.0
HOURS_PER_YEAR = 8760.0
SECOND = 1.0 / 3600.0       # hours


# --- helpers ----------------------------------------------------------------------------------------------


def engines(simpy: int, numba: int) -> list:
    """``(engine, replicas)`` parameters, the replicas of each engine's run."""
    return [pytest.param("simpy", simpy, id="simpy"), pytest.param("numba", numba, id="numba")]


def run(sc: Scenario, engine: str, replicas: int, horizon: float, seed: int):
    return hasim.simulate(sc, replicas=replicas, horizon=horizon, seed=seed, engine=engine)


def estimate(res, metric: str, scale: float = 1.0) -> tuple[float, float]:
    """(mean, SE) of a summary metric of :class:`hasim.results.summary.Results`, times ``scale``."""
    m = res.metric(metric)
    return m["mean"] * scale, m["std"] * scale / math.sqrt(res.n_replicas)


def mean_se(values) -> tuple[float, float]:
    x = np.asarray(values, dtype=np.float64)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def stage(res, name: str) -> tuple[float, float]:
    """(mean, SE) of the downtime charged to stage ``name``, minutes per year (``Results.stages``)."""
    row = res.stages.set_index("stage").loc[name]
    return float(row["downtime_minutes_per_year"]), float(row["std"]) / math.sqrt(res.n_replicas)


def share(res, name: str) -> float:
    stages = res.stages.set_index("stage")["downtime_minutes_per_year"]
    return float(stages[name] / stages.sum())


def check(label: str, sim: tuple[float, float], formula: float, bound: float, power: bool = True) -> float:
    """|sim - formula| <= 4 SE + bound; with ``power``, that tolerance is below 10 % of the formula."""
    mean, se = sim
    tol = SIGMAS * se + bound
    assert abs(mean - formula) <= tol, (f"{label}: simulated {mean:.6g} +- {se:.2g} (SE) vs formula {formula:.6g}: "
                                        f"off by {abs(mean - formula):.3g} > 4 SE + second order {bound:.3g}")
    if power:
        assert tol < POWER * abs(formula), f"{label}: no power, tolerance {tol:.3g} vs formula {formula:.6g}"
    return tol


def delay_rows(analysis) -> dict[str, dict]:
    """The delay terms of ``hasim analyze`` by stage, as in ``to_dict()``, with the DataFrame's minutes."""
    rows = {t["stage"]: t for t in analysis.to_dict()["delay_terms"]}
    frame = analysis.delays.set_index("stage")
    assert len(rows) == len(analysis.delay_terms) == len(frame)   # one term per stage in these scenarios
    for name, row in rows.items():
        row["minutes_per_year"] = float(frame.loc[name, "minutes_per_year"])
        assert row["minutes_per_year"] == pytest.approx(row["request_unavailability"] * MIN_PER_YEAR, rel=1e-12)
    return rows


def expected_min_exponential(m: float, lo: float, hi: float) -> float:
    """E[min(D, R)] for R exponential with mean m and D uniform on [lo, hi]."""
    return m - m * m / (hi - lo) * (math.exp(-lo / m) - math.exp(-hi / m))


#: A component that never fails within the short horizons of the exact-timeline tests.
NEVER = {"failure": {"dist": "fixed", "value": 1000}, "repair": {"dist": "fixed", "value": 1}}


def charged(res, cause: str, stage_index: int) -> float:
    """Lost request-hours of replica 0 charged to ``cause`` and stage."""
    return float(res.out.loss[0, res.labels.causes.index(cause), stage_index])
