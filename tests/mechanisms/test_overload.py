"""Overload (the ``overload`` stage): collapse after a grace period above the threshold, recovery
only below the recovery threshold, client retries that keep a collapsed pool down (a metastable
failure), and a retry budget that removes it.

No closed form covers a collapse: both engines are held to an independent simulation written
here (:func:`independent`), on histories where every duration is fixed so that all three must
agree to rounding; the shipped ``retry-storm`` scenario and the random scenarios of
``tests/test_cross_engine.py`` hold the two engines to each other on random histories.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hasim.model.mechanisms import STAGES
from hasim.model.overload import retry_factor
from hasim.analytic.analysis import analyze
from hasim.sim.engine import simulate

from .._exact import scenario

DAY = [0.4] * 8 + [1.0] * 12 + [0.4] * 4   # peak from 08:00 to 20:00
PEAK_RPS, CAPACITY, REPLICAS = 500.0, 100.0, 6


def design(*, budget=None, overload=True, recovery=0.95, grace=0.1, goodput=0.25, admit=None):
    """Six instances over three zones at 83 % of capacity at peak (5 needed of 6), 33 % at night.
    Zone ``a`` (two instances) is down [10, 12), [22, 24), [34, 36) ...: at 10:00 at peak, at 22:00 at night.
    Instances never fail within the horizon."""
    api = {"replicas": REPLICAS, "zones": ["a", "b", "c"], "capacity": CAPACITY,
           "load": {"rate": PEAK_RPS, "daily": DAY},
           "failure": {"dist": "fixed", "value": 1e6}, "repair": {"dist": "fixed", "value": 1.0}}
    if overload:
        api["overload"] = {"threshold": 1.0, "grace": grace, "recovery": recovery, "goodput": goodput,
                           **({} if admit is None else {"admit": admit})}
        api["retries"] = {"attempts": 3, **({} if budget is None else {"budget": budget})}
    never = {"failure": {"dist": "fixed", "value": 1e6}, "repair": {"dist": "fixed", "value": 1.0}}
    zones = {"a": {"failure": {"dist": "fixed", "value": 10.0}, "repair": {"dist": "fixed", "value": 2.0}},
             "b": never, "c": never}
    return scenario("api", {"api": api}, zones=zones)


def independent(horizon, *, budget=None, overload=True, recovery=0.95, grace=0.1, goodput=0.25):
    """The same history simulated from the README's rule, sharing no code with either engine.

    Returns (request availability weighted by the hour's requests, [(outage start, end)]).
    """
    attempts, cap = 3, math.inf if budget is None else 1.0 + budget
    # Breakpoints: every hour (the profile) and every zone change, and the grace expiries found on the way.
    zone_down = []
    t = 10.0
    while t < horizon:
        zone_down.append((t, t + 2.0))
        t += 12.0
    times = sorted({float(h) for h in range(int(horizon) + 1)} | {x for iv in zone_down for x in iv if x < horizon})
    mean = sum(DAY) / 24

    def h_at(t):
        return REPLICAS - (2 if any(a <= t < b for a, b in zone_down) else 0)

    def k_at(t):
        return PEAK_RPS * DAY[int(t) % 24] / CAPACITY

    def offered(h, k, own):
        f = 1.0 - own
        m = 1.0 if f <= 0 else min(cap, attempts if f >= 1 else (1 - f**attempts) / (1 - f))
        return m * k / h if h > 0 and k > 0 else 0.0

    collapsed, grace_end = False, None
    lost = weight_total = 0.0
    outages, start = [], None
    t = 0.0
    while t < horizon:
        h, k = h_at(t), k_at(t)
        if grace_end is not None and t >= grace_end:     # still overloaded when the grace period ends
            collapsed, grace_end = True, None
        normal = 1.0 if h >= k else h / k
        served = normal
        if overload:
            if collapsed:
                held = min(normal, 1.0 if goodput * h >= k else goodput * h / k)
                if offered(h, k, held) < recovery:
                    collapsed = False
                else:
                    served = held
            if not collapsed:
                grace_end = (grace_end if grace_end is not None else t + grace) if offered(h, k, normal) > 1.0 \
                    else None
        nxt = min([x for x in times if x > t] + [horizon])
        if grace_end is not None:
            nxt = min(nxt, max(grace_end, t))
        if nxt == t:   # a grace period of zero: collapse at this instant
            continue
        w = DAY[int(t) % 24] / mean
        lost += (1.0 - served) * (nxt - t) * w
        weight_total += (nxt - t) * w
        if served < 1 and start is None:
            start = t
        elif served == 1 and start is not None:
            outages.append((start, t))
            start = None
        t = nxt
    if start is not None:
        outages.append((start, horizon))
    return 1.0 - lost / weight_total, outages


def _same_outages(got, want):
    assert len(got) == len(want), (got, want)
    np.testing.assert_allclose(np.array(got, dtype=float).reshape(-1, 2), np.array(want, dtype=float).reshape(-1, 2),
                               atol=1e-9)


def _outages(res):
    o = res.out
    keep = ~np.isnan(o.out_start[0])
    return sorted(zip(o.out_start[0][keep], o.out_start[0][keep] + o.out_dur[0][keep]))


@pytest.mark.parametrize("engine", ["numba", "simpy"])
@pytest.mark.parametrize("budget", [None, 0.1], ids=["no-budget", "budget-10%"])
def test_both_engines_follow_the_rule_hour_by_hour(engine, budget):
    horizon = 72.0
    sc = design(budget=budget)
    res = simulate(sc, replicas=1, horizon=horizon, seed=1, engine=engine)
    ra, outages = independent(horizon, budget=budget)
    assert res.out.ra[0] == pytest.approx(ra, rel=1e-12, abs=1e-12)
    _same_outages(_outages(res), outages)


def test_the_outage_outlasts_its_trigger_until_the_load_falls():
    # A zone lost at 10:00 at peak: the four instances left are offered 1.55x their capacity with retries,
    # the pool collapses at 10:06, and its clients' retries keep it down after the zone is back at 12:00
    # (offered 1.8x) until the evening trough at 20:00 (0.44x): 8 hours beyond the trigger, every day.
    _, outages = independent(72.0)
    _same_outages(outages, [(10.0, 20.0), (34.0, 44.0), (58.0, 68.0)])
    # The zone lost at 22:00, at night, costs nothing: 4 instances carry the 2 needed.
    res = simulate(design(), replicas=1, horizon=72.0, seed=1)
    _same_outages(_outages(res), outages)
    stages = dict(zip(STAGES, res.out.loss[0].sum(axis=0)))
    assert stages["overload"] > 0 and stages["zone"] > 0     # the zone while it lasts, then the collapse


@pytest.mark.parametrize("engine", ["numba", "simpy"])
def test_the_time_spent_collapsed_is_measured(engine):
    # Collapsed from 10:06 (the grace period after the zone loss at 10:00) to 20:00 (the evening trough),
    # three days running: 29.7 of the 72 hours; the services table says it in hours a year.
    res = simulate(design(), replicas=1, horizon=72.0, seed=1, engine=engine)
    assert res.out.overload[0, 0] == pytest.approx(3 * 9.9 / 72.0, rel=1e-12)
    row = res.services.set_index("service").loc["api"]
    assert row["overload_hours_per_year"] == pytest.approx(3 * 9.9 / 72.0 * 8760, rel=1e-12)
    # Measured from 12:00 after a warm-up: the first collapse's last 8 hours, two whole ones, and the fourth's
    # first 1.9 hours, still running at the end of the horizon (84 h).
    warm = simulate(design(), replicas=1, horizon=72.0, seed=1, engine=engine, warmup=12.0)
    assert warm.out.overload[0, 0] == pytest.approx((8.0 + 2 * 9.9 + 1.9) / 72.0, rel=1e-12)
    assert simulate(design(budget=0.1), replicas=1, horizon=72.0, seed=1, engine=engine).out.overload[0, 0] \
        == pytest.approx(3 * 1.9 / 72.0, rel=1e-12)


def test_a_retry_budget_removes_the_metastable_state():
    # Attempts capped at 1.1 per request: once the zone is back the offered load is 1.1 x 5/6 = 0.92 of the
    # capacity, below the recovery threshold (0.95): the outage ends with its trigger.
    res = simulate(design(budget=0.1), replicas=1, horizon=72.0, seed=1)
    _same_outages(_outages(res), [(10.0, 12.0), (34.0, 36.0), (58.0, 60.0)])


def test_without_overload_the_pool_sheds_and_loses_only_the_excess():
    res = simulate(design(overload=False), replicas=1, horizon=72.0, seed=1)
    ra, outages = independent(72.0, overload=False)
    _same_outages(outages, [(10.0, 12.0), (34.0, 36.0), (58.0, 60.0)])
    assert res.out.ra[0] == pytest.approx(ra, rel=1e-12)
    # 2 h a day at 4/5 served, at an hour carrying 1 / 0.7 of the mean hour's requests.
    assert 1 - ra == pytest.approx(3 * 2 * 0.2 / 0.7 / 72.0)


def test_a_grace_period_longer_than_the_trigger_prevents_the_collapse():
    res = simulate(design(grace=3.0), replicas=1, horizon=72.0, seed=1)
    _same_outages(_outages(res), [(10.0, 12.0), (34.0, 36.0), (58.0, 60.0)])
    assert res.out.loss[0].sum(axis=0)[STAGES.index("overload")] == 0.0   # never charged to overload


@pytest.mark.parametrize("engine", ["numba", "simpy"])
def test_an_admission_limiter_sheds_instead_of_collapsing(engine):
    # admit: 95 %: the pool lets in at most 0.95 x 4 / 5 = 76 % of the requests while zone a is down at peak
    # (the limiter rejects the rest at once), is never offered more than 95 % and never collapses.  At night
    # (need 2) the four left let in everything.  What is lost: 24 % of the peak's requests while the zone is
    # down at 10:00, three days running; the retry storm of test_the_outage_outlasts_its_trigger is gone.
    res = simulate(design(admit="95%"), replicas=1, horizon=72.0, seed=1, engine=engine)
    _same_outages(_outages(res), [(10.0, 12.0), (34.0, 36.0), (58.0, 60.0)])
    peak_weight = 1.0 / (sum(DAY) / 24)
    assert res.out.ra[0] == pytest.approx(1 - 3 * 2.0 * (1 - 0.76) * peak_weight / 72.0, rel=1e-12)
    assert res.out.loss[0].sum(axis=0)[STAGES.index("overload")] == 0.0


def test_retry_factor():
    assert retry_factor(3, math.inf, 0.0) == 1.0
    assert retry_factor(3, math.inf, 0.5) == pytest.approx(1.75)
    assert retry_factor(3, math.inf, 1.0) == 3.0
    assert retry_factor(3, 1.1, 0.5) == pytest.approx(1.1)
    assert retry_factor(1, math.inf, 0.9) == 1.0


def test_the_shipped_retry_storm_and_its_budget(scenarios_dir):
    # The header comments of scenarios/retry-storm.yaml and retry-budget.yaml, at 300 replicas: the storm's
    # collapse outlasts its trigger for about half of the downtime, the budget leaves a few percent of it,
    # and both stay below what a pool that sheds instead would serve (analyze's upper bound, which says so).
    from hasim import load

    runs = {}
    for name in ("retry-storm.yaml", "retry-budget.yaml"):
        sc = load(scenarios_dir / name)
        res = simulate(sc, replicas=300, seed=5)
        loss = res.out.loss.sum(axis=(0, 1))
        runs[name] = (res.out.ra.mean(), loss[STAGES.index("overload")] / loss.sum())
        bound = analyze(sc)
        assert not bound.exact and any("overload" in note for note in bound.notes)
        assert res.out.ra.mean() < bound.request_availability
    (ra_storm, share_storm), (ra_budget, share_budget) = runs["retry-storm.yaml"], runs["retry-budget.yaml"]
    assert 0.4 < share_storm < 0.6 and share_budget < 0.05
    assert ra_storm < 0.993 < ra_budget
