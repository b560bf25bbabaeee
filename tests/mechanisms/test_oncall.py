"""People: a failed promotion waits for the paged on-call engineer, then for the manual action
(hasim.model.oncall), on both engines, against the closed form and ``hasim analyze``.

Closed form.  A hot standby pair (MTBF 1000 h, repair exactly 2 h, detection and promotion 1 min
each) whose promotions always fail (``success: 0``) and whose manual action takes 5 min: every
failure of the active while the standby is up (``lambda a^2`` an hour, ``a = MTBF / (MTBF + MTTR)``)
costs 2 min of ``failover``, then the engineer's response (``response``), then 5 min more of
``failover``; the 2 h repair always outlasts the chain (responses here are at most 40 min), so the
repair never ends it first.  Pages fall uniformly over the hours of the day (the failures are a
Poisson stream), so the mean response is ``9/24 x E[day] + 15/24 x E[night]`` with business hours
[9, 18).  Second order (B): the standby down when the active fails (``1 - a`` = 0.2 %).
"""

from __future__ import annotations

import math

import pytest

import hasim
from hasim import Scenario
from hasim.errors import ScenarioError
from hasim.sim.engine import simulate

MTBF, MTTR = 1000.0, 2.0
A = MTBF / (MTBF + MTTR)
RATE = 8760.0 * A * A / MTBF  # failovers a year
ENGINES = [("numba", 300), ("simpy", 100)]


def pair(**oncall) -> Scenario:
    db = {"mode": "standby", "replicas": 2, "failure": {"mtbf": f"{MTBF}h"},
          "repair": {"dist": "fixed", "value": f"{MTTR}h"},
          "failover": {"detection": "1m", "promotion": "1m", "success": 0, "manual": "5m"}}
    oc = {"respond": "10m", "night": {"dist": "uniform", "low": "10m", "high": "40m"}, **oncall}
    return Scenario(name="pager", entry="db", horizon="10y", services={"db": db}, oncall=oc)


def _near(est, lo, hi, want, label, b=0.0):
    se = (hi - lo) / 2.0 / 1.96
    assert se > 0, f"{label}: a zero-width interval"
    assert abs(est - want) <= 4.0 * se + b * want, f"{label}: {est} [{lo}, {hi}] vs {want}"
    assert 4.0 * se + b * want < 0.1 * want, f"{label}: no power"


def _stage(res, stage):
    row = res.stages.set_index("stage").loc[stage]
    return row["downtime_minutes_per_year"], row["ci_low"], row["ci_high"]


@pytest.mark.parametrize("engine, replicas", ENGINES)
@pytest.mark.parametrize("hours, respond", [([9, 18], 9 / 24 * 10 + 15 / 24 * 25), ([0, 24], 10.0)])
def test_a_failed_promotion_waits_for_the_engineer_then_the_action(engine, replicas, hours, respond):
    sc = pair(business_hours=hours)
    res = simulate(sc, replicas=replicas, seed=3, engine=engine)
    B = 1.0 - A
    _near(*_stage(res, "response"), RATE * respond, f"response ({engine}, {hours})", b=B)
    _near(*_stage(res, "failover"), RATE * 7.0, f"failover ({engine}, {hours})", b=B)
    a = hasim.analyze(sc)
    by_stage = a.delays.groupby("stage")["minutes_per_year"].sum()
    assert by_stage["response"] == pytest.approx(RATE * respond, rel=2 * B)
    assert by_stage["failover"] == pytest.approx(RATE * 7.0, rel=2 * B)


def test_without_a_night_law_every_hour_is_answered_alike():
    sc = pair(night=None, business_hours=[9, 18])
    by_stage = hasim.analyze(sc).delays.groupby("stage")["minutes_per_year"].sum()
    assert by_stage["response"] == pytest.approx(RATE * 10.0, rel=2 * (1 - A))


def test_a_repair_that_comes_first_ends_the_wait():
    """Repairs of exactly 3 min: the instance is back 1 min into the engineer's response, every time:
    1 min of response, none of the manual action."""
    sc = pair(night=None).replace({"services.db.repair": {"dist": "fixed", "value": "3m"}})
    res = simulate(sc, replicas=300, seed=2)
    rate = 8760.0 / MTBF * (MTBF / (MTBF + 0.05)) ** 2
    _near(*_stage(res, "response"), rate * 1.0, "cut short", b=0.01)
    assert _stage(res, "failover")[0] == pytest.approx(rate * 2.0, rel=0.1)


@pytest.mark.parametrize("oncall, expected", [
    ({"respond": "5m", "business_hours": [18, 9]}, "business_hours: expected [start, end]"),
    ({"respond": "5m", "business_hours": [9]}, "business_hours: expected [start, end]"),
    ({"respond": "-5m"}, "oncall.respond"),
    ({"night": "5m"}, "oncall.respond"),
    ({"respond": "5m", "pager": "yes"}, "oncall.pager"),
])
def test_bad_oncall_names_the_key(oncall, expected):
    db = {"mode": "standby", "replicas": 2, "mtbf": "100h", "mttr": "1h",
          "failover": {"detection": "1m", "promotion": "1m", "manual": "5m"}}
    with pytest.raises(ScenarioError) as info:
        Scenario(name="x", entry="db", services={"db": db}, oncall=oncall)
    assert expected in str(info.value), str(info.value)


