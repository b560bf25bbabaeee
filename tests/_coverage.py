"""The coverage study of hasim's 95 % intervals: shared by tests/test_coverage.py and benchmarks/bench_coverage.py.

One large run of a model is cut into ``groups`` independent runs of ``replicas`` replicas each
(replica ``i`` draws from its own stream, so a slice of a run is a run); each slice becomes a
:class:`~hasim.results.summary.Results`, exactly what a user would get from that many replicas, and
each of its intervals is checked against the truth:

* the exact first-year answer where there is one: a k-of-n pool of independent exponential
  instances started all up has P(instance down at t) = q (1 - exp(-(lam + mu) t)), so the request
  and time availability and the expected outages are integrals over binomial state probabilities
  (:func:`first_year`);
* otherwise (the window-breach probability) the pooled estimate of all groups, whose standard error
  is ``1 / sqrt(groups)`` of one group's: it moves the coverage by a negligible amount.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from hasim import Scenario
from hasim.results.summary import Results
from hasim.sim.engine import simulate

HOURS_PER_YEAR = 8760.0
#: Two-sided 99 % normal quantile: the binomial band a measured coverage must fall in.
Z99 = 2.576


def pool(n: int, k: int, mtbf: float = 2000.0, mttr: float = 4.0, slo: float = 99.99) -> Scenario:
    """An active pool of ``n`` instances of which ``k`` carry the load (exponential laws)."""
    return Scenario(name=f"{k}-of-{n}", entry="api", slo=slo, services={"api": {
        "replicas": n, "min_healthy": k, "failure": {"mtbf": f"{mtbf}h"}, "repair": {"mttr": f"{mttr}h"}}})


def pool_curves(n: int, k: int, t: np.ndarray, mtbf: float = 2000.0, mttr: float = 4.0):
    """``(served, full, p_k)`` at times ``t`` of :func:`pool` started up: the expected served fraction,
    P(fully up) and P(exactly k up), from P(instance down at t) = q (1 - exp(-(lam + mu) t))."""
    lam, mu = 1.0 / mtbf, 1.0 / mttr
    q = lam / (lam + mu) * (1.0 - np.exp(-(lam + mu) * t))
    ra = np.zeros_like(t)
    ta = np.zeros_like(t)
    p_k = np.zeros_like(t)
    for h in range(n + 1):
        p = math.comb(n, h) * (1.0 - q) ** h * q ** (n - h)
        ra += p * min(1.0, h / k)
        ta += p * (h >= k)
        if h == k:
            p_k = p
    return ra, ta, p_k


def first_year(n: int, k: int, horizon: float, mtbf: float = 2000.0, mttr: float = 4.0) -> dict:
    """Exact mean request / time availability and outages over ``[0, horizon]`` of :func:`pool`."""
    t = np.linspace(0.0, horizon, 200_001)
    ra, ta, p_k = pool_curves(n, k, t, mtbf, mttr)
    lam = 1.0 / mtbf
    return {"request_availability": np.trapezoid(ra, t) / horizon,
            "time_availability": np.trapezoid(ta, t) / horizon,
            # An outage (served < 1) starts when the k-th up instance of k fails.
            "outages": np.trapezoid(p_k * k * lam, t)}


@dataclass
class Case:
    """One row of the study: a model, a replica count and a horizon."""

    name: str
    n: int
    k: int
    mtbf: float
    replicas: int
    years: float = 1.0

    def scenario(self) -> Scenario:
        return pool(self.n, self.k, self.mtbf)

    @property
    def horizon(self) -> float:
        return self.years * HOURS_PER_YEAR

    def exact(self) -> dict:
        return first_year(self.n, self.k, self.horizon, self.mtbf)

    @property
    def expected_outages(self) -> float:
        """Outages one group of ``replicas`` replicas expects."""
        return self.exact()["outages"] * self.replicas


#: The models and sizes of the study, from many outages per group down to almost none.
CASES = [
    Case("1 instance", 1, 1, 2000.0, 20),
    Case("1-of-2 pool", 2, 1, 2000.0, 1000),
    Case("1-of-2 pool", 2, 1, 2000.0, 100),
    Case("1-of-2 pool", 2, 1, 2000.0, 20),
    Case("1-of-2 pool, 5 y", 2, 1, 2000.0, 200, years=5.0),
    Case("1-of-2 pool, MTBF 500 h", 2, 1, 500.0, 100),
    Case("1-of-2 pool, MTBF 500 h", 2, 1, 500.0, 20),
    Case("2-of-3 pool, MTBF 1000 h", 3, 2, 1000.0, 100),
    Case("2-of-3 pool, MTBF 1000 h", 3, 2, 1000.0, 20),
]

#: The intervals checked: the name, how to read (lo, hi) from a Results, and the truth's key.
MEASURES = {
    "request_availability": lambda r: r.metric("request_availability")["ci95"],
    "time_availability": lambda r: r.metric("time_availability")["ci95"],
    "downtime_minutes_per_year": lambda r: r.metric("downtime_minutes_per_year")["ci95"],
    "outages_per_year": lambda r: r.metric("outages_per_year")["ci95"],
    "p_window_breach": lambda r: r.metric("p_window_breach")["ci95"],
    "attribution": lambda r: tuple(r.attribution[["ci_low", "ci_high"]].iloc[0]) if len(r.attribution)
    else (0.0, r.metric("downtime_minutes_per_year")["ci95"][1]),
    "entry_service": lambda r: tuple(r.services[["ci_low", "ci_high"]].iloc[0]),
}


def _slice(out, lo: int, hi: int):
    return type(out)(*(a[lo:hi] for a in out))


def study(case: Case, groups: int, seed: int = 1) -> dict:
    """Coverage of every measure's interval over ``groups`` independent runs of ``case``.

    Returns ``{measure: {"coverage", "se", "groups", "above", "below"}}`` plus ``"_zero"`` (the
    fraction of groups that saw no outage), ``"_width_zero"`` (groups whose request-availability
    interval had zero width: must be 0) and ``"_met_wrongly"`` (groups whose verdict said "met" for
    an SLO the exact answer misses).
    """
    sc = case.scenario()
    big = simulate(sc, replicas=case.replicas * groups, horizon=case.horizon, seed=seed, keep_windows=0,
                   keep_outages=1)
    exact = case.exact()
    ra = exact["request_availability"]
    truth = {
        "request_availability": ra,
        "time_availability": exact["time_availability"],
        "downtime_minutes_per_year": (1.0 - ra) * 525600.0,
        "outages_per_year": exact["outages"] / case.years,
        "p_window_breach": float(big.out.breaches.sum()) / (big.out.breaches.size * big.n_windows),
        "attribution": (1.0 - ra) * 525600.0,
        "entry_service": ra,
    }
    # An SLO the exact answer misses (it allows 80 % of the true unavailability): "met" is wrong.
    missed_slo = 100.0 * (1.0 - 0.8 * (1.0 - ra))
    tally = {m: [0, 0, 0] for m in MEASURES}  # covered, truth above, truth below
    zero = width_zero = met_wrongly = 0
    for g in range(groups):
        out = _slice(big.out, g * case.replicas, (g + 1) * case.replicas)
        r = Results(labels=big.labels, out=out, engine=big.engine, replicas=case.replicas, seed=seed,
                    horizon=case.horizon, window=big.window, n_windows=big.n_windows, slo=big.slo,
                    elapsed_seconds=0.0)
        zero += r.total_outages == 0
        lo, hi = r.metric("request_availability")["ci95"]
        width_zero += lo is not None and hi is not None and lo == hi
        met_wrongly += r.slo_verdict(missed_slo, advise=False)["status"] == "met"
        for m, read in MEASURES.items():
            lo, hi = read(r)
            t = truth[m]
            if lo is not None and hi is not None and not (math.isnan(lo) or math.isnan(hi)) and lo <= t <= hi:
                tally[m][0] += 1
            elif hi is None or math.isnan(hi) or t > hi:
                tally[m][1] += 1
            else:
                tally[m][2] += 1
    res = {}
    for m, (cov, above, below) in tally.items():
        p = cov / groups
        res[m] = {"coverage": p, "se": math.sqrt(0.95 * 0.05 / groups), "groups": groups,
                  "above": above / groups, "below": below / groups}
    res["_zero"] = zero / groups
    res["_width_zero"] = width_zero
    res["_met_wrongly"] = met_wrongly / groups
    return res
