"""The numba engine against the exact solver, and its reproducibility.

Agreement: for scenarios the exact solver handles exactly (no delays), the
simulated request and time availability must lie within 4 standard errors of
``hasim.analytic.analysis.analyze``.  Power: every such test also checks that the
exact answer for the same scenario with one MTTR 2 % longer lies more than
4 standard errors away, so a simulator that got that MTTR wrong by 2 % would
fail.  Run lengths are long horizons with a few dozen replicas: the start
(everything up) biases a replica by O(1 / horizon) while the standard error
falls as 1 / sqrt(replicas x horizon), so long horizons keep that bias far
below the tolerance.

Reproducibility: same seed -> bit-identical, other seed -> different, chunking
and thread count (subprocesses with NUMBA_NUM_THREADS=1 and 2) change
nothing, and a small run under NUMBA_DISABLE_JIT=1 reproduces the jitted bits.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hasim.analytic.analysis import analyze
from hasim.sim.engine import simulate

from ._exact import SIGMAS, agree, scenario

ROOT = Path(__file__).resolve().parents[1]


# --- single instances with every law --------------------------------------------------------------


# --- structures -----------------------------------------------------------------------------------


def test_series():
    sc = scenario("web", {
        "web": {"failure": {"mtbf": 200}, "repair": {"mttr": 10}, "requires": ["db"]},
        "db": {"failure": {"mtbf": 300}, "repair": {"mttr": 5}},
    })
    agree(sc, "web", replicas=40, horizon=1e6)


def test_parallel_pair():
    sc = scenario("a", {"a": {"replicas": 2, "failure": {"mtbf": 50}, "repair": {"mttr": 10}}})
    agree(sc, "a", replicas=40, horizon=1e6)


def test_diamond_dependency():
    # entry -> a, b; a -> c; b -> c: c is one random variable reached by two paths.
    sc = scenario("entry", {
        "entry": {"replicas": 2, "failure": {"mtbf": 100}, "repair": {"mttr": 10}, "requires": ["a", "b"]},
        "a": {"replicas": 2, "failure": {"mtbf": 80}, "repair": {"mttr": 10}, "requires": ["c"]},
        "b": {"failure": {"mtbf": 400}, "repair": {"mttr": 4}, "requires": ["c"]},
        "c": {"replicas": 3, "min_healthy": 2, "failure": {"mtbf": 100}, "repair": {"mttr": 10}},
    })
    agree(sc, "c", replicas=40, horizon=1e6)


@pytest.mark.parametrize("standby", ["hot", "cold", "warm"])
def test_standby_instant_failover(standby):
    svc = {"mode": "standby", "standby": standby, "replicas": 3, "failure": {"mtbf": 20}, "repair": {"mttr": 10}}
    if standby == "warm":
        svc["warm_factor"] = 0.3
    sc = scenario("db", {"db": svc})
    agree(sc, "db", replicas=40, horizon=1e6)


def test_quorum_instant_election():
    sc = scenario("etcd", {"etcd": {"mode": "quorum", "replicas": 3, "failure": {"mtbf": 50},
                                    "repair": {"mttr": 10}}})
    agree(sc, "etcd", replicas=40, horizon=1e6)


def test_quorum_of_five_in_zones():
    sc = scenario("etcd", {"etcd": {"mode": "quorum", "replicas": 5, "zones": ["a", "b", "c"],
                                    "failure": {"mtbf": 40}, "repair": {"mttr": 10}}},
                  zones={"a": {"mtbf": 300, "mttr": 10}, "b": {"mtbf": 300, "mttr": 10},
                         "c": {"mtbf": 300, "mttr": 10}})
    agree(sc, "etcd", replicas=40, horizon=1e6)


def test_failover_router():
    sc = scenario("www", {
        "www": {"route": "failover", "targets": ["primary", "dr"]},
        "primary": {"replicas": 2, "min_healthy": 2, "failure": {"mtbf": 100}, "repair": {"mttr": 10}},
        "dr": {"failure": {"mtbf": 50}, "repair": {"mttr": 10}},
    })
    agree(sc, "primary", replicas=40, horizon=1e6)


def test_weighted_router_with_own_instances():
    sc = scenario("lb", {
        "lb": {"route": "weighted", "targets": ["a", "b"], "weights": [3, 1],
               "failure": {"mtbf": 500}, "repair": {"mttr": 5}},
        "a": {"replicas": 2, "min_healthy": 2, "failure": {"mtbf": 60}, "repair": {"mttr": 10}},
        "b": {"failure": {"mtbf": 60}, "repair": {"mttr": 10}},
    })
    agree(sc, "a", replicas=40, horizon=1e6)


# --- delays against the first-order terms ---------------------------------------------------------


def test_standby_failover_delay_first_order():
    """Detection + promotion per failure of the active, against the first-order analytic term.

    The analytic answer neglects second-order events: a second failure during
    the failover delay, and the structural term counting that delay as up.
    Their effect on the unavailability is bounded here by
    ``rate * delay * (2 q + lambda * delay)`` with q the unavailability of one
    instance (the failover window overlapping an outage of the other
    instance, or a failure of the promoted one during the delay); the
    tolerance is 4 SE plus that bound.
    """
    mtbf, mttr, detection, promotion = 200.0, 2.0, 0.5, 0.5
    sc = scenario("db", {"db": {"mode": "standby", "replicas": 2, "failure": {"mtbf": mtbf},
                                "repair": {"mttr": mttr},
                                "failover": {"detection": detection, "promotion": promotion}}})
    res = simulate(sc, replicas=40, horizon=1e6, seed=3)
    exact = analyze(sc, cut_sets=False)
    delay = detection + promotion
    q = mttr / (mtbf + mttr)
    rate = (1 / mtbf) * (1 - q)
    second_order = rate * delay * (2 * q + delay / mtbf)
    first_order_term = exact.structural_request_availability - exact.request_availability
    assert first_order_term > 10 * second_order  # the delay term is what is being tested
    mean = float(res.out.ra.mean())
    se = float(res.out.ra.std(ddof=1)) / math.sqrt(res.n_replicas)
    assert abs(mean - exact.request_availability) <= SIGMAS * se + second_order
    # Power: the delay term itself is far outside the tolerance.
    assert first_order_term > 3 * (SIGMAS * se + second_order)
    # Downtime is charged to the db's failures, and to the failover stage while it runs.
    attribution = res.attribution.set_index("cause")["downtime_minutes_per_year"]
    assert attribution.idxmax() == "db"
    stages = res.stages.set_index("stage")["downtime_minutes_per_year"]
    assert stages.idxmax() == "failover"


def test_failover_requires_waits():
    """A promotion waits while a failover.requires service is down: strictly worse than without."""
    base = {"mode": "standby", "replicas": 2, "failure": {"mtbf": 100}, "repair": {"mttr": 5},
            "failover": {"detection": 0.1, "promotion": 0.1}}
    sentinel = {"failure": {"mtbf": 20}, "repair": {"mttr": 10}}
    free = scenario("db", {"db": base, "sentinel": sentinel})
    gated = scenario("db", {"db": {**base, "failover": {**base["failover"], "requires": ["sentinel"]}},
                            "sentinel": sentinel})
    a = simulate(free, replicas=40, horizon=2e5, seed=5)
    b = simulate(gated, replicas=40, horizon=2e5, seed=5)
    diff = a.out.ra - b.out.ra
    se = diff.std(ddof=1) / math.sqrt(diff.size)
    assert diff.mean() > SIGMAS * se


def test_promotion_failure_and_manual_recovery():
    """success < 1 with a manual deadline: the extra loss matches the first-order term."""
    mtbf, mttr = 200.0, 4.0
    fo = {"detection": 0.05, "promotion": 0.05, "success": 0.5, "manual": 1.0}
    sc = scenario("db", {"db": {"mode": "standby", "replicas": 2, "failure": {"mtbf": mtbf},
                                "repair": {"mttr": mttr}, "failover": fo}})
    res = simulate(sc, replicas=40, horizon=1e6, seed=11)
    exact = analyze(sc, cut_sets=False)
    q = mttr / (mtbf + mttr)
    rate = 1 / mtbf
    # Second order: overlaps of the (at most 1.1 h) failover window with the other instance's outage.
    second_order = rate * 1.1 * (2 * q + 1.1 / mtbf)
    mean = float(res.out.ra.mean())
    se = float(res.out.ra.std(ddof=1)) / math.sqrt(res.n_replicas)
    assert abs(mean - exact.request_availability) <= SIGMAS * se + second_order


# --- invariants -------------------------------------------------------------------------------------


def test_measures_are_consistent():
    sc = scenario("web", {
        "web": {"replicas": 3, "min_healthy": 2, "zones": ["a", "b"], "failure": {"mtbf": 50},
                "repair": {"mttr": 5}, "requires": ["db"]},
        "db": {"mode": "standby", "replicas": 2, "zones": ["a", "b"], "failure": {"mtbf": 100},
               "repair": {"mttr": 5}, "failover": {"detection": 0.2, "promotion": 0.3}},
    }, zones={"a": {"mtbf": 300, "mttr": 3}, "b": {"mtbf": 300, "mttr": 3}})
    res = simulate(sc, replicas=20, horizon=5000, seed=2)
    o = res.out
    np.testing.assert_allclose(o.ta + o.degraded + o.down, 1.0, atol=1e-12)
    # Lost request-hours by cause add up to (1 - RA) * horizon.
    np.testing.assert_allclose(o.loss.sum(axis=(1, 2)), (1 - o.ra) * 5000, rtol=1e-9, atol=1e-9)
    # Windows average to the request availability (all windows kept here, equal lengths but the last).
    lengths = np.minimum(np.arange(1, res.n_windows + 1) * res.window, 5000) - np.arange(res.n_windows) * res.window
    np.testing.assert_allclose((o.win * lengths).sum(axis=1) / 5000, o.ra, rtol=0, atol=1e-9)
    assert (o.events > 0).all()
    assert (o.longest <= (1 - o.ta) * 5000 + 1e-9).all()
    # Per-service availability of the entry is the entry's RA.
    np.testing.assert_allclose(o.svc_ra[:, res.labels.services.index("web")], o.ra, atol=1e-12)


# --- reproducibility ---------------------------------------------------------------------------------

REPRO = scenario("web", {
    "web": {"replicas": 3, "min_healthy": 2, "zones": ["a", "b"], "failure": {"dist": "weibull", "shape": 1.3,
                                                                          "mean": 60},
            "repair": {"dist": "lognormal", "median": 2, "sigma": 0.6}, "requires": ["db", "cache"]},
    "db": {"mode": "standby", "standby": "warm", "warm_factor": 0.5, "replicas": 2, "zones": ["a", "b"],
           "failure": {"mtbf": 80}, "repair": {"mttr": 4},
           "failover": {"detection": 0.1, "promotion": 0.2, "success": 0.7, "manual": 1.0,
                        "requires": ["sentinel"]}},
    "sentinel": {"mode": "quorum", "replicas": 3, "zones": ["a", "b"], "failure": {"mtbf": 50},
                 "repair": {"mttr": 3}, "failover": {"detection": 0.01, "promotion": 0.01}},
    "cache": {"replicas": 2, "shards": 2, "failure": {"mtbf": 30}, "repair": {"dist": "uniform", "low": 0.5,
                                                                            "high": 2}},
}, zones={"region": {"mtbf": 900, "mttr": 5}, "a": {"mtbf": 200, "mttr": 2, "within": "region"},
          "b": {"mtbf": 200, "mttr": 2, "within": "region"}})


def digest(res) -> str:
    h = hashlib.sha256()
    for a in res.out:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def test_same_seed_is_bit_identical_and_seeds_differ():
    a = simulate(REPRO, replicas=50, horizon=3000, seed=1)
    b = simulate(REPRO, replicas=50, horizon=3000, seed=1)
    c = simulate(REPRO, replicas=50, horizon=3000, seed=2)
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)
    assert not np.array_equal(a.out.ra, c.out.ra)


def test_chunking_does_not_change_results():
    whole = simulate(REPRO, replicas=70, horizon=3000, seed=4, chunk_size=1000)
    for chunk in (1, 7, 32):
        assert digest(simulate(REPRO, replicas=70, horizon=3000, seed=4, chunk_size=chunk)) == digest(whole)


def test_replica_depends_only_on_its_index():
    """Replica i of a long run equals replica i of a shorter run (streams are per replica)."""
    long = simulate(REPRO, replicas=40, horizon=2000, seed=9)
    short = simulate(REPRO, replicas=10, horizon=2000, seed=9)
    np.testing.assert_array_equal(long.out.ra[:10], short.out.ra)
    np.testing.assert_array_equal(long.out.loss[:10], short.out.loss)


_CHILD = """
import hashlib, json, sys
import numpy as np
sys.path.insert(0, {root!r})
from tests.test_engine import REPRO, digest
from hasim.sim.engine import simulate
res = simulate(REPRO, replicas={replicas}, horizon={horizon}, seed=6, chunk_size={chunk})
print(json.dumps({{"digest": digest(res), "ra": res.out.ra.tolist()}}))
"""


def _child(env: dict, replicas: int, horizon: float, chunk: int) -> dict:
    code = _CHILD.format(root=str(ROOT), replicas=replicas, horizon=horizon, chunk=chunk)
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_thread_count_does_not_change_results():
    one = _child({"NUMBA_NUM_THREADS": "1"}, 64, 3000, 64)
    two = _child({"NUMBA_NUM_THREADS": "2"}, 64, 3000, 64)
    assert one["digest"] == two["digest"]
    here = simulate(REPRO, replicas=64, horizon=3000, seed=6, chunk_size=64)
    assert digest(here) == one["digest"]


def test_pure_python_kernel_reproduces_the_jitted_bits():
    """The kernel under NUMBA_DISABLE_JIT=1 (plain Python: covers kernel lines) gives the same results."""
    child = _child({"NUMBA_DISABLE_JIT": "1"}, 3, 400, 2)
    jitted = simulate(REPRO, replicas=3, horizon=400, seed=6, chunk_size=2)
    np.testing.assert_array_equal(np.array(child["ra"]), jitted.out.ra)
    assert child["digest"] == digest(jitted)


# --- deterministic histories (fixed laws): exact bookkeeping ------------------------------------------


def fixed(value):
    return {"dist": "fixed", "value": value}


@pytest.mark.parametrize("success, manual, downtime", [
    (1.0, None, 0.3),   # detection 0.1 + promotion 0.2
    (0.0, 0.5, 0.8),    # the promotion fails at 10.3; manual intervention at 10.8
    (0.0, 2.0, 1.0),    # ... but the failed instance is back first, at 11: it becomes active
])
def test_cold_standby_failover_timeline(success, manual, downtime):
    fo = {"detection": 0.1, "promotion": 0.2, "success": success}
    if manual is not None:
        fo["manual"] = manual
    sc = scenario("db", {"db": {"mode": "standby", "standby": "cold", "replicas": 2, "failure": fixed(10),
                                "repair": fixed(1), "failover": fo}})
    res = simulate(sc, replicas=1, horizon=60, seed=1)
    o = res.out
    # The idle standby never ages, so every active instance lives exactly 10 h once active.
    cycle = 10 + downtime
    starts = [10 + cycle * k for k in range(8) if 10 + cycle * k < 60]
    assert o.outages[0] == len(starts)
    np.testing.assert_allclose(o.out_start[0, :len(starts)], starts, rtol=1e-12)
    expected = sum(min(downtime, 60 - s) for s in starts)
    np.testing.assert_allclose(o.ra[0], 1 - expected / 60, rtol=1e-12)
    assert {res.labels.causes[c] for c in o.out_cause[0, :len(starts)]} == {"db"}
    attribution = dict(zip(res.attribution.cause, res.attribution.downtime_minutes_per_year))
    assert set(attribution) == {"db"}
    stages = dict(zip(res.stages.stage, res.stages.downtime_minutes_per_year))
    if manual == 2.0:  # down in state FAILED until the repair: still the failover stage
        assert stages["failover"] == pytest.approx(sum(attribution.values()))
    assert sum(attribution.values()) == pytest.approx(expected * 60 / (60 / 8760))


def test_quorum_election_delay_first_order():
    """A leader election (detection + promotion) per loss of the leader, against the first-order term.

    Second-order bound: the election window overlapping another node's outage
    or failure, ``rate * D * (3 q + 3 lambda D)``.
    """
    mtbf, mttr, d = 100.0, 5.0, 0.5
    sc = scenario("etcd", {"etcd": {"mode": "quorum", "replicas": 3, "failure": {"mtbf": mtbf},
                                    "repair": {"mttr": mttr}, "failover": {"detection": d / 2,
                                                                           "promotion": d / 2}}})
    res = simulate(sc, replicas=40, horizon=1e6, seed=13)
    exact = analyze(sc, cut_sets=False)
    q = mttr / (mtbf + mttr)
    rate = 1 / mtbf
    bound = rate * d * (3 * q + 3 * d / mtbf)
    term = exact.structural_request_availability - exact.request_availability
    mean = float(res.out.ra.mean())
    se = float(res.out.ra.std(ddof=1)) / math.sqrt(res.n_replicas)
    assert abs(mean - exact.request_availability) <= SIGMAS * se + bound
    assert term > 3 * (SIGMAS * se + bound)
