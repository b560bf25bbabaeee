"""The first-order formulas of the delay mechanisms: both engines and ``hasim analyze`` against them.

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
from hasim.sim.kernel._output import DETECTION, DNS, STALE_CACHE

from .conftest import SCENARIOS

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
    """(mean, SE) of a summary metric of :class:`hasim.results.Results`, times ``scale``."""
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


# --- 1. health-checked pool ---------------------------------------------------------------------------------

HC_POOL = hasim.load(SCENARIOS / "health-check.yaml")


def _pool_formula(sc: Scenario) -> dict[str, float]:
    svc = sc.services["api"]
    hc, n = svc.health_check, svc.replicas
    lam, m = 1.0 / svc.failure.mean_hours, svc.repair.mean_hours
    assert svc.repair.dist == "exponential" and svc.min_healthy == 1
    lo, hi = (hc.unhealthy_threshold - 1) * hc.interval, hc.unhealthy_threshold * hc.interval
    ed = hc.interval / 2 + (hc.unhealthy_threshold - 1) * hc.interval
    routed = expected_min_exponential(m, lo, hi)
    out_of_rotation = ed + m + hc.healthy_threshold * hc.interval
    return {
        "n": n, "lam": lam, "ed": ed, "routed": routed,
        "request": lam * routed * MIN_PER_YEAR,                    # minutes per year
        "degraded": n * lam * routed * MIN_PER_YEAR,
        "bound": lam * out_of_rotation + (n - 1) * lam * 2 * hi,     # relative: share 1/(n-1), overlaps
        "no_minus_one": lam * (hc.interval / 2 + hc.unhealthy_threshold * hc.interval) * MIN_PER_YEAR,
    }


def test_pool_formula_and_analyze_agree():
    f = _pool_formula(HC_POOL)
    assert f["ed"] == pytest.approx(25 * SECOND) and f["routed"] == pytest.approx(24.48 * SECOND, abs=0.005 * SECOND)
    assert f["request"] == pytest.approx(4.96, abs=0.005) and f["bound"] < 3.5e-4
    exact = hasim.analyze(HC_POOL, cut_sets=False)
    rows = delay_rows(exact)
    assert set(rows) == {"detection"}
    row = rows["detection"]
    assert row["service"] == "api"
    assert row["events_per_year"] == pytest.approx(f["n"] * f["lam"] * HOURS_PER_YEAR, rel=1e-12)
    assert row["hours_per_event"] == pytest.approx(f["routed"] / f["n"], rel=1e-6)
    assert row["minutes_per_year"] == pytest.approx(f["request"], rel=1e-6)
    assert row["time_unavailability"] * MIN_PER_YEAR == pytest.approx(f["degraded"], rel=1e-6)
    # Nothing else is lost: the whole figure is the delay term (all four down is ~1e-14).
    assert exact.downtime_minutes_per_year == pytest.approx(f["request"], rel=1e-6)
    assert exact.downtime_minutes_per_year < f["lam"] * f["ed"] * MIN_PER_YEAR   # E[min(D, R)] < E[D]
    # retry: true: no detection term.
    assert not hasim.analyze(HC_POOL.replace({"services.api.retry": True}), cut_sets=False).delay_terms


@pytest.mark.parametrize("engine, replicas", engines(simpy=40, numba=4000))
def test_pool_request_loss_is_lambda_times_detection(engine, replicas):
    f = _pool_formula(HC_POOL)
    res = run(HC_POOL, engine, replicas, horizon=5 * HOURS_PER_YEAR, seed=3)
    sim = estimate(res, "downtime_minutes_per_year")
    tol = check("request loss", sim, f["request"], f["bound"] * f["request"])
    # Power: the same tolerance rejects E[D] computed without the "- 1" (35 s instead of 25 s).
    assert abs(sim[0] - f["no_minus_one"]) > tol
    check("time degraded", estimate(res, "degraded_fraction", MIN_PER_YEAR), f["degraded"],
          f["bound"] * f["degraded"])
    assert estimate(res, "down_fraction")[0] == 0.0
    # Stage: all of it is detection (a failed instance still routed).
    check("stage detection", stage(res, "detection"), f["request"], f["bound"] * f["request"])
    assert share(res, "detection") > 0.999


@pytest.mark.parametrize("engine, replicas", engines(simpy=10, numba=1000))
def test_pool_with_retry_loses_nothing(engine, replicas):
    res = run(HC_POOL.replace({"services.api.retry": True}), engine, replicas, horizon=5 * HOURS_PER_YEAR, seed=3)
    assert res.out.ra.min() > 1.0 - 1e-12 and res.out.degraded.max() < 1e-12
    assert res.out.loss.sum() < 1e-9


HC = {"interval": 0.1, "unhealthy_threshold": 3, "healthy_threshold": 2}
NEVER = {"failure": {"dist": "fixed", "value": 1000}, "repair": {"dist": "fixed", "value": 1}}


def _two_zone_pool(retry: bool) -> Scenario:
    # The instance in zone a is lost at 10 h for 5 h; the other never fails.
    return Scenario(name="t", entry="api", services={"api": {
        "replicas": 2, "zones": ["a", "b"], "failure": {"dist": "fixed", "value": 1000},
        "repair": {"dist": "fixed", "value": 1}, "health_check": HC, "retry": retry}},
        zones={"a": {"failure": {"dist": "fixed", "value": 10}, "repair": {"dist": "fixed", "value": 5}}, "b": NEVER})


@pytest.mark.parametrize("retry", [False, True])
@pytest.mark.parametrize("engine, replicas", engines(simpy=30, numba=3000))
def test_health_check_detection_between_bounds(engine, replicas, retry):
    # The LB removes the instance at its 3rd failed probe: after D in (0.2, 0.3] h, during which it
    # keeps its 1/2 share (lost unless retry).
    sc = _two_zone_pool(retry)
    res = run(sc, engine, replicas, horizon=20, seed=1)
    lost = (1 - res.out.ra) * 20
    if retry:
        assert np.all(lost < 1e-12)
        return
    assert np.all((lost > 0.5 * 0.2 - 1e-12) & (lost <= 0.5 * 0.3 + 1e-12))
    # D uniform on (0.2, 0.3]: mean 0.25, standard deviation 0.1 / sqrt(12).
    assert lost.mean() == pytest.approx(0.5 * 0.25, abs=SIGMAS * 0.5 * 0.1 / math.sqrt(12 * replicas))
    np.testing.assert_allclose(res.out.loss[:, res.labels.causes.index("zone a"), DETECTION], lost, rtol=1e-12)


# --- 2. DNS failover router ---------------------------------------------------------------------------------

DNS_VARIANTS = {
    "ttl300": {"ttl": "300s"},
    "ttl60-stale": {"ttl": "60s", "stale_fraction": 0.05, "stale_for": "15m"},
}


def _router(dns: dict) -> Scenario:
    return Scenario(name="router", entry="www", services={
        "www": {"route": "failover", "targets": ["primary", "dr"],
                "health_check": {"interval": "30s", "unhealthy_threshold": 3, "healthy_threshold": 3}, "dns": dns},
        "primary": {"failure": {"mtbf": "100h"}, "repair": {"dist": "fixed", "value": "2h"}},
        "dr": {"failure": {"dist": "fixed", "value": 1e9}, "repair": {"mttr": "1h"}},   # never fails
    })


def _router_formula(sc: Scenario) -> dict[str, float]:
    www, primary = sc.services["www"], sc.services["primary"]
    hc, dns = www.health_check, www.dns
    f, stale_for = dns.stale_fraction, (dns.stale_for if dns.stale_fraction > 0 else 0.0)
    span = max(dns.ttl, stale_for)
    rate = 1.0 / (primary.failure.mean_hours + primary.repair.mean_hours)       # primary failures per hour
    ed = hc.interval / 2 + (hc.unhealthy_threshold - 1) * hc.interval
    dns_loss = (1 - f) * dns.ttl / 2 + f * stale_for
    assert primary.repair.dist == "fixed" and primary.repair.mean_hours > hc.unhealthy_threshold * hc.interval + span
    return {
        "rate": rate, "ed": ed, "dns_loss": dns_loss, "span": span,
        "detection": rate * ed * MIN_PER_YEAR, "dns": rate * dns_loss * MIN_PER_YEAR,
        "request": rate * (ed + dns_loss) * MIN_PER_YEAR,
        "down": rate * ed * MIN_PER_YEAR, "not_full": rate * (ed + span) * MIN_PER_YEAR,
        "bound": (hc.healthy_threshold * hc.interval + span) / primary.failure.mean_hours,    # relative
    }


@pytest.mark.parametrize("variant", list(DNS_VARIANTS))
def test_router_formula_and_analyze_agree(variant):
    sc = _router(DNS_VARIANTS[variant])
    f = _router_formula(sc)
    assert f["ed"] == pytest.approx(75 * SECOND) and f["bound"] < 3e-3
    rows = delay_rows(hasim.analyze(sc, cut_sets=False))
    assert set(rows) == {"detection", "dns"}
    for name, per_event in (("detection", f["ed"]), ("dns", f["dns_loss"])):
        row = rows[name]
        assert row["service"] == "www"
        assert row["events_per_year"] == pytest.approx(f["rate"] * HOURS_PER_YEAR, rel=1e-6)
        assert row["hours_per_event"] == pytest.approx(per_event, rel=1e-9)
        assert row["minutes_per_year"] == pytest.approx(f[name], rel=1e-6)
    time_lost = sum(r["time_unavailability"] for r in rows.values()) * MIN_PER_YEAR
    assert time_lost == pytest.approx(f["not_full"], rel=1e-6)


@pytest.mark.parametrize("variant", list(DNS_VARIANTS))
@pytest.mark.parametrize("engine, replicas", engines(simpy=20, numba=1000))
def test_dns_failover_detection_plus_half_ttl(engine, replicas, variant):
    sc = _router(DNS_VARIANTS[variant])
    f = _router_formula(sc)
    res = run(sc, engine, replicas, horizon=5 * HOURS_PER_YEAR, seed=4)
    b = f["bound"]
    check("request loss", estimate(res, "downtime_minutes_per_year"), f["request"], b * f["request"])
    # Time: down while the router has not noticed, degraded while the clients move.
    check("time down", estimate(res, "down_fraction", MIN_PER_YEAR), f["down"], b * f["down"])
    check("time not fully up", mean_se((1 - res.out.ta) * MIN_PER_YEAR), f["not_full"], b * f["not_full"])
    # Stages: detection E[D], dns (1 - f) TTL/2 + f stale_for, nothing else.
    check("stage detection", stage(res, "detection"), f["detection"], b * f["detection"])
    check("stage dns", stage(res, "dns"), f["dns"], b * f["dns"])
    assert share(res, "detection") + share(res, "dns") == pytest.approx(1.0, abs=1e-12)


def _ramp(dns: dict) -> Scenario:
    # p fails at 10 h for 5 h; the router has no health check (it notices at once); d never fails.
    return Scenario(name="t", entry="www", services={
        "www": {"route": "failover", "targets": ["p", "d"], "dns": dns},
        "p": {"failure": {"dist": "fixed", "value": 10}, "repair": {"dist": "fixed", "value": 5}}, "d": NEVER})


def charged(res, cause: str, stage_index: int) -> float:
    """Lost request-hours of replica 0 charged to ``cause`` and stage."""
    return float(res.out.loss[0, res.labels.causes.index(cause), stage_index])


@pytest.mark.parametrize("engine, replicas", engines(simpy=1, numba=1))
def test_dns_ramp_loses_exactly_ttl_over_two(engine, replicas):
    res = run(_ramp({"ttl": 1}), engine, replicas, horizon=20, seed=0)
    out = res.out
    assert (1 - out.ra[0]) * 20 == pytest.approx(0.5, abs=1e-12)   # integral of the linear ramp
    assert out.degraded[0] * 20 == pytest.approx(1.0, abs=1e-12)   # 0 < s < 1 for the whole TTL
    assert out.down[0] == 0.0
    assert out.out_dur[0, 0] == pytest.approx(1.0, abs=1e-12)
    assert charged(res, "p", DNS) == pytest.approx(0.5, abs=1e-12)
    assert out.outages[0] == 1                                     # switching back at 15 h loses nothing


@pytest.mark.parametrize("engine, replicas", engines(simpy=1, numba=1))
def test_dns_stale_resolvers(engine, replicas):
    res = run(_ramp({"ttl": 1, "stale_fraction": 0.1, "stale_for": 2}), engine, replicas, horizon=20, seed=0)
    assert (1 - res.out.ra[0]) * 20 == pytest.approx(0.9 * 0.5 + 0.1 * 2, abs=1e-12)
    assert res.out.out_dur[0, 0] == pytest.approx(2.0, abs=1e-12)
    assert charged(res, "p", DNS) == pytest.approx(0.9 * 0.5 + 0.1 * 2, abs=1e-12)


# --- 3. cached dependency -----------------------------------------------------------------------------------

CACHED = hasim.load(SCENARIOS / "cached.yaml")


def _cache_formula(sc: Scenario, horizon: float) -> dict[str, float]:
    db, cat = sc.services["db"], sc.services["catalogue"]
    assert db.repair.dist == "exponential" and db.replicas == 1 and not db.zones
    m, ttl = db.repair.mean_hours, cat.cached[0].ttl
    rate = 1.0 / (db.failure.mean_hours + m)
    own = (cat.repair.mean_hours / (cat.failure.mean_hours + cat.repair.mean_hours)) ** cat.replicas
    shown = rate * m * math.exp(-ttl / m) * MIN_PER_YEAR
    return {"m": m, "ttl": ttl, "rate": rate, "shown": shown, "masked": m * (1 - math.exp(-ttl / m)),
            "bound": own * MIN_PER_YEAR + m / horizon * shown}                  # minutes per year


def test_cache_formula_and_analyze_agree():
    f = _cache_formula(CACHED, math.inf)
    assert f["m"] * math.exp(-f["ttl"] / f["m"]) * 60 == pytest.approx(21.5, abs=0.05)
    assert f["shown"] == pytest.approx(188.2, abs=0.05)
    exact = hasim.analyze(CACHED, cut_sets=False)
    rows = delay_rows(exact)
    assert set(rows) == {"stale-cache"}
    row = rows["stale-cache"]
    assert row["service"] == "catalogue"
    assert row["events_per_year"] == pytest.approx(f["rate"] * HOURS_PER_YEAR, rel=1e-6)
    assert row["hours_per_event"] == pytest.approx(-f["masked"], rel=1e-9)
    # What shows: the database's unavailability minus what the cache masks.
    assert exact.downtime_minutes_per_year == pytest.approx(f["shown"], rel=1e-6)


@pytest.mark.parametrize("engine, replicas", engines(simpy=40, numba=4000))
def test_cached_dependency_shows_m_exp_minus_ttl_over_m(engine, replicas):
    horizon = 50 * HOURS_PER_YEAR
    f = _cache_formula(CACHED, horizon)
    res = run(CACHED, engine, replicas, horizon=horizon, seed=5)
    sim = estimate(res, "downtime_minutes_per_year")
    check("visible loss", sim, f["shown"], f["bound"])
    check("stage stale-cache", stage(res, "stale-cache"), f["shown"], f["bound"])
    assert share(res, "stale-cache") > 0.999
    db = res.attribution.set_index("cause").loc["db", "downtime_minutes_per_year"]
    assert db == pytest.approx(sim[0], rel=1e-6)         # charged to the database's failures


def _cache_exact(repair: float) -> Scenario:
    return Scenario(name="t", entry="cat", services={
        "cat": {**NEVER, "cached": {"service": "db", "ttl": 2}},
        "db": {"failure": {"dist": "fixed", "value": 10}, "repair": {"dist": "fixed", "value": repair}}})


@pytest.mark.parametrize("engine, replicas", engines(simpy=1, numba=1))
def test_cache_masks_exactly_ttl(engine, replicas):
    res = run(_cache_exact(5), engine, replicas, horizon=20, seed=0)
    assert (1 - res.out.ra[0]) * 20 == pytest.approx(3.0, abs=1e-12)
    assert res.out.out_start[0, 0] == pytest.approx(12.0)
    assert charged(res, "db", STALE_CACHE) == pytest.approx(3.0, abs=1e-12)
    short = run(_cache_exact(1.5), engine, replicas, horizon=20, seed=0)
    assert short.out.ra[0] == 1.0 and short.out.outages[0] == 0


# --- 4. standby failover -----------------------------------------------------------------------------------

STANDBY = Scenario(name="standby-pair", entry="db", services={"db": {
    "mode": "standby", "replicas": 2, "failure": {"mtbf": "100h"}, "repair": {"mttr": "30m"},
    "failover": {"detection": "6m", "promotion": "9m"}}})


def _standby_formula(sc: Scenario) -> dict[str, float]:
    db = sc.services["db"]
    mtbf, mttr = db.failure.mean_hours, db.repair.mean_hours
    delay = db.failover.detection + db.failover.promotion
    q = mttr / (mtbf + mttr)
    rate = (1 - q) ** 2 / mtbf              # the active fails while both instances are up
    term = rate * delay * MIN_PER_YEAR
    return {"q": q, "rate": rate, "delay": delay, "term": term, "structural": q * q * MIN_PER_YEAR,
            "bound": term * (q + delay / mtbf)}


def test_standby_formula_and_analyze_agree():
    f = _standby_formula(STANDBY)
    assert f["bound"] < 0.0075 * f["term"]
    exact = hasim.analyze(STANDBY, cut_sets=False)
    rows = delay_rows(exact)
    assert set(rows) == {"failover"}
    row = rows["failover"]
    assert row["events_per_year"] == pytest.approx(f["rate"] * HOURS_PER_YEAR, rel=1e-9)
    assert row["hours_per_event"] == pytest.approx(f["delay"], rel=1e-12)
    assert row["minutes_per_year"] == pytest.approx(f["term"], rel=1e-9)
    assert (1 - exact.structural_request_availability) * MIN_PER_YEAR == pytest.approx(f["structural"], rel=1e-9)
    assert exact.downtime_minutes_per_year == pytest.approx(f["structural"] + f["term"], rel=1e-9)


@pytest.mark.parametrize("engine, replicas", engines(simpy=40, numba=4000))
def test_standby_detection_plus_promotion_first_order(engine, replicas):
    f = _standby_formula(STANDBY)
    res = run(STANDBY, engine, replicas, horizon=5 * HOURS_PER_YEAR, seed=3)
    want = f["structural"] + f["term"]
    check("downtime", estimate(res, "downtime_minutes_per_year"), want, f["bound"])
    # Stages: the failovers, and the rare both-down periods (repair).
    check("stage failover", stage(res, "failover"), f["term"], f["bound"])
    assert share(res, "failover") > 0.95
    assert set(res.stages.loc[res.stages.downtime_minutes_per_year > 0, "stage"]) <= {"failover", "repair"}


# --- 5. the pitfall "ignoring DNS TTL" ----------------------------------------------------------------------

TTL_PAIR = {ttl: hasim.load(SCENARIOS / f"dns-ttl-{ttl}.yaml") for ttl in ("300s", "30s")}


def _pair_bound(sc: Scenario, analysis) -> float:
    """Second-order bound (minutes per year) of the router's delay terms, see the module docstring."""
    www = sc.services["www"]
    hc, dns = www.health_check, www.dns
    pz, dz = sc.zones["primary-region"], sc.zones["dr-region"]
    f, ttl, stale_for, m = dns.stale_fraction, dns.ttl, dns.stale_for, pz.repair.mean_hours
    lo, hi = (hc.unhealthy_threshold - 1) * hc.interval, hc.unhealthy_threshold * hc.interval
    ed, ed2 = (lo + hi) / 2, (lo * lo + lo * hi + hi * hi) / 3
    # int t l(t) dt for one switch, averaged over D: D^2/2 + (1 - f)(TTL^2/6 + D TTL/2) + f (S^2/2 + D S)
    moment = ed2 / 2 + (1 - f) * (ttl**2 / 6 + ed * ttl / 2) + f * (stale_for**2 / 2 + ed * stale_for)
    rows = delay_rows(analysis)
    rate = rows["detection"]["events_per_year"]                  # switches per year
    zone_rate = HOURS_PER_YEAR / (pz.failure.mean_hours + pz.repair.mean_hours)
    loss = sum(r["hours_per_event"] for r in rows.values())      # first-order loss per switch, hours
    span = hi + max(ttl, stale_for) + hc.healthy_threshold * hc.interval
    q_dr = dz.repair.mean_hours / (dz.failure.mean_hours + dz.repair.mean_hours)
    cut_short = zone_rate * moment / m + max(0.0, rate - zone_rate) * loss   # region back early; short non-zone outages
    overlap = rate * loss * (q_dr + span * (1 / dz.failure.mean_hours + 1 / pz.failure.mean_hours))
    return (cut_short + overlap) * 60