def test_an_on_call_nobody_pages_is_an_error():
    with pytest.raises(ScenarioError, match="no manual recovery waits for the on-call"):
        Scenario(name="x", entry="api", services={"api": {"mtbf": "100h", "mttr": "1h"}}, oncall={"respond": "5m"})


# -- paged repairs (repair_paged): the repair starts when the engineer answers -------------------------

RESPOND = 9 / 24 * 10 + 15 / 24 * 40  # minutes: 10 by day, 40 at night, business hours [9, 18)


def hand_repaired(oncall=None, **svc) -> Scenario:
    db = {"replicas": 1, "failure": {"mtbf": "100h"}, "repair": {"dist": "fixed", "value": "1h"},
          "repair_paged": True, **svc}
    return Scenario(name="hands", entry="db", horizon="5y", services={"db": db},
                    oncall=oncall or {"respond": "10m", "night": "40m"})


@pytest.mark.parametrize("engine, replicas", [("numba", 400), ("simpy", 60)])
def test_a_paged_repair_waits_for_the_engineer(engine, replicas):
    """One instance: down for the response, then the 1 h repair.  Alternating renewal: A = 100 /
    (100 + E[response] + 1); the response's share of the downtime is E[response] / (E[response] + 1 h)."""
    sc = hand_repaired()
    cycle = 100.0 + RESPOND / 60 + 1.0
    res = simulate(sc, replicas=replicas, seed=1, engine=engine)
    _near(*_stage(res, "response"), 8760 / cycle * RESPOND, f"response ({engine})")
    _near(*_stage(res, "repair"), 8760 / cycle * 60.0, f"repair ({engine})")
    assert hasim.analyze(sc).request_availability == pytest.approx(100.0 / cycle, rel=1e-12)


def test_a_paged_repair_is_as_long_as_its_mean_for_a_pool():
    """A 2-of-3 pool's steady state depends on each repair's mean only (independent renewals): the
    solver's exact answer with the response added to the mean, and the kernel within its interval.
    (With a night law the instances' repairs are longer at the same hours: no longer independent,
    which the solver leaves out.)"""
    sc = hand_repaired(replicas=3, min_healthy=2, failure={"mtbf": "20h"},
                       oncall={"respond": {"dist": "lognormal", "median": "15m", "sigma": 0.8}})
    a = 20.0 / (20.0 + 0.25 * math.exp(0.32) + 1.0)
    want = a ** 3 + 3 * a * a * (1 - a) + 3 * a * (1 - a) ** 2 / 2  # serves min(1, up / 2)
    assert hasim.analyze(sc).request_availability == pytest.approx(want, rel=1e-12)
    res = simulate(sc, replicas=300, seed=2)
    row = res.summary.set_index("metric").loc["request_availability"]
    assert abs(row["mean"] - want) <= 4 * (row.ci_high - row.ci_low) / 3.92


def test_a_failed_promotion_waits_for_the_paged_repair():
    """Promotions always fail, no manual action: down until the failed instance is back, its page's
    response plus the 2 h repair after it failed (the solver's term: E[(A + R - delay)+])."""
    db = {"mode": "standby", "replicas": 2, "failure": {"mtbf": f"{MTBF}h"},
          "repair": {"dist": "fixed", "value": f"{MTTR}h"}, "repair_paged": True,
          "failover": {"detection": "1m", "promotion": "1m", "success": 0}}
    sc = Scenario(name="pager", entry="db", horizon="10y", services={"db": db},
                  oncall={"respond": "10m", "night": "40m"})
    a = MTBF / (MTBF + MTTR + RESPOND / 60)
    rate = 8760.0 * a * a / MTBF
    want = rate * (MTTR * 60 + RESPOND)  # down from the failure (2 min of a promotion that fails) to its return
    by_stage = hasim.analyze(sc).delays.groupby("stage")["minutes_per_year"].sum()
    assert by_stage["failover"] == pytest.approx(want, rel=2 * (1 - a))
    res = simulate(sc, replicas=300, seed=3)
    _near(*_stage(res, "failover"), want, "failover waits for the paged repair", b=2 * (1 - a))


def test_a_paged_repair_needs_an_on_call_and_instances():
    with pytest.raises(ScenarioError, match="services.db.repair_paged: a paged repair needs an on-call"):
        Scenario(name="x", entry="db", services={"db": {"mtbf": "100h", "mttr": "1h", "repair_paged": True}})
    with pytest.raises(ScenarioError, match="'repair_paged' does not apply to a router"):
        Scenario(name="x", entry="edge", oncall={"respond": "5m"}, services={
            "edge": {"route": "failover", "targets": ["db"], "repair_paged": True},
            "db": {"mtbf": "100h", "mttr": "1h", "repair_paged": True}})
    Scenario(name="x", entry="db", oncall={"respond": "5m"},  # a paged repair is enough to page someone
             services={"db": {"mtbf": "100h", "mttr": "1h", "repair_paged": True}})
