"""Timeouts and circuit breakers (:mod:`hasim.model.breaker`): a failing dependency's timed-out calls
hold the caller's workers; a breaker opens after its window, fails fast or falls back, sheds the
dependency's load, half-opens after its reset timeout and closes once the dependency answers.

No closed form covers a breaker's cycle in general, but on histories where every duration is fixed
the rule gives the outage to the second.  Each test writes that answer down from the README's rule
(sharing no code with either engine) and holds both engines to it to rounding; the shipped
``circuit-breaker`` scenario and the random scenarios of ``tests/test_cross_engine.py`` hold the
engines to each other on random histories.
"""

from __future__ import annotations

import numpy as np
import pytest

from hasim.errors import ScenarioError
from hasim.model.mechanisms import STAGES
from hasim.analytic.analysis import analyze
from hasim.sim.engine import simulate

from .._exact import scenario

SECOND = 1.0 / 3600.0
NEVER = {"failure": {"dist": "fixed", "value": 1e6}, "repair": {"dist": "fixed", "value": 1.0}}
#: The dependency is down [10, 12), [22, 24), [34, 36) ... (up 10 h, down 2 h).
FLAPPING = {"failure": {"dist": "fixed", "value": 10.0}, "repair": {"dist": "fixed", "value": 2.0}}
HORIZON = 36.0
DOWN = [(10.0, 12.0), (22.0, 24.0), (34.0, 36.0)]
ENGINES = ["numba", "simpy"]


def api(**extra):
    """Four instances of 100 req/s under 200 req/s (two needed), 50 ms per request; instances never fail."""
    return {"replicas": 4, "capacity": 100, "load": 200, "latency": "50ms", **NEVER, **extra}


def _same(got, want):
    assert len(got) == len(want), (got, want)
    np.testing.assert_allclose(np.array(got, dtype=float).reshape(-1, 2), np.array(want, dtype=float).reshape(-1, 2),
                               atol=1e-9)


