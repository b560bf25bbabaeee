"""The exact solver against published figures, hand-solved chains and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pathlib import Path

from hasim import Dns, Exponential, Scenario, Service, Weibull, Zone, load, loads
from hasim.analytic.analysis import analyze
from hasim.analytic.exact import instance_availability, nines


SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def ra(text: str) -> float:
    return analyze(loads(text)).request_availability


def svc(name, mtbf, mttr, **kw) -> Service:
    return Service(name=name, failure=Exponential(mean=mtbf), repair=Exponential(mean=mttr), **kw)


# --- published figures -------------------------------------------------------------------


def test_ebeling_example_11_3_series_and_parallel():
    # lambda = 0.1/h, mu = 0.2/h.
    series = loads("entry: a\nservices:\n  a: {mtbf: 10h, mttr: 5h, requires: [b]}\n  b: {mtbf: 10h, mttr: 5h}")
    parallel = loads("entry: a\nservices:\n  a: {mtbf: 10h, mttr: 5h, replicas: 2}")
    assert analyze(series).request_availability == pytest.approx(0.4444, abs=5e-5)
    assert analyze(parallel).request_availability == pytest.approx(0.8889, abs=5e-5)
    assert analyze(series).exact and analyze(parallel).exact


def test_azure_composite_sla():
    a = analyze(loads("entry: web\nservices:\n  web: {mtbf: 1999h, mttr: 1h, requires: [sql]}\n"
                      "  sql: {mtbf: 9999h, mttr: 1h}"))
    assert a.request_availability == pytest.approx(0.9995 * 0.9999, rel=1e-12)
    assert round(100 * a.request_availability, 2) == 99.94


def test_two_of_three():
    a = analyze(loads("entry: p\nservices:\n  p: {mtbf: 1000h, mttr: 10h, replicas: 3, min_healthy: 2}"))
    assert a.time_availability == pytest.approx(0.9997079, abs=5e-8)
    av = 1000 / 1010
    # Request availability: E[min(1, H/2)] with H binomial(3, av).
    expected = av**3 + 3 * av**2 * (1 - av) + 3 * av * (1 - av) ** 2 * 0.5
    assert a.request_availability == pytest.approx(expected, rel=1e-13)


def test_cold_standby_pair_against_hand_solved_chain():
    lam, mu = 0.1, 0.2
    # Generator over failed units 0, 1, 2 (only the active unit fails; independent repairs).
    q = np.array([[-lam, lam, 0.0], [mu, -(mu + lam), lam], [0.0, 2 * mu, -2 * mu]])
    a_mat = np.vstack([q.T, np.ones(3)])
    pi = np.linalg.lstsq(a_mat, np.r_[0.0, 0.0, 0.0, 1.0], rcond=None)[0]
    a = analyze(loads("entry: db\nservices:\n  db: {mtbf: 10h, mttr: 5h, replicas: 2, mode: standby, "
                      "standby: cold}"))
    assert a.request_availability == pytest.approx(1 - pi[2], rel=1e-12)
    assert a.request_availability == pytest.approx(12 / 13, rel=1e-12)


def test_warm_standby_between_cold_and_hot():
    base = "entry: db\nservices:\n  db: {{mtbf: 10h, mttr: 5h, replicas: 3, mode: standby, standby: {s}{x}}}"
    cold, hot = ra(base.format(s="cold", x="")), ra(base.format(s="hot", x=""))
    warm = ra(base.format(s="warm", x=", warm_factor: 0.3"))
    assert hot < warm < cold
    assert hot == pytest.approx(1 - (1 / 3) ** 3, rel=1e-12)
    # warm_factor 1 is hot.
    assert ra(base.format(s="warm", x=", warm_factor: 1")) == pytest.approx(hot, rel=1e-12)


def test_diamond_dependency_counts_the_shared_service_once():
    a = ra("entry: a\nservices:\n  a: {mtbf: 100h, mttr: 1h, requires: [b, c]}\n"
           "  b: {mtbf: 100h, mttr: 1h, requires: [d]}\n  c: {mtbf: 100h, mttr: 1h, requires: [d]}\n"
           "  d: {mtbf: 100h, mttr: 1h}")
    av = 100 / 101
    assert a == pytest.approx(av**4, rel=1e-13)
    assert abs(a - av**5) > 1e-3  # multiplying the paths' availabilities would count d twice


def test_diamond_with_degraded_shared_pool():
    # d is a 2-of-2 pool; a request calls d through b and through c (two calls).
    a = ra("entry: a\nservices:\n  a: {mtbf: 1e9h, mttr: 1h, requires: [b, c]}\n"
           "  b: {mtbf: 1e9h, mttr: 1h, requires: [d]}\n  c: {mtbf: 1e9h, mttr: 1h, requires: [d]}\n"
           "  d: {mtbf: 9h, mttr: 1h, replicas: 2, min_healthy: 2}")
    av, tiny = 0.9, 1 / (1e9 + 1)
    e_s2 = av**2 * 1 + 2 * av * (1 - av) * 0.25  # E[s_d^2]: s_d in {0, 1/2, 1}
    assert a == pytest.approx(e_s2 * (1 - tiny) ** 3, rel=1e-9)


def test_nested_zones_by_conditioning():
    sc = load(SCENARIOS / "zones.yaml")
    region, zone, inst = 17520 / 17526, 8760 / 8762, 500 / 502
    expected = region * (1 - (1 - zone * inst) ** 2)
    a = analyze(sc)
    assert a.request_availability == pytest.approx(expected, rel=1e-13)
    assert a.exact
    assert [c.components for c in a.cut_sets if c.order == 1] == [["zone region"]]


def test_one_instance_any_distribution_pair():
    sc = Scenario(name="w", entry="x", services=[Service(
        name="x", failure=Weibull(shape=0.7, mean="300h"), repair={"dist": "lognormal", "median": 2, "sigma": 1.2})])
    mttr = math.exp(math.log(2) + 0.5 * 1.2**2)
    assert analyze(sc).request_availability == pytest.approx(300 / (300 + mttr), rel=1e-12)


def test_shards_are_the_mean_over_independent_copies():
    a = analyze(loads("entry: s\nservices:\n  s: {mtbf: 9h, mttr: 1h, shards: 4}"))
    assert a.request_availability == pytest.approx(0.9, rel=1e-12)
    assert a.time_availability == pytest.approx(0.9**4, rel=1e-12)
    assert a.down_probability == pytest.approx(0.1**4, rel=1e-9)


def test_quorum_is_a_strict_majority():
    for n, need in ((3, 2), (4, 3), (5, 3)):
        a = ra(f"entry: q\nservices:\n  q: {{mtbf: 9h, mttr: 1h, replicas: {n}, mode: quorum}}")
        expected = sum(math.comb(n, h) * 0.9**h * 0.1 ** (n - h) for h in range(need, n + 1))
        assert a == pytest.approx(expected, rel=1e-12)


def test_failover_router_instant_switching():
    a = ra("entry: r\nservices:\n  r: {route: failover, targets: [p, q]}\n"
           "  p: {mtbf: 9h, mttr: 1h}\n  q: {mtbf: 4h, mttr: 1h}")
    assert a == pytest.approx(1 - 0.1 * 0.2, rel=1e-12)


def test_weighted_router_spreads_over_live_targets():
    # Targets are 2-of-2 pools: a degraded target still receives its share.
    a = analyze(loads("entry: r\nservices:\n  r: {route: weighted, targets: [p, q], weights: [3, 1]}\n"
                      "  p: {mtbf: 9h, mttr: 1h, replicas: 2, min_healthy: 2}\n  q: {mtbf: 9h, mttr: 1h}"))
    law_p = {1.0: 0.81, 0.5: 0.18, 0.0: 0.01}
    law_q = {1.0: 0.9, 0.0: 0.1}
    expected = 0.0
    for vp, pp in law_p.items():
        for vq, pq in law_q.items():
            live = [(w, v) for w, v in ((3, vp), (1, vq)) if v > 0]
            tot = sum(w for w, _ in live)
            expected += pp * pq * (sum(w * v for w, v in live) / tot if tot else 0.0)
    assert a.request_availability == pytest.approx(expected, rel=1e-12)


# --- first-order delay terms ----------------------------------------------------------------


def test_standby_failover_delay_first_order():
    text = ("entry: db\nservices:\n  db: {mtbf: 1000h, mttr: 10h, replicas: 2, mode: standby, "
            "failover: {detection: 30s, promotion: 90s}}")
    a = analyze(loads(text))
    av = 1000 / 1010
    structural = 1 - (1 - av) ** 2
    per_failure = 120 / 3600
    # The active fails at 1/MTTF while it is up (av) and a healthy standby is there (av).
    expected = structural - (1 / 1000) * av * av * per_failure
    assert not a.exact
    assert a.request_availability == pytest.approx(expected, rel=1e-12)


def test_failed_promotion_waits_for_manual_or_repair():
    text = ("entry: db\nservices:\n  db: {mtbf: 1000h, mttr: 2h, replicas: 2, mode: standby, "
            "failover: {detection: 0s, promotion: 0s, success: 0.5, manual: 1h}}")
    a = analyze(loads(text))
    term = next(t for t in a.delay_terms if "fails" in t.description)
    # E[min(manual, R)] with R exponential(2 h): 2 (1 - exp(-1/2)).
    assert term.hours_per_event == pytest.approx(2 * (1 - math.exp(-0.5)), rel=1e-9)


def test_health_check_detection_first_order():
    a = analyze(load(SCENARIOS / "health-check.yaml"))
    lam, mttr = 1 / 720, 10 / 60
    # D = interval/2 on average + (threshold - 1) * interval, but a repair ends the loss first:
    # E[min(D, R)] for exponential R and D uniform on [20 s, 30 s].
    d = np.linspace(20, 30, 200001) / 3600
    e_min = float(np.mean(mttr * (1 - np.exp(-d / mttr))))
    assert e_min < (5 + 20) / 3600
    assert 1 - a.request_availability == pytest.approx(lam * e_min, rel=1e-3)
    assert a.structural_time_availability - a.time_availability == pytest.approx(4 * lam * e_min, rel=1e-3)
    retry = loads((SCENARIOS / "health-check.yaml").read_text().replace("health_check:", "retry: true\n    "
                                                                      "health_check:"))
    assert not [t for t in analyze(retry).delay_terms if t.stage == "detection"]


def test_dns_failover_detection_plus_half_the_ttl():
    sc = load(SCENARIOS / "dns-failover.yaml")
    a = analyze(sc)
    per_event = {t.stage: t.hours_per_event for t in a.delay_terms}
    assert per_event["detection"] == pytest.approx(75 / 3600, rel=1e-6)
    assert per_event["dns"] == pytest.approx(150 / 3600, rel=1e-9)
    faster = analyze(sc.model_copy(update={"services": {
        **sc.services, "www": sc.services["www"].model_copy(update={"dns": Dns(ttl="30s")})}}))
    assert faster.request_availability > a.request_availability


def test_cached_dependency_masks_the_first_ttl_of_each_outage():
    a = analyze(load(SCENARIOS / "cached.yaml"))
    m, ttl = 0.5, 10 / 60
    db_unavailability = 0.5 / 1000.5
    visible = db_unavailability * math.exp(-ttl / m)
    catalogue_u = (5 / 60 / (2000 + 5 / 60)) ** 3
    assert 1 - a.request_availability == pytest.approx(visible + catalogue_u, rel=1e-6)


# --- cut sets --------------------------------------------------------------------------------


def test_single_points_of_failure_and_pairs():
    a = analyze(loads("entry: lb\nservices:\n  lb: {mtbf: 1000h, mttr: 1h, requires: [api, db]}\n"
                      "  api: {mtbf: 1000h, mttr: 1h, replicas: 3, min_healthy: 2}\n"
                      "  db: {mtbf: 1000h, mttr: 1h, replicas: 2, mode: standby}"))
    singles = [c.components for c in a.cut_sets if c.order == 1]
    pairs = {tuple(c.components): c for c in a.cut_sets if c.order == 2}
    assert singles == [["lb[0]"]]
    assert pairs[("db[0]", "db[1]")].count == 1
    # Losing 2 of 3 api instances leaves it degraded, not down: not a cut set.
    assert not [p for p in pairs if p[0].startswith("api")]
    q = 1 / 1001
    assert pairs[("db[0]", "db[1]")].probability == pytest.approx(q * q, rel=1e-12)


def test_symmetric_pairs_are_counted():
    a = analyze(loads("entry: q\nservices:\n  q: {mtbf: 1000h, mttr: 1h, replicas: 3, mode: quorum}"))
    (pair,) = [c for c in a.cut_sets if c.order == 2]
    assert pair.count == 3


# --- properties --------------------------------------------------------------------------------

durations = st.floats(min_value=0.5, max_value=5000.0)


@settings(max_examples=40, deadline=None)
@given(mtbf=durations, mttr=st.floats(min_value=0.01, max_value=100.0), n=st.integers(1, 5),
       k=st.integers(1, 5), mode=st.sampled_from(["active", "standby", "quorum"]))
def test_an_extra_replica_never_lowers_availability(mtbf, mttr, n, k, mode):
    k = min(k, n)
    if mode == "standby" and n < 2:
        n = 2

    def avail(replicas):
        kw = {"min_healthy": k} if mode == "active" else {}
        return analyze(Scenario(name="p", entry="p", services=[
            svc("p", mtbf, mttr, replicas=replicas, mode=mode, **kw)]), cut_sets=False)

    a, b = avail(n), avail(n + 1)
    if mode == "quorum" and n % 2 == 1:
        # Going from an odd to an even group raises the majority needed: no promise there.
        return
    assert b.request_availability >= a.request_availability - 1e-12


@settings(max_examples=40, deadline=None)
@given(params=st.lists(st.tuples(durations, st.floats(min_value=0.01, max_value=100.0),
                                 st.integers(1, 3)), min_size=1, max_size=4))
def test_a_chain_is_no_more_available_than_its_weakest_link(params):
    services = []
    for i, (mtbf, mttr, n) in enumerate(params):
        deps = [f"s{i + 1}"] if i + 1 < len(params) else []
        services.append(svc(f"s{i}", mtbf, mttr, replicas=n, requires=deps))
    sc = Scenario(name="chain", entry="s0", services=services)
    a = analyze(sc, cut_sets=False)
    weakest = min(s["request_availability"] for s in a.services)
    links = [analyze(Scenario(name="one", entry="x", services=[
        svc("x", m, r, replicas=n)]), cut_sets=False).request_availability for m, r, n in params]
    assert a.request_availability <= min(links) + 1e-12
    assert a.request_availability <= weakest + 1e-12


@settings(max_examples=30, deadline=None)
@given(mtbf=durations, mttr=st.floats(min_value=0.01, max_value=100.0), n=st.integers(1, 4),
       zmtbf=durations, zmttr=st.floats(min_value=0.01, max_value=100.0))
def test_adding_a_zone_outage_never_raises_availability(mtbf, mttr, n, zmtbf, zmttr):
    plain = Scenario(name="z", entry="x", services=[svc("x", mtbf, mttr, replicas=n)])
    zoned = Scenario(name="z", entry="x", zones=[Zone(name="az", failure={"mtbf": zmtbf}, repair={"mttr": zmttr})],
                     services=[svc("x", mtbf, mttr, replicas=n, zones=["az"])])
    assert analyze(zoned, cut_sets=False).request_availability <= \
        analyze(plain, cut_sets=False).request_availability + 1e-12


def test_nines_and_tiers():
    assert nines(0.999) == pytest.approx(3.0)
    assert math.isinf(nines(1.0))
    a = analyze(loads("entry: x\nslo: 99.95\nservices:\n  x: {mtbf: 1999h, mttr: 1h}"))
    assert [t["met"] for t in a.tiers] == [True, True, False, False]
    assert [t["allowed_minutes_per_year"] for t in a.tiers] == [5256.0, 525.6, 52.56, 5.256]
    assert a.slo_margin_minutes_per_year == pytest.approx(0.0, abs=1e-6)
    assert instance_availability(loads("entry: x\nservices:\n  x: {mtbf: 3h, mttr: 1h}").services["x"]) == 0.75


def test_results_are_dataframes(scenarios_dir):
    a = analyze(load(scenarios_dir / "ha-rest-api.yaml"))
    summary = a.summary.set_index("metric")["value"]
    assert summary["request_availability"] == a.request_availability
    assert a.delays["minutes_per_year"].sum() == pytest.approx(
        (a.structural_request_availability - a.request_availability) * 525600, rel=1e-9)
    assert list(a.cuts.columns) == ["order", "components", "count", "probability", "share"]
    assert "ha-rest-api" in repr(a)
