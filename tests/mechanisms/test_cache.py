"""A cached dependency (the ``stale-cache`` stage): the cache hides the first TTL of each outage.

Closed forms and tolerances: :mod:`tests.mechanisms._closed_forms` (case 3).
"""

from __future__ import annotations

import math

import pytest

import hasim
from hasim import Scenario
from hasim.sim.kernel._output import STALE_CACHE

from ..conftest import SCENARIOS
from ._closed_forms import (HOURS_PER_YEAR, MIN_PER_YEAR, check, delay_rows, engines,
                            estimate, run, share, stage, NEVER, charged)


# --- 3. cached dependency -----------------------------------------------------------------------------------

CACHED = hasim.load(SCENARIOS / "cached.yaml")


def _cache_formula(sc: Scenario, horizon: float) -> dict[str, float]:
    db, cat = sc.services["db"], sc.services["catalogue"]
    assert db.repair.dist == "exponential" and db.replicas == 1 and not db.zones
    m, ttl = db.repair.mean_hours, cat.cached[0].ttl
    rate = 1.0 / (db.failure.mean_hours + m)
    own = (cat.repair.mean_hours / (cat.failure.mean_hours + cat.repair.mean_hours)) ** cat.replicas
    shown = rate * m * math.exp(-ttl / m) * MIN_PER_YEAR
    return {"m": m, "ttl": ttl, "rate": rate, "shown": shown, "masked": m * (1 - math.exp(-ttl / m)),
            "bound": own * MIN_PER_YEAR + m / horizon * shown}                  # minutes per year


def test_cache_formula_and_analyze_agree():
    f = _cache_formula(CACHED, math.inf)
    assert f["m"] * math.exp(-f["ttl"] / f["m"]) * 60 == pytest.approx(21.5, abs=0.05)
    assert f["shown"] == pytest.approx(188.2, abs=0.05)
    exact = hasim.analyze(CACHED, cut_sets=False)
    rows = delay_rows(exact)
    assert set(rows) == {"stale-cache"}
    row = rows["stale-cache"]
    assert row["service"] == "catalogue"
    assert row["events_per_year"] == pytest.approx(f["rate"] * HOURS_PER_YEAR, rel=1e-6)
    assert row["hours_per_event"] == pytest.approx(-f["masked"], rel=1e-9)
    # What shows: the database's unavailability minus what the cache masks.
    assert exact.downtime_minutes_per_year == pytest.approx(f["shown"], rel=1e-6)


@pytest.mark.parametrize("engine, replicas", engines(simpy=40, numba=4000))
def test_cached_dependency_shows_m_exp_minus_ttl_over_m(engine, replicas):
    horizon = 50 * HOURS_PER_YEAR
    f = _cache_formula(CACHED, horizon)
    res = run(CACHED, engine, replicas, horizon=horizon, seed=5)
    sim = estimate(res, "downtime_minutes_per_year")
    check("visible loss", sim, f["shown"], f["bound"])
    check("stage stale-cache", stage(res, "stale-cache"), f["shown"], f["bound"])
    assert share(res, "stale-cache") > 0.999
    db = res.attribution.set_index("cause").loc["db", "downtime_minutes_per_year"]
    assert db == pytest.approx(sim[0], rel=1e-6)         # charged to the database's failures


def _cache_exact(repair: float) -> Scenario:
    return Scenario(name="t", entry="cat", services={
        "cat": {**NEVER, "cached": {"service": "db", "ttl": 2}},
        "db": {"failure": {"dist": "fixed", "value": 10}, "repair": {"dist": "fixed", "value": repair}}})


@pytest.mark.parametrize("engine, replicas", engines(simpy=1, numba=1))
def test_cache_masks_exactly_ttl(engine, replicas):
    res = run(_cache_exact(5), engine, replicas, horizon=20, seed=0)
    assert (1 - res.out.ra[0]) * 20 == pytest.approx(3.0, abs=1e-12)
    assert res.out.out_start[0, 0] == pytest.approx(12.0)
    assert charged(res, "db", STALE_CACHE) == pytest.approx(3.0, abs=1e-12)
    short = run(_cache_exact(1.5), engine, replicas, horizon=20, seed=0)
    assert short.out.ra[0] == 1.0 and short.out.outages[0] == 0