def run(sc, engine):
    res = simulate(sc, replicas=1, horizon=HORIZON, seed=1, engine=engine)
    o = res.out
    keep = ~np.isnan(o.out_start[0])
    outages = sorted(zip(o.out_start[0][keep], o.out_start[0][keep] + o.out_dur[0][keep]))
    return res, outages, dict(zip(STAGES, o.loss[0].sum(axis=0)))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_slow_optional_dependency_takes_its_caller_down_through_its_timeouts(engine):
    # recs is optional: its outage costs nothing by itself.  But each request waits 1 s (20 latencies) for
    # it, so while it is down a request holds a worker 21 times as long: the pool needs 2 x 21 = 42
    # instances and serves 4 / 42 of its requests.
    sc = scenario("api", {"api": api(optional=["recs"], timeouts={"recs": "1s"}), "recs": FLAPPING})
    res, outages, stages = run(sc, engine)
    lost = sum(b - a for a, b in DOWN) * (1 - 4 / 42)
    assert res.out.ra[0] == pytest.approx(1 - lost / HORIZON, rel=1e-12)
    _same(outages, DOWN)
    assert stages["breaker"] == pytest.approx(lost, rel=1e-9)   # enough instances, not enough free workers
    # Without the timeout, the optional dependency's outage costs nothing.
    quiet = scenario("api", {"api": api(optional=["recs"], latency=None), "recs": FLAPPING})
    assert run(quiet, engine)[0].out.ra[0] == 1.0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_breaker_with_a_fallback_limits_the_loss_to_its_window(engine):
    # The breaker opens 10 s into each outage; open, no call waits and the fallback serves.  Every 30 s
    # it half-opens, finds recs still down and opens again at once; after recs is back it closes.
    breaker = {"threshold": "50%", "window": "10s", "reset_timeout": "30s", "fallback": "serve"}
    sc = scenario("api", {"api": api(optional=["recs"], timeouts={"recs": "1s"}, breakers={"recs": breaker}),
                          "recs": FLAPPING})
    res, outages, stages = run(sc, engine)
    lost = len(DOWN) * 10 * SECOND * (1 - 4 / 42)
    assert res.out.ra[0] == pytest.approx(1 - lost / HORIZON, rel=1e-9)
    _same(outages, [(a, a + 10 * SECOND) for a, _ in DOWN])
    assert stages["breaker"] == pytest.approx(lost, rel=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_breaker_that_fails_fast_stays_open_until_its_next_half_open(engine):
    # db is a hard dependency: down, nothing is served either way.  The breaker opens at 10 h + 10 s and
    # half-opens every 30 s after that; db is back at 12 h = 10 h + 7200 s, and the first half-open after
    # it is at 10 h + 7210 s: 10 s more of failing fast, charged to the breaker (it has not noticed).
    breaker = {"threshold": 0.5, "window": "10s", "reset_timeout": "30s", "fallback": "fail"}
    sc = scenario("api", {"api": api(requires=["db"], latency=None, breakers={"db": breaker}), "db": FLAPPING})
    res, outages, stages = run(sc, engine)
    extra = 10 * SECOND
    last_open = min(DOWN[-1][1] + extra, HORIZON)
    want = [(a, b + extra) for a, b in DOWN[:-1]] + [(DOWN[-1][0], last_open)]
    _same(outages, want)
    assert res.out.ra[0] == pytest.approx(1 - sum(b - a for a, b in want) / HORIZON, rel=1e-9)
    assert stages["breaker"] == pytest.approx(2 * extra, rel=1e-6)   # the last outage runs to the horizon


@pytest.mark.parametrize("engine", ENGINES)
def test_an_open_breaker_sheds_the_load_that_keeps_a_collapsed_dependency_down(engine):
    # db (6 instances over 3 zones, 5 needed at 500 req/s) collapses 6 min after zone a goes down and its
    # clients' retries keep it collapsed after the zone is back (tests/mechanisms/test_overload.py).  A
    # breaker on api -> db cuts db's load while it is open: db recovers, and once the zone is back the
    # half-open breaker finds db serving and closes.  The outage ends within a window and a reset of
    # the zone's return instead of lasting to the horizon.
    zones = {"a": {"failure": {"dist": "fixed", "value": 10.0}, "repair": {"dist": "fixed", "value": 2.0}},
             "b": NEVER, "c": NEVER}
    db = {"replicas": 6, "zones": ["a", "b", "c"], "capacity": 100, **NEVER,
          "overload": {"threshold": 1.0, "grace": 0.1, "recovery": 0.95, "goodput": 0.25},
          "retries": {"attempts": 3}}
    front = {"replicas": 1, "capacity": 1000, "load": 500, "requires": ["db"], **NEVER}
    storm = scenario("api", {"api": front, "db": db}, zones=zones)
    breaker = {"threshold": 0.5, "window": "10s", "reset_timeout": "30s", "fallback": "fail"}
    guarded = scenario("api", {"api": {**front, "breakers": {"db": breaker}}, "db": db}, zones=zones)
    _, stormy, _ = run(storm, engine)
    assert stormy[0][0] == pytest.approx(10.0) and stormy[0][1] == pytest.approx(HORIZON)  # metastable
    res, outages, stages = run(guarded, engine)
    for (a, b), (za, zb) in zip(outages, [(10.0, 12.0), (22.0, 24.0), (34.0, 36.0)]):
        assert a == pytest.approx(za, abs=1e-9)
        assert zb <= b <= zb + 40 * SECOND + 1e-9   # back at the first half-open after the zone
    assert res.out.ra[0] > 1 - 3 * (2.0 + 40 * SECOND) / HORIZON
    # The zone is down for all of it: charged to the zone, not to the breaker's dependency seeming back.
    assert [stage for stage, x in stages.items() if x] == ["zone"]


def test_both_engines_agree_on_every_number_of_the_guarded_history():
    breaker = {"threshold": 0.5, "window": "10s", "reset_timeout": "30s", "fallback": "serve"}
    sc = scenario("api", {"api": api(optional=["recs"], timeouts={"recs": "1s"}, breakers={"recs": breaker},
                                     overload={"threshold": 1.0, "grace": "1m", "recovery": 0.8}),
                          "recs": FLAPPING})
    a = simulate(sc, replicas=1, horizon=HORIZON, seed=1, engine="numba").out
    b = simulate(sc, replicas=1, horizon=HORIZON, seed=1, engine="simpy").out
    for field in ("ra", "ta", "degraded", "down", "loss"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=1e-9, atol=1e-12, err_msg=field)


def test_analyze_says_timeouts_and_breakers_are_not_in_its_answer():
    breaker = {"fallback": "serve"}
    sc = scenario("api", {"api": api(optional=["recs"], timeouts={"recs": "1s"}, breakers={"recs": breaker}),
                          "recs": FLAPPING})
    res = analyze(sc)
    assert not res.exact and any("breaker" in note for note in res.notes)


@pytest.mark.parametrize("change, path, words", [
    ({"breakers": {"cache": {}}}, "services.api.breakers.cache", "not a dependency"),
    ({"timeouts": {"cache": "1s"}}, "services.api.timeouts.cache", "not a dependency"),
    ({"timeouts": {"recs": "1s"}, "latency": None}, "services.api.latency", "timeouts need 'latency'"),
    ({"latency": "50ms"}, "services.api.latency", "only matters with 'timeouts'"),
    ({"breakers": {"recs": {"threshold": "150%"}}}, "services.api.breakers.recs.threshold", "between 0 and 1"),
    ({"breakers": {"recs": {"threshold": 0}}}, "services.api.breakers.recs.threshold", "between 0 and 1"),
    ({"breakers": {"recs": {"fallback": "maybe"}}}, "services.api.breakers.recs.fallback", "serve"),
    ({"breakers": {"recs": {"reset_timeout": "0s"}}}, "services.api.breakers.recs", "reset_timeout"),
    ({"breakers": {"recs": {"windw": "1s"}}}, "services.api.breakers.recs.windw", ""),
])
def test_bad_breakers_and_timeouts_get_clear_errors(change, path, words):
    svc = {**api(optional=["recs"], latency=None), **change}
    svc = {k: v for k, v in svc.items() if v is not None}
    with pytest.raises(ScenarioError) as err:
        scenario("api", {"api": svc, "recs": FLAPPING, "cache": NEVER})
    text = str(err.value)
    assert path in text and words in text, text


def test_a_timeout_needs_a_pool_with_a_capacity():
    with pytest.raises(ScenarioError, match="services.api.timeouts.recs"):
        scenario("api", {"api": {"replicas": 2, **NEVER, "optional": ["recs"], "timeouts": {"recs": "1s"},
                                 "latency": "50ms"}, "recs": FLAPPING})


def test_the_shipped_circuit_breaker_scenario(scenarios_dir):
    # The header comment of scenarios/circuit-breaker.yaml, at 300 replicas: with the breaker the SLO
    # (99.95 %) is met with room to spare and nothing collapses; without it the API collapses whenever a
    # recommendation instance is down (about 0.4 % of the time), and analyze says it cannot tell.
    from hasim import load

    sc = load(scenarios_dir / "circuit-breaker.yaml")
    without = sc.replace({"services.api.breakers": {}})
    runs = {}
    for name, design in (("with", sc), ("without", without)):
        res = simulate(design, replicas=300, seed=5)
        loss = res.out.loss.sum(axis=(0, 1))
        runs[name] = (res.out.ra.mean(), loss[STAGES.index("overload")] / loss.sum())
    (ra_with, overload_with), (ra_without, overload_without) = runs["with"], runs["without"]
    assert ra_with > 0.99998 and overload_with == 0.0
    assert 0.994 < ra_without < 0.9975 and overload_without > 0.95
    bound = analyze(sc)
    assert not bound.exact and any("breaker" in note for note in bound.notes)
