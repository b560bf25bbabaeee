"""Maintenance windows: redundancy taken away on a schedule (hasim.model.maintenance), on both
engines, against closed forms and ``hasim analyze``.

Closed form.  A window every ``E`` lasting ``L`` takes ``t`` instances of a shard out; the instances'
clocks stop while they are out, so each is up with its usual probability ``a = MTBF / (MTBF +
MTTR)`` whenever a window starts, and during a window the pool is the same pool with ``n - t``
instances.  The pool serves ``E[min(1, H / k)]`` with ``H ~ Binomial(m, a)``; with the windows on a
share ``f = L / E`` of the time it serves ``(1 - f) S(n) + f S(n - t)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import hasim
from hasim import Scenario
from hasim.errors import ScenarioError
from hasim.sim.engine import simulate

MINUTES = 525600.0  # a year of 8760 h, as the results count it


def pool(n: int = 3, k: int = 2, mtbf: str = "200h", hc: bool = False, **maintenance) -> Scenario:
    api = {"replicas": n, "min_healthy": k, "failure": {"mtbf": mtbf},
           "repair": {"dist": "lognormal", "median": "4h", "sigma": 0.5},
           "maintenance": {"every": "7d", "lasting": "12h", "takes": 1, **maintenance}}
    if hc:
        api["health_check"] = {"interval": "10s"}
    return Scenario(name="windows", entry="api", horizon="2y", services={"api": api})


def served(m: int, k: int, a: float) -> float:
    """E[min(1, H / k)], H ~ Binomial(m, a)."""
    return sum(math.comb(m, h) * a ** h * (1 - a) ** (m - h) * min(1.0, h / k) for h in range(m + 1))


def closed_form(n: int, k: int, t: int, f: float, mtbf: float, mttr: float) -> float:
    a = mtbf / (mtbf + mttr)
    return (1 - f) * served(n, k, a) + f * served(n - t, k, a)


def _downtime(res):
    row = res.summary.set_index("metric").loc["downtime_minutes_per_year"]
    return row["mean"], row["ci_low"], row["ci_high"]


def _near(row, want: float, label: str) -> None:
    est, lo, hi = row
    se = (hi - lo) / 3.92
    assert se > 0, f"{label}: a zero-width interval"
    assert abs(est - want) <= 4.0 * se, f"{label}: {est} [{lo}, {hi}] vs {want}"
    assert 4.0 * se < 0.1 * want, f"{label}: no power"


MTTR = 4.0 * math.exp(0.5 ** 2 / 2)  # the lognormal's mean


@pytest.mark.parametrize("engine, replicas", [("numba", 1000), ("simpy", 200)])
def test_a_window_is_the_pool_without_the_instances_it_takes(engine, replicas):
    sc = pool()
    want = (1 - closed_form(3, 2, 1, 0.5 / 7, 200.0, MTTR)) * MINUTES
    assert hasim.analyze(sc).downtime_minutes_per_year == pytest.approx(want, rel=1e-9)
    _near(_downtime(simulate(sc, replicas=replicas, seed=1, engine=engine)), want, engine)


@pytest.mark.parametrize("engine", ["numba", "simpy"])
def test_a_window_that_leaves_a_pool_short_is_an_outage_of_its_own(engine):
    """Two instances that never fail, both needed: every window serves half for its 12 h, begins an
    outage caused by the window and is charged to the maintenance stage; the probes' pool is
    drained, not detected: no detection loss at the window's start."""
    for hc in (False, True):
        sc = pool(n=2, k=2, mtbf="10000000h", hc=hc)
        res = simulate(sc, replicas=20, seed=2, engine=engine)
        want = 0.5 * 0.5 / 7 * MINUTES
        assert _downtime(res)[0] == pytest.approx(want, rel=0.02)  # only the phase of the first window varies
        stages = res.stages.set_index("stage")["downtime_minutes_per_year"]
        # (but for the rare failure of an instance that never fails: MTBF 10^7 h)
        assert stages["maintenance"] == pytest.approx(_downtime(res)[0], rel=1e-3)
        # Detected, not drained, each window would cost the probes' 30 s at half the requests: 13 min a year.
        assert stages["detection"] < 0.01
        causes = res.attribution.set_index("cause")["downtime_minutes_per_year"]
        assert causes["maintenance api"] == pytest.approx(_downtime(res)[0], rel=1e-3)
        assert hasim.analyze(sc).downtime_minutes_per_year == pytest.approx(want, rel=1e-4)


def test_the_engines_agree_with_zones_and_windows():
    """A window and a zone outage can hold the same instance: it comes back when both are over."""
    zones = {"a": {"mtbf": "500h", "mttr": "8h"}, "b": {"mtbf": "500h", "mttr": "8h"}}
    sc = Scenario(name="mz", entry="api", horizon="2y", zones=zones, services={"api": {
        "replicas": 3, "min_healthy": 2, "zones": ["a", "b"], "failure": {"mtbf": "200h"},
        "repair": {"mttr": "4h"}, "maintenance": {"every": "7d", "lasting": "12h"}}})
    a, b = (simulate(sc, replicas=n, seed=3, engine=e) for e, n in (("numba", 1000), ("simpy", 300)))
    (x, xlo, xhi), (y, ylo, yhi) = _downtime(a), _downtime(b)
    se = np.hypot((xhi - xlo) / 3.92, (yhi - ylo) / 3.92)
    assert abs(x - y) <= 4 * se, (x, y, se)
    want = hasim.analyze(sc).downtime_minutes_per_year
    assert abs(x - want) <= 4 * (xhi - xlo) / 3.92, (x, want)


def test_a_longer_window_costs_more_and_more_room_costs_less():
    costs = [hasim.analyze(pool(lasting=f"{h}h")).downtime_minutes_per_year for h in (2, 12, 48)]
    assert costs[0] < costs[1] < costs[2]
    assert hasim.analyze(pool(n=4)).downtime_minutes_per_year < hasim.analyze(pool(n=3)).downtime_minutes_per_year
    knobs = {k.kind for k in hasim.model.mechanisms.knobs(pool())}
    assert {"maintenance_lasting", "maintenance_every"} <= knobs


@pytest.mark.parametrize("svc, expected", [
    ({"maintenance": {"every": "1h", "lasting": "2h"}}, "services.api.maintenance.lasting: a window must end"),
    ({"maintenance": {"every": "7d", "lasting": "2h", "takes": 4}}, "services.api.maintenance: a window takes 4"),
    ({"maintenance": {"every": "7d", "lasting": "2h", "takes": 0}}, "services.api.maintenance.takes"),
    ({"maintenance": {"every": "7d"}}, "services.api.maintenance.lasting"),
    ({"maintenance": {"every": "7d", "lasting": "2h"}, "mode": "standby", "failover": {"detection": "1m",
      "promotion": "1m"}}, "'maintenance' only applies to mode: active"),
])
def test_bad_windows_name_the_key(svc, expected):
    api = {"replicas": 3, "mtbf": "100h", "mttr": "1h", **svc}
    with pytest.raises(ScenarioError) as info:
        Scenario(name="x", entry="api", services={"api": api})
    assert expected in str(info.value), str(info.value)
