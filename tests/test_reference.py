"""The SimPy reference engine: hand-solved cases, the exact solver, the first-order delay terms.

1. Semantics with deterministic laws (``dist: fixed``), where the answer is
   known by hand to the last bit: failover timing, a standby failing during
   promotion, a failed promotion, failover.requires, elections, nested-zone
   clock suspension, warm standbys, DNS ramps, cache masking, health-check
   detection, windows, outage records and the attribution of each lost hour
   to a root cause and a stage.
2. Steady state against :func:`hasim.analytic.analyze` for the teaching
   scenarios without delays: within 4 standard errors, and with power (a 20 %
   error in the dominant MTTR would lie beyond 4 SE), except zones.yaml whose
   answer is dominated by region outages too rare for a short run to resolve.
3. Each first-order delay term of the README within 4 SE plus its own
   documented second-order error.
4. Invariants (the loss table sums to the lost request-hours, time splits
   into full / degraded / down, ...) on random scenarios with every construct.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import hasim
from hasim import Scenario
from hasim._output import CAPACITY, DETECTION, DNS, FAILOVER, REPAIR, STAGES, STALE_CACHE, ZONE, cause_labels
from hasim.analytic import analyze
from hasim.reference import simulate_reference, trace

from .conftest import SCENARIOS
from .test_cross_engine import scenarios

SIGMAS = 4.0


def fixed(v: float) -> dict:
    return {"dist": "fixed", "value": v}


def one(services: dict, entry: str, zones: dict | None = None, horizon: float = 20.0, **kw):
    """One replica of a deterministic scenario: (output arrays, scenario)."""
    sc = Scenario(name="t", entry=entry, services=services, zones=zones or {}, **kw)
    out, info = simulate_reference(sc, replicas=1, horizon=horizon, seed=0)
    return out, sc


def lost_hours(out) -> float:
    return (1.0 - out.ra[0]) * 20.0


def charged(out, sc, cause: str, stage: int) -> float:
    """Lost request-hours charged to ``cause`` and ``stage`` (replica 0)."""
    names, _ = cause_labels(sc)
    return float(out.loss[0, names.index(cause), stage])


# --- 1. semantics, by hand ---------------------------------------------------------------------------

# A cold standby pair: the active fails at t = 10 h (the idle cold standby never ages).
STANDBY = {"mode": "standby", "standby": "cold", "replicas": 2, "failure": fixed(10), "repair": fixed(100),
           "failover": {"detection": 1, "promotion": 1}}
NEVER = {"failure": fixed(1000), "repair": fixed(1)}


def test_standby_detection_plus_promotion_exactly():
    out, sc = one({"db": STANDBY}, "db")
    assert lost_hours(out) == pytest.approx(2.0, abs=1e-12)
    assert out.out_start[0, 0] == 10.0 and out.out_dur[0, 0] == pytest.approx(2.0, abs=1e-12)
    assert out.outages[0] == 1 and out.down[0] == pytest.approx(0.1)
    assert charged(out, sc, "db", FAILOVER) == pytest.approx(2.0, abs=1e-12)
    assert out.loss[0].sum() == pytest.approx(2.0, abs=1e-12)


def test_standby_failing_during_promotion_waits_for_the_first_back():
    # The standby's zone b fails at 11 h (during the promotion, 11-12 h) and is back at 16 h.
    out, _ = one({"db": {**STANDBY, "zones": ["a", "b"]}}, "db",
                 zones={"a": NEVER, "b": {"failure": fixed(11), "repair": fixed(5)}})
    assert lost_hours(out) == pytest.approx(6.0, abs=1e-12)


def test_failed_promotion_waits_for_manual():
    fo = {"detection": 1, "promotion": 1, "success": 0.0, "manual": 3}
    out, _ = one({"db": {**STANDBY, "failover": fo}}, "db")
    assert lost_hours(out) == pytest.approx(5.0, abs=1e-12)      # 10 + 2 + manual 3


def test_failed_promotion_ends_when_an_instance_comes_back_first():
    fo = {"detection": 1, "promotion": 1, "success": 0.0, "manual": 3}
    out, _ = one({"db": {**STANDBY, "repair": fixed(4), "failover": fo}}, "db")
    assert lost_hours(out) == pytest.approx(4.0, abs=1e-12)      # repaired at 14 < 15


def test_failover_requires_down_makes_the_promotion_wait():
    fo = {"detection": 1, "promotion": 1, "requires": ["sentinel"]}
    out, sc = one({"db": {**STANDBY, "failover": fo}, "sentinel": {"failure": fixed(9), "repair": fixed(5)}}, "db")
    # detection ends at 11 h, the sentinel is back at 14 h, promotion until 15 h.
    assert lost_hours(out) == pytest.approx(5.0, abs=1e-12)
    assert charged(out, sc, "db", FAILOVER) == pytest.approx(5.0, abs=1e-12)


def test_no_standby_available_the_first_back_becomes_active_at_once():
    svc = {**STANDBY, "standby": "hot", "repair": fixed(3)}        # both fail at 10 h, both back at 13 h
    out, _ = one({"db": svc}, "db")
    assert lost_hours(out) == pytest.approx(3.0 + 0.0, abs=1e-12)  # no detection / promotion after a return


def test_warm_standby_ages_at_warm_factor():
    svc = {**STANDBY, "standby": "warm", "warm_factor": 0.5, "failover": {"detection": 0, "promotion": 0}}
    out, _ = one({"db": svc}, "db")
    # At 10 h the standby has aged 5 h of its 10 h: promoted at once, it fails at 15 h (repair 100 h).
    assert lost_hours(out) == pytest.approx(5.0, abs=1e-12)


QUORUM = {"mode": "quorum", "replicas": 3, "failure": fixed(1000), "repair": fixed(1),
          "failover": {"detection": 0.5, "promotion": 0.5}}


@pytest.mark.parametrize("placement, lost", [
    (["a", "b", "b"], 1.0),   # the leader's zone fails, a majority remains: one election
    (["b", "a", "b"], 0.0),   # a follower's zone fails: nothing
    (["a", "b", "a"], 5.0),   # two of three in the zone: no majority until it is back, then elected at once
])
def test_quorum_elections(placement, lost):
    out, _ = one({"q": {**QUORUM, "zones": placement}}, "q",
                 zones={"a": {"failure": fixed(10), "repair": fixed(5)}, "b": NEVER})
    assert lost_hours(out) == pytest.approx(lost, abs=1e-12)


def test_nested_zone_suspends_the_instance_clock():
    # The region is down 4-7, 11-14, 18-21 h: the instance's 10 h life ends at 16 h, not 10 h.
    out, sc = one({"w": {"failure": fixed(10), "repair": fixed(1), "zones": ["az"]}}, "w",
                  zones={"region": {"failure": fixed(4), "repair": fixed(3)},
                         "az": {**NEVER, "within": "region"}})
    assert lost_hours(out) == pytest.approx(3 + 3 + 2 + 1, abs=1e-12)
    np.testing.assert_allclose(out.out_start[0, :4], [4, 11, 16, 18])
    assert charged(out, sc, "zone region", ZONE) == pytest.approx(8.0, abs=1e-12)
    assert charged(out, sc, "w", REPAIR) == pytest.approx(1.0, abs=1e-12)
    log = trace(sc, horizon=20)
    assert list(log.loc[log.component == "w[0]", "time_h"]) == [16.0, 17.0]


ROUTER = {"www": {"route": "failover", "targets": ["p", "d"]},
          "p": {"failure": fixed(10), "repair": fixed(5)}, "d": NEVER}


def test_dns_ramp_loses_exactly_ttl_over_two():
    svcs = {**ROUTER, "www": {**ROUTER["www"], "dns": {"ttl": 1}}}
    out, sc = one(svcs, "www")
    assert lost_hours(out) == pytest.approx(0.5, abs=1e-12)        # integral of the linear ramp
    assert out.degraded[0] * 20 == pytest.approx(1.0, abs=1e-12)   # 0 < s < 1 for the whole TTL
    assert out.down[0] == 0.0
    assert out.out_dur[0, 0] == pytest.approx(1.0, abs=1e-12)
    assert charged(out, sc, "p", DNS) == pytest.approx(0.5, abs=1e-12)
    # Switching back at 15 h (both targets serve 1) loses nothing.
    assert out.outages[0] == 1


def test_dns_stale_resolvers():
    svcs = {**ROUTER, "www": {**ROUTER["www"], "dns": {"ttl": 1, "stale_fraction": 0.1, "stale_for": 2}}}
    out, _ = one(svcs, "www")
    assert lost_hours(out) == pytest.approx(0.9 * 0.5 + 0.1 * 2, abs=1e-12)
    assert out.out_dur[0, 0] == pytest.approx(2.0, abs=1e-12)


def test_dns_change_during_a_ramp_starts_from_the_current_mixture():
    # d fails at 10.5 h (mid-ramp, clients 50/50): the router answers p again... which is down too,
    # so it sees no target up and answers its first (p).  Everyone is lost until p is back at 15 h.
    svcs = {**ROUTER, "www": {**ROUTER["www"], "dns": {"ttl": 1}},
            "d": {"failure": fixed(10.5), "repair": fixed(1)}}
    out, _ = one(svcs, "www")
    # 10-10.5: half the ramp (area 0.5 - 0.125); 10.5-11.5: d down, everything lost; 11.5: d back,
    # the router answers d again, ramp of 1 h from all-on-p: 0.5 more.
    assert lost_hours(out) == pytest.approx(0.375 + 1.0 + 0.5, abs=1e-12)


def test_weighted_router_spreads_over_healthy_targets():
    svcs = {"lb": {"route": "weighted", "targets": ["a", "b"], "weights": [3, 1]},
            "a": {"replicas": 2, "min_healthy": 2, "zones": ["z", "y"], "failure": fixed(1000), "repair": fixed(1)},
            "b": NEVER}
    out, _ = one(svcs, "lb", zones={"z": {"failure": fixed(10), "repair": fixed(4)}, "y": NEVER})
    # a degraded to 1/2 (still up for the router): s = (3 * 0.5 + 1 * 1) / 4 for 4 h.
    assert lost_hours(out) == pytest.approx(4 * (1 - 2.5 / 4), abs=1e-12)


def test_cache_masks_exactly_ttl():
    svcs = {"cat": {**NEVER, "cached": {"service": "db", "ttl": 2}}, "db": {"failure": fixed(10), "repair": fixed(5)}}
    out, sc = one(svcs, "cat")
    assert lost_hours(out) == pytest.approx(3.0, abs=1e-12)
    assert out.out_start[0, 0] == pytest.approx(12.0)
    assert charged(out, sc, "db", STALE_CACHE) == pytest.approx(3.0, abs=1e-12)
    short = {**svcs, "db": {"failure": fixed(10), "repair": fixed(1.5)}}
    out, _ = one(short, "cat")
    assert out.ra[0] == 1.0 and out.outages[0] == 0


def test_optional_dependency_is_reported_not_counted():
    out, sc = one({"web": {**NEVER, "optional": ["search"]}, "search": {"failure": fixed(10), "repair": fixed(5)}},
                  "web")
    assert out.ra[0] == 1.0
    services = sc.topological_order()
    assert out.svc_ra[0, services.index("search")] == pytest.approx(15 / 20)


def test_capacity_stage_and_shards():
    svcs = {"kv": {"replicas": 2, "min_healthy": 2, "shards": 2, "zones": ["a", "b"],
                   "failure": fixed(1000), "repair": fixed(1)}}
    out, sc = one(svcs, "kv", zones={"a": {"failure": fixed(10), "repair": fixed(2)}, "b": NEVER})
    # Both shards lose their instance in zone a: each serves 1/2 for 2 h.  Stage: the zone (above capacity).
    assert lost_hours(out) == pytest.approx(1.0, abs=1e-12)
    assert charged(out, sc, "zone a", ZONE) == pytest.approx(1.0, abs=1e-12)
    out, sc = one({"kv": {**svcs["kv"], "zones": [], "failure": fixed(10), "repair": fixed(2), "replicas": 3}}, "kv")
    # All instances fail together (fixed laws): nothing left, stage repair.
    assert charged(out, sc, "kv", REPAIR) == pytest.approx(2.0, abs=1e-12)
    assert CAPACITY == STAGES.index("capacity")


def test_windows_and_breaches():
    out, _ = one({"db": STANDBY}, "db", window=5.0, slo=95.0)
    # Windows 0-5, 5-10, 10-15, 15-20: the 2 h failover falls in the third (availability 0.6).
    np.testing.assert_allclose(out.win[0], [1.0, 1.0, 0.6, 1.0])
    assert out.breaches[0] == 1 and out.worst[0] == pytest.approx(0.6)


HC = {"interval": 0.1, "unhealthy_threshold": 3, "healthy_threshold": 2}


@pytest.mark.parametrize("retry", [False, True])
def test_health_check_detection_between_bounds(retry):
    # The instance in zone a fails at 10 h for 5 h; the LB removes it at its 3rd failed probe:
    # after D in (0.2, 0.3] h, during which it keeps its 1/2 share (lost unless retry).
    svcs = {"api": {"replicas": 2, "zones": ["a", "b"], "failure": fixed(1000), "repair": fixed(1),
                    "health_check": HC, "retry": retry}}
    zones = {"a": {"failure": fixed(10), "repair": fixed(5)}, "b": NEVER}
    sc = Scenario(name="t", entry="api", services=svcs, zones=zones)
    out, _ = simulate_reference(sc, replicas=30, horizon=20, seed=1)
    lost = (1 - out.ra) * 20
    if retry:
        assert np.all(lost == 0.0)
        return
    assert np.all((lost > 0.5 * 0.2 - 1e-12) & (lost <= 0.5 * 0.3 + 1e-12))
    assert lost.mean() == pytest.approx(0.5 * 0.25, abs=0.5 * 0.1 / math.sqrt(12 * 30) * SIGMAS)
    names, _ = cause_labels(sc)
    np.testing.assert_allclose(out.loss[:, names.index("zone a"), DETECTION], lost, rtol=1e-12)


def test_trace_and_reproducibility():
    sc = hasim.load(SCENARIOS / "ha-rest-api.yaml")
    a, info = simulate_reference(sc, replicas=3, horizon=2000, seed=5)
    b, _ = simulate_reference(sc, replicas=3, horizon=2000, seed=5)
    c, _ = simulate_reference(sc, replicas=3, horizon=2000, seed=6)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.events, c.events)
    assert {"events", "elapsed_seconds", "replicas", "seed", "horizon", "window", "n_windows",
            "threshold"} <= set(info)
    assert info["threshold"] == pytest.approx(0.9999) and info["events"] == int(a.events.sum())
    log = trace(sc, replica=1, seed=5, horizon=2000)
    assert list(log.columns) == ["time_h", "component", "event", "served"]
    assert log.time_h.is_monotonic_increasing and log.served.between(0, 1).all()


# --- 2. steady state against the exact solver ---------------------------------------------------------


def with_mttr(sc: Scenario, name: str, factor: float) -> Scenario:
    svc = sc.services[name]
    return sc.model_copy(update={"services": {**sc.services, name: svc.model_copy(
        update={"repair": svc.repair.scaled(factor)})}})


def _quorum_instant() -> Scenario:
    sc = hasim.load(SCENARIOS / "quorum.yaml")
    return sc.model_copy(update={"services": {"etcd": sc.services["etcd"].model_copy(update={"failover": None})}})


# (scenario, service whose MTTR the power check perturbs or None, replicas, horizon hours)
STEADY = {
    "k-of-n.yaml": ("api", 40, 2e5),
    "standby.yaml": ("db", 40, 2000),
    "quorum (instant election)": ("etcd", 40, 5e5),
    "zones.yaml": (None, 40, 2e5),        # dominated by rare region outages: no power at this size
    "composite-sla.toml": ("web", 40, 2e5),
    "ebeling.yaml": ("series", 40, 3000),
}


@pytest.mark.parametrize("name", list(STEADY))
def test_steady_state_against_the_exact_solver(name):
    perturb, replicas, horizon = STEADY[name]
    sc = _quorum_instant() if name.startswith("quorum") else hasim.load(SCENARIOS / name)
    out, _ = simulate_reference(sc, replicas=replicas, horizon=horizon, seed=11)
    exact = analyze(sc, cut_sets=False)
    assert exact.exact
    wrong = analyze(with_mttr(sc, perturb, 1.2), cut_sets=False) if perturb else None
    for metric, values in (("request_availability", out.ra), ("time_availability", out.ta)):
        mean, se = values.mean(), values.std(ddof=1) / math.sqrt(replicas)
        want = getattr(exact, metric)
        assert se > 0
        assert abs(mean - want) <= SIGMAS * se, f"{metric}: {mean:.8f} +- {se:.1e} vs exact {want:.8f}"
        if wrong is not None:
            assert abs(getattr(wrong, metric) - want) > SIGMAS * se, f"{metric}: no power"


# --- 3. first-order delay terms ---------------------------------------------------------------------


def _minutes(values: np.ndarray) -> tuple[float, float]:
    """Mean and SE of (1 - ra) in minutes per year."""
    x = (1.0 - values) * 525600.0
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def test_health_check_request_loss_is_lambda_times_detection():
    """health-check.yaml: request loss = (n lambda) (1/n) E[D] = lambda E[D], E[D] = I/2 + (U - 1) I.

    Second order (documented): an instance repaired before it is removed loses
    only min(D, repair): E[D] - E[min(D, R)] ~ E[D^2] / (2 MTTR) per failure for
    exponential repairs (2.1 % here); two instances failed at once add their
    shares (no correction).  Time degraded = n lambda E[D] with the same
    correction.
    """
    sc = hasim.load(SCENARIOS / "health-check.yaml")
    svc = sc.services["api"]
    hc, n = svc.health_check, svc.replicas
    out, _ = simulate_reference(sc, replicas=20, horizon=10 * 8760, seed=3)
    exact = analyze(sc, cut_sets=False)
    first = exact.downtime_minutes_per_year
    lam, mttr = 1 / svc.failure.mean_hours, svc.repair.mean_hours
    ed = hc.interval * (hc.unhealthy_threshold - 0.5)
    # The exact solver now charges E[min(D, R)] (exponential R, D uniform on its probe window).
    d = (np.linspace(0, 1, 100001) + hc.unhealthy_threshold - 1) * hc.interval
    assert first == pytest.approx(lam * float(np.mean(mttr * (1 - np.exp(-d / mttr)))) * 525600, rel=1e-3)
    assert first < lam * ed * 525600
    ed2 = hc.interval**2 * ((hc.unhealthy_threshold - 1) ** 2 + (hc.unhealthy_threshold - 1) + 1 / 3)
    second = lam * ed2 / (2 * mttr) * 525600
    mean, se = _minutes(out.ra)
    assert abs(mean - first) <= SIGMAS * se + second, (mean, se, first, second)
    assert first > 10 * (SIGMAS * se)
    degraded = out.degraded * 525600
    want = n * lam * ed * 525600
    assert abs(degraded.mean() - want) <= SIGMAS * degraded.std(ddof=1) / math.sqrt(20) + n * second
    # retry: true makes it vanish while a healthy instance remains.
    retry, _ = simulate_reference(sc.replace({"services.api.retry": True}), replicas=5, horizon=10 * 8760, seed=3)
    assert _minutes(retry.ra)[0] < 0.01 * first


def test_dns_failover_detection_plus_half_ttl():
    """dns-failover.yaml: per primary outage the router's detection E[D] is fully lost, then TTL/2.

    Second order: both regions down at once is in the exact structural part;
    a primary outage shorter than D + TTL (4 h mean zone outages, ~0.1 %) is
    neglected; bounded here by 2 % of the delay term.
    """
    sc = hasim.load(SCENARIOS / "dns-failover.yaml")
    out, _ = simulate_reference(sc, replicas=40, horizon=40 * 8760, seed=4)
    exact = analyze(sc, cut_sets=False)
    delays = exact.delays
    term = float(delays.minutes_per_year.sum())
    assert set(delays.stage) == {"detection", "dns"}
    mean, se = _minutes(out.ra)
    assert abs(mean - exact.downtime_minutes_per_year) <= SIGMAS * se + 0.02 * term
    assert term > 3 * SIGMAS * se
    names, _ = cause_labels(sc)
    stage_minutes = out.loss.sum(axis=1).mean(axis=0) * 60 / 40
    # The DNS stage gets about TTL/2 of every switch, detection E[D]: the 2:1 split of the README.
    dns_term = float(delays.loc[delays.stage == "dns", "minutes_per_year"].sum())
    assert stage_minutes[DNS] == pytest.approx(dns_term, rel=0.2)


def test_cached_dependency_shows_m_exp_minus_ttl_over_m():
    """cached.yaml: an exponential outage of mean m shows m exp(-ttl/m) beyond the TTL.

    Exact for a single-instance dependency; second order: catalogue outages
    overlapping the database's (products of two small unavailabilities).
    """
    sc = hasim.load(SCENARIOS / "cached.yaml")
    out, _ = simulate_reference(sc, replicas=30, horizon=20 * 8760, seed=5)
    exact = analyze(sc, cut_sets=False)
    db = sc.services["db"]
    m, ttl = db.repair.mean_hours, sc.services["catalogue"].cached[0].ttl
    shown = 8760 / (db.failure.mean_hours + m) * m * math.exp(-ttl / m) * 60
    mean, se = _minutes(out.ra)
    assert abs(mean - exact.downtime_minutes_per_year) <= SIGMAS * se + 0.01 * shown
    names, _ = cause_labels(sc)
    stale = out.loss[:, names.index("db"), STALE_CACHE] * 60 / 20
    assert abs(stale.mean() - shown) <= SIGMAS * stale.std(ddof=1) / math.sqrt(30) + 0.01 * shown


def test_standby_detection_plus_promotion_first_order():
    """Detection + promotion per failure of the active (the bound of tests/test_engine.py)."""
    mtbf, mttr, detection, promotion = 200.0, 2.0, 0.5, 0.5
    sc = Scenario(name="t", entry="db", services={"db": {
        "mode": "standby", "replicas": 2, "failure": {"mtbf": mtbf}, "repair": {"mttr": mttr},
        "failover": {"detection": detection, "promotion": promotion}}})
    out, _ = simulate_reference(sc, replicas=20, horizon=4e4, seed=3)
    exact = analyze(sc, cut_sets=False)
    delay = detection + promotion
    q = mttr / (mtbf + mttr)
    rate = (1 / mtbf) * (1 - q)
    second = rate * delay * (2 * q + delay / mtbf)
    term = exact.structural_request_availability - exact.request_availability
    mean, se = out.ra.mean(), out.ra.std(ddof=1) / math.sqrt(out.ra.size)
    assert abs(mean - exact.request_availability) <= SIGMAS * se + second
    assert term > 3 * (SIGMAS * se + second)
    names, _ = cause_labels(sc)
    assert out.loss[:, 0, FAILOVER].sum() > 0.9 * out.loss.sum()


# --- 4. invariants on random scenarios with every construct ----------------------------------------------


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sc=scenarios(delays=True))
def test_invariants_on_random_scenarios(sc):
    """Whatever the scenario: measures are consistent with each other and the loss table sums up."""
    horizon = 1500.0
    out, _ = simulate_reference(sc, replicas=3, horizon=horizon, seed=2)
    assert np.all((out.ra >= -1e-12) & (out.ra <= 1 + 1e-12))
    assert np.all(out.ta <= out.ra + 1e-12)                      # fully up time serves 1
    np.testing.assert_allclose(out.ta + out.degraded + out.down, 1.0, atol=1e-9)
    np.testing.assert_allclose(out.loss.sum(axis=(1, 2)), (1 - out.ra) * horizon, atol=1e-7)
    assert np.all((out.svc_ra >= -1e-12) & (out.svc_ra <= 1 + 1e-12))
    assert np.all((out.outages == 0) == (out.ta == 1.0))
    assert np.all(out.longest <= horizon)
    kept = np.isfinite(out.out_dur)
    assert np.all(out.out_dur[kept] > 0) and np.all(out.out_cause[kept] >= 0)


def test_simultaneous_return_activates_the_lowest_index_whatever_the_zone_order():
    """Both instances come back with their region: the lowest-index one becomes active, so listing the
    service's zones in another order than the scenario's zones changes nothing."""
    def history(order):
        sc = Scenario(name="t", entry="db", zones={
            "az-a": {**NEVER, "within": "region"}, "az-b": {**NEVER, "within": "region"},
            "region": {"failure": fixed(4), "repair": fixed(3)}}, services={"db": {**STANDBY, "zones": order}})
        out, _ = simulate_reference(sc, replicas=1, horizon=60, seed=0, keep_outages=20)
        return out

    a, b = history(["az-a", "az-b"]), history(["az-b", "az-a"])
    np.testing.assert_array_equal(a.out_start, b.out_start)
    # The region is down 4-7, 11-14, 18-21, 25-28, 32-35 h.  Instance 0 stays active: its 10 h life runs
    # out in region-up time at 16 h; the promotion would end at 18 h, when the region takes instance 1
    # too; instance 1 (cold: unaged) is active from 21 h and fails at 37 h, with nothing left.
    np.testing.assert_allclose(a.out_start[0, :6], [4, 11, 16, 25, 32, 37])


def test_simulate_and_cli_run_the_reference_engine(capsys):
    """engine="simpy" returns the same Results object, with the stage breakdown, for delay scenarios too."""
    from hasim.cli import main

    res = hasim.simulate(hasim.load(SCENARIOS / "dns-failover.yaml"), replicas=8, seed=1, engine="simpy")
    assert res.engine == "simpy" and res.n_replicas == 8
    stages = res.stages.set_index("stage")["downtime_minutes_per_year"]
    assert stages.sum() == pytest.approx(res.metric("downtime_minutes_per_year")["mean"], rel=1e-9)
    assert main(["run", "--engine", "simpy", "--replicas", "4", str(SCENARIOS / "dns-failover.yaml")]) == 0
    out = capsys.readouterr().out
    assert "simpy engine" in out and "stage" in out
