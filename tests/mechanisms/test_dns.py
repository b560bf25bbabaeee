"""DNS behind a failover router (the ``dns`` stage): detection + TTL/2, stale resolvers, and the
pitfall "ignoring DNS TTL".

Closed forms and tolerances: :mod:`tests.mechanisms._closed_forms` (cases 2 and 5).
"""

from __future__ import annotations


import pytest

import hasim
from hasim import Scenario
from hasim.sim.kernel._output import DNS

from ..conftest import SCENARIOS
from ._closed_forms import (HOURS_PER_YEAR, MIN_PER_YEAR, SECOND, check, delay_rows, engines,
                            estimate, mean_se, run, share, stage, NEVER, charged)


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