def test_ttl_pair_analyze_figures():
    """The README's figures: 8.43 min/year at TTL 300 s (99.999 % missed), 4.02 at 30 s (met)."""
    a300, a30 = (hasim.analyze(TTL_PAIR[t], cut_sets=False) for t in ("300s", "30s"))
    assert a300.downtime_minutes_per_year == pytest.approx(8.43, abs=0.005)
    assert a30.downtime_minutes_per_year == pytest.approx(4.02, abs=0.005)
    assert a300.slo == a30.slo == 99.999
    assert a300.slo_margin_minutes_per_year < 0 < a30.slo_margin_minutes_per_year
    r300, r30 = delay_rows(a300), delay_rows(a30)
    assert r300["detection"] == r30["detection"]                 # the TTL only changes the dns term
    # Per switch: (1 - 0.02) TTL/2 + 0.02 * 15 min: 165 s and 32.7 s.
    assert r300["dns"]["hours_per_event"] == pytest.approx((0.98 * 150 + 0.02 * 900) * SECOND, rel=1e-12)
    assert r30["dns"]["hours_per_event"] == pytest.approx((0.98 * 15 + 0.02 * 900) * SECOND, rel=1e-12)
    assert r300["detection"]["events_per_year"] == pytest.approx(2.0, abs=0.005)
    saved = a300.downtime_minutes_per_year - a30.downtime_minutes_per_year
    assert saved == pytest.approx(r300["dns"]["minutes_per_year"] - r30["dns"]["minutes_per_year"], rel=1e-9)
    assert saved == pytest.approx(4.41, abs=0.005)
    assert _pair_bound(TTL_PAIR["300s"], a300) < 0.015 * 8.0 and _pair_bound(TTL_PAIR["30s"], a30) < 0.015 * 3.6


