"""The stage that keeps a loss going: the root mechanism still running, not an expired cache.

Order (both engines): dns > detection > failover > zone > capacity > stale-cache > repair.
Until issue 17 ``stale-cache`` came before ``zone``: with ``cached: {service: etcd, ttl:
30s}`` a region outage was charged 96.7 % to ``stale-cache``, and the same minutes to
``zone`` without the cache.  An expired cache is now named only when its dependency is down
for a plain repair that outlasted the ttl.
"""

from __future__ import annotations

import numpy as np
import pytest

from hasim import Scenario
from hasim.sim.kernel._output import STAGES
from hasim.sim.engine import simulate
from hasim.sim.reference.engine import simulate_reference


def fixed(v: float) -> dict:
    return {"dist": "fixed", "value": v}


NEVER = {"failure": fixed(1000), "repair": fixed(1)}


def _cached(db: dict, zones: dict, ttl: float | None) -> Scenario:
    app = {**NEVER, "requires": ["db"]} if ttl is None else {**NEVER, "cached": {"service": "db", "ttl": ttl}}
    return Scenario(name="t", entry="app", services={"app": app, "db": db}, zones=zones)


def _stages(sc: Scenario) -> dict[str, float]:
    res = simulate(sc, replicas=1, horizon=20.0, seed=0)
    ref, _ = simulate_reference(sc, replicas=1, horizon=20.0, seed=0)
    np.testing.assert_allclose(res.out.loss, ref.loss, rtol=1e-12, atol=1e-12)
    return {s: float(v) for s, v in zip(STAGES, res.out.loss[0].sum(axis=0)) if v}


@pytest.mark.parametrize("ttl, lost", [(None, 3.0), (0.5, 2.5)])
def test_a_zone_outage_that_outlasts_the_cache_is_the_zone(ttl, lost):
    # The zone holding db is down over [10, 13); the cache hides the first ttl.
    sc = _cached({**NEVER, "zones": ["z"]}, {"z": {"failure": fixed(10), "repair": fixed(3)}}, ttl)
    assert _stages(sc) == pytest.approx({"zone": lost})


def test_a_repair_that_outlasts_the_cache_is_the_cache():
    sc = _cached({"failure": fixed(10), "repair": fixed(3)}, {}, 0.5)
    assert _stages(sc) == pytest.approx({"stale-cache": 2.5})


def test_a_failover_behind_an_expired_cache_is_the_failover():
    db = {"mode": "standby", "standby": "cold", "replicas": 2, "failure": fixed(10), "repair": fixed(100),
          "failover": {"detection": 1, "promotion": 1}}
    assert _stages(_cached(db, {}, 0.5)) == pytest.approx({"failover": 1.5})


def test_the_issue_example_region_outage_behind_a_cached_etcd():
    """A region (MTBF 30 d, MTTR 4 h) holding api and etcd; api caches etcd for 30 s."""
    sc = Scenario(name="etcd", entry="api", horizon="1y", zones={"region": {"mtbf": "30d", "mttr": "4h"}},
                  services={"api": {"replicas": 2, "zones": ["region"], "mtbf": "1y", "mttr": "1h",
                                    "cached": {"service": "etcd", "ttl": "30s"}},
                            "etcd": {"mode": "quorum", "replicas": 3, "zones": ["region"], "mtbf": "1y",
                                     "mttr": "1h"}})
    res = simulate(sc, replicas=100, seed=1)
    stages = dict(zip(STAGES, res.out.loss.sum(axis=(0, 1))))
    total = sum(stages.values())
    assert stages["zone"] / total > 0.99
    assert stages["stale-cache"] / total < 0.01
