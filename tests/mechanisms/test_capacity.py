"""Capacity (the ``capacity`` stage): a k-of-n pool serves min(1, healthy / needed), shard by shard, where
needed is ``min_healthy`` or the load offered to the shard over one instance's ``capacity``.

Against the exact solver within 4 SE, with power against a 2 % MTTR error (:mod:`tests._exact`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hasim.analytic.analysis import analyze
from hasim.model.structure import demand, needed
from hasim.sim.engine import simulate

from .._exact import agree, scenario


def test_two_of_three():
    sc = scenario("a", {"a": {"replicas": 3, "min_healthy": 2, "failure": {"mtbf": 100},
                              "repair": {"dist": "lognormal", "mean": 10, "sigma": 0.5}}})
    agree(sc, "a", replicas=40, horizon=1e6)


def test_shards():
    sc = scenario("kv", {"kv": {"replicas": 2, "shards": 3, "failure": {"mtbf": 40}, "repair": {"mttr": 10}}})
    agree(sc, "kv", replicas=40, horizon=1e6)


# --- load and capacity: a pool needs load / capacity instances (a real number) ---------------------

def _loaded(load, *, replicas=3, capacity=100.0, zones=None, placed=(), **extra):
    services = {"api": {"replicas": replicas, "capacity": capacity, "load": load, "zones": list(placed),
                        "failure": {"mtbf": 100}, "repair": {"mttr": 10}, **extra}}
    return scenario("api", services, zones=zones)


def test_load_over_capacity_against_the_exact_solver():
    # 250 req/s on instances of 100: 2.5 needed of 3; with 2 the pool serves 2 / 2.5.
    sc = _loaded(250.0)
    assert needed(sc, "api") == 2.5
    agree(sc, "api", replicas=40, horizon=1e6)


def test_zones_under_load_against_the_exact_solver():
    zones = {"a": {"mtbf": 400, "mttr": 20}, "b": {"mtbf": 400, "mttr": 20}, "c": {"mtbf": 400, "mttr": 20}}
    sc = _loaded("70%", replicas=6, zones=zones, placed=["a", "b", "c"])
    agree(sc, "api", replicas=40, horizon=1e6)


def test_an_integer_load_over_capacity_is_min_healthy_exactly():
    # load / capacity = 2 is min_healthy: 2 -- the same rule, so the same histories, draw for draw.
    by_k = scenario("api", {"api": {"replicas": 3, "min_healthy": 2, "failure": {"mtbf": 100},
                                    "repair": {"mttr": 10}}})
    by_load = _loaded(200.0)
    for engine, replicas in (("numba", 20), ("simpy", 3)):
        a = simulate(by_k, replicas=replicas, horizon=2e4, seed=3, engine=engine).out
        b = simulate(by_load, replicas=replicas, horizon=2e4, seed=3, engine=engine).out
        np.testing.assert_array_equal(a.ra, b.ra)
        np.testing.assert_array_equal(a.loss, b.loss)


def test_load_flows_through_calls_and_a_failover_router():
    sc = scenario("edge", {
        "edge": {"route": "failover", "targets": ["api", "api-dr"], "load": 1000},
        "api": {"replicas": 4, "capacity": 600, "requires": ["db"], "optional": ["search"],
                "calls": {"db": 3, "search": 0.5}, "failure": {"mtbf": 100}, "repair": {"mttr": 1}},
        "api-dr": {"replicas": 2, "capacity": 600, "requires": ["db"], "failure": {"mtbf": 100}, "repair": {"mttr": 1}},
        "db": {"replicas": 2, "shards": 2, "capacity": 2000, "load": 100, "failure": {"mtbf": 100},
               "repair": {"mttr": 1}},
        "search": {"replicas": 2, "capacity": 300, "failure": {"mtbf": 100}, "repair": {"mttr": 1}},
    })
    # Offered, not served: each target of the failover router must take the whole load, and db gets
    # 3 calls per api request plus one per api-dr request (the one in use) plus its own 100.
    assert demand(sc) == {"edge": 1000.0, "api": 1000.0, "api-dr": 1000.0, "db": 3000.0 + 1000.0 + 100.0,
                          "search": 500.0}
    assert needed(sc, "db") == pytest.approx(4100.0 / 2 / 2000.0)  # per shard
    assert needed(sc, "api-dr") == pytest.approx(1000.0 / 600.0)


def test_static_stability_of_three_zones_at_70_and_50_percent():
    zones = {z: {"mtbf": "1y", "mttr": "6h"} for z in "abc"}
    for load, survives, served in (("70%", False, 4 / (0.7 * 6)), ("50%", True, 1.0)):
        sc = scenario("api", {"api": {"replicas": 6, "zones": list("abc"), "capacity": 500, "load": load,
                                      "failure": {"mtbf": 720}, "repair": {"mttr": 2}}}, zones=zones)
        rows = analyze(sc).zone_loss
        assert [r["zone"] for r in rows] == list("abc")
        for r in rows:
            assert r["survives"] is survives
            assert r["served"] == pytest.approx(served, rel=1e-12)
            assert r["utilisation"]["api"] == pytest.approx(float(load[:-1]) / 100 * 6 / 4)


def test_the_utilisation_law_is_the_law_of_available_instances():
    # One pool, no delays: the time it is short of capacity is exactly the time it is not fully up,
    # and the utilisation quantiles are needed / h at the binomial quantiles of h.
    sc = _loaded(250.0)
    row = analyze(sc).load[0]
    a = 100 / 110
    p_h = [math.comb(3, h) * a**h * (1 - a) ** (3 - h) for h in range(4)]
    assert row["overload_probability"] == pytest.approx(1 - p_h[3], rel=1e-12)
    assert row["overload_probability"] == pytest.approx(1 - analyze(sc).time_availability, rel=1e-12)
    assert row["utilisation"] == pytest.approx(2.5 / 3)
    assert p_h[3] > 0.5 and p_h[3] + p_h[2] < 0.99 <= p_h[3] + p_h[2] + p_h[1]
    assert 1 - p_h[0] >= 0.999
    assert row["utilisation_p50"] == pytest.approx(2.5 / 3)
    assert row["utilisation_p99"] == pytest.approx(2.5 / 1)
    assert row["utilisation_p999"] == pytest.approx(2.5 / 1)


def test_a_pool_that_cannot_carry_its_load_when_healthy():
    sc = _loaded(450.0)  # 4.5 needed of 3: always shedding a third
    a = analyze(sc)
    assert a.load[0]["spare_instances"] == pytest.approx(-1.5)
    assert a.time_availability == 0.0
    res = simulate(sc, replicas=20, horizon=1e5, seed=2)
    assert res.out.ta.max() == 0.0
    assert res.out.ra.max() <= 3 / 4.5 + 1e-12