@pytest.mark.parametrize("engine, replicas", engines(simpy=40, numba=1500))
def test_ttl_pair_simulated(engine, replicas):
    """Both files with the same seed (the same region histories): totals, stages and the paired saving."""
    horizon = 30 * HOURS_PER_YEAR
    runs, lost = {}, {}
    for ttl, sc in TTL_PAIR.items():
        analysis = hasim.analyze(sc, cut_sets=False)
        rows, bound = delay_rows(analysis), _pair_bound(sc, analysis)
        res = runs[ttl] = run(sc, engine, replicas, horizon=horizon, seed=7)
        lost[ttl] = res.replicas["downtime_minutes_per_year"].to_numpy()
        check(f"TTL {ttl}: downtime", estimate(res, "downtime_minutes_per_year"),
              analysis.downtime_minutes_per_year, bound, power=False)
        check(f"TTL {ttl}: stage detection", stage(res, "detection"), rows["detection"]["minutes_per_year"],
              bound, power=False)
        check(f"TTL {ttl}: stage dns", stage(res, "dns"), rows["dns"]["minutes_per_year"], bound, power=False)
    a300, a30 = (hasim.analyze(TTL_PAIR[t], cut_sets=False) for t in ("300s", "30s"))
    diff = lost["300s"] - lost["30s"]
    check("saving of TTL 30 s", mean_se(diff),
          a300.downtime_minutes_per_year - a30.downtime_minutes_per_year,
          _pair_bound(TTL_PAIR["300s"], a300) + _pair_bound(TTL_PAIR["30s"], a30), power=False)
    # Time not fully up does not depend on the TTL: E[D] + max(TTL, stale_for) per switch at both.
    not_full = (runs["30s"].out.ta - runs["300s"].out.ta) * MIN_PER_YEAR
    check("time not fully up, 300 s - 30 s", mean_se(not_full), 0.0, 1e-9, power=False)
