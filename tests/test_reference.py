"""The SimPy reference engine: hand-solved cases, the exact solver, invariants.

1. Semantics with deterministic laws (``dist: fixed``), where the answer is
   known by hand to the last bit: failover timing, a standby failing during
   promotion, a failed promotion, failover.requires, elections, nested-zone
   clock suspension, warm standbys, a DNS answer changing during a ramp,
   weighted routers, windows, outage records and the attribution of each
   lost hour to a root cause and a stage.
2. Steady state against :func:`hasim.analytic.analysis.analyze` for the teaching
   scenarios without delays: within 4 standard errors, and with power (a 20 %
   error in the dominant MTTR would lie beyond 4 SE), except zones.yaml whose
   answer is dominated by region outages too rare for a short run to resolve.
3. Invariants (the loss table sums to the lost request-hours, time splits
   into full / degraded / down, ...) on random scenarios with every construct.

The first-order delay formulas (health checks, DNS failover, caches, standby
failover), with their exact fixed-law cases, are in tests/mechanisms/, run
on both engines.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import hasim
from hasim import Scenario
from hasim.sim.kernel._output import CAPACITY, FAILOVER, REPAIR, STAGES, ZONE
from hasim.model.structure import cause_labels, request_weights
from hasim.analytic.analysis import analyze
from hasim.sim.reference.engine import simulate_reference, trace

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


# --- 3. invariants on random scenarios with every construct ----------------------------------------------


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(sc=scenarios(delays=True))
def test_invariants_on_random_scenarios(sc):
    """Whatever the scenario: measures are consistent with each other and the loss table sums up."""
    horizon = 1500.0
    out, _ = simulate_reference(sc, replicas=3, horizon=horizon, seed=2)
    assert np.all((out.ra >= -1e-12) & (out.ra <= 1 + 1e-12))
    # Request measures weigh each hour by its requests (a daily load profile): the horizon holds this many
    # mean hours of requests, and time fully up bounds request availability only when every hour weighs 1.
    weights = request_weights(sc)
    requests = horizon // 24 * 24 + weights[: int(horizon % 24)].sum()
    if np.ptp(weights) == 0:
        assert np.all(out.ta <= out.ra + 1e-12)                  # fully up time serves 1
    np.testing.assert_allclose(out.ta + out.degraded + out.down, 1.0, atol=1e-9)
    np.testing.assert_allclose(out.loss.sum(axis=(1, 2)), (1 - out.ra) * requests, atol=1e-7)
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
    from hasim.cli.main import main

    res = hasim.simulate(hasim.load(SCENARIOS / "dns-failover.yaml"), replicas=8, seed=1, engine="simpy")
    assert res.engine == "simpy" and res.n_replicas == 8
    stages = res.stages.set_index("stage")["downtime_minutes_per_year"]
    assert stages.sum() == pytest.approx(res.metric("downtime_minutes_per_year")["mean"], rel=1e-9)
    assert main(["run", "--engine", "simpy", "--replicas", "4", str(SCENARIOS / "dns-failover.yaml")]) == 0
    out = capsys.readouterr().out
    assert "simpy engine" in out and "stage" in out


def test_a_long_history_with_many_failovers_completes():
    """The settle's livelock guard counted pauses over the whole history, not per settle: a
    cold standby pair failing over every ~10 h raised 'no progress settling' after ~18 years."""
    from .conftest import SCENARIOS

    sc = hasim.load(SCENARIOS / "standby.yaml")
    out, info = simulate_reference(sc, replicas=1, horizon="25y", seed=3)
    assert info["events"] > 40_000
    assert abs(out.ra[0] - 12 / 13) < 0.01
