"""Autoscaling (the ``scaling`` stage): a target-tracking policy adds instances after its delay when
fewer are in service than it wants, up to ``max``, and removes the ones it added after ``scale_in``.

No closed form covers it, but on histories where every duration is fixed the rule gives each
outage to the second: each test writes that answer down (sharing no code with either engine) and
holds both engines to it to rounding.  The shipped ``autoscaling`` scenario and the random scenarios
of ``tests/test_cross_engine.py`` hold the engines to each other on random histories.
"""

from __future__ import annotations

import numpy as np
import pytest

from hasim.errors import ScenarioError
from hasim.model.autoscaling import wanted
from hasim.model.mechanisms import STAGES
from hasim.analytic.analysis import analyze
from hasim.sim.engine import simulate

from .._exact import scenario

MINUTE = 1.0 / 60.0
NEVER = {"failure": {"dist": "fixed", "value": 1e6}, "repair": {"dist": "fixed", "value": 1.0}}
ZONES = {"a": {"failure": {"dist": "fixed", "value": 10.0}, "repair": {"dist": "fixed", "value": 2.0}},
         "b": NEVER, "c": NEVER}
ENGINES = ["numba", "simpy"]
HORIZON = 36.0


def run(sc, engine, horizon=HORIZON):
    res = simulate(sc, replicas=1, horizon=horizon, seed=1, engine=engine)
    o = res.out
    keep = ~np.isnan(o.out_start[0])
    outages = sorted(zip(o.out_start[0][keep], o.out_start[0][keep] + o.out_dur[0][keep]))
    return res, outages, dict(zip(STAGES, o.loss[0].sum(axis=0)))


def _same(got, want):
    assert len(got) == len(want), (got, want)
    np.testing.assert_allclose(np.array(got, dtype=float).reshape(-1, 2), np.array(want, dtype=float).reshape(-1, 2),
                               atol=1e-9)


def group(**autoscaling):
    """Two instances per zone of three, 100 req/s each, under 420 req/s (4.2 needed): zone ``a`` is down
    [10, 12), [22, 24), [34, 36), and the four left serve 4 / 4.2."""
    api = {"zones": ["a", "b", "c"], "capacity": 100, "load": 420, **NEVER,
           "autoscaling": {"target": "70%", "delay": "5m", "max": 12, "min_per_zone": 2, **autoscaling}}
    return scenario("api", {"api": api}, zones=ZONES)


def group_without_policy():
    api = {"replicas": 6, "zones": ["a", "b", "c"], "capacity": 100, "load": 420, **NEVER}
    return scenario("api", {"api": api}, zones=ZONES)


def test_wanted_reads_the_ratio_to_a_billionth():
    assert wanted(4.2, 0.7) == 6 and wanted(4.2 + 1e-6, 0.7) == 7 and wanted(0.0, 0.7) == 0


@pytest.mark.parametrize("engine", ENGINES)
def test_a_scale_out_ends_a_zone_loss_after_its_delay(engine):
    # The policy wants ceil(4.2 / 0.7) = 6 in service; with zone a down it has 4, and 5 minutes later it
    # has 4 + 2.  When the zone is back it has 8, and 15 minutes later the 2 it added are gone.
    res, outages, stages = run(group(), engine)
    lost_per_zone_loss = 5 * MINUTE * (1 - 4 / 4.2)
    _same(outages, [(a, a + 5 * MINUTE) for a in (10.0, 22.0, 34.0)])
    assert res.out.ra[0] == pytest.approx(1 - 3 * lost_per_zone_loss / HORIZON, rel=1e-9)
    assert stages["scaling"] == pytest.approx(3 * lost_per_zone_loss, rel=1e-9)   # not the zone's: what ends it
    # Without the policy the zone loss lasts its two hours.
    static, _, _ = run(group_without_policy(), engine)
    assert static.out.ra[0] == pytest.approx(1 - 3 * 2.0 * (1 - 4 / 4.2) / HORIZON, rel=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_group_at_its_maximum_cannot_add_and_sheds_as_a_static_pool(engine):
    res, outages, stages = run(group(max=6), engine)
    _same(outages, [(10.0, 12.0), (22.0, 24.0), (34.0, 36.0)])
    assert res.out.ra[0] == pytest.approx(1 - 3 * 2.0 * (1 - 4 / 4.2) / HORIZON, rel=1e-9)
    assert stages["scaling"] == 0.0 and stages["zone"] > 0


DAY = [0.4] * 8 + [1.0] * 12 + [0.4] * 4   # 500 req/s from 08:00 to 20:00, 200 at night


@pytest.mark.parametrize("engine", ENGINES)
def test_the_morning_ramp_waits_for_the_scale_out(engine):
    # Four instances of 100 req/s: at night 2 are needed (the policy wants ceil(2 / 0.9) = 3: no change),
    # at 08:00 five (it wants 6): for 5 minutes the four serve 4 / 5, then 4 + 2 serve all.  At 20:00 it
    # wants 3 again and 15 minutes later the two it added are gone.  Three days.
    api = {"replicas": 4, "capacity": 100, "load": {"rate": 500, "daily": DAY}, **NEVER,
           "autoscaling": {"target": 0.9, "delay": "5m", "scale_in": "15m", "max": 8}}
    sc = scenario("api", {"api": api})
    res, outages, stages = run(sc, engine, horizon=72.0)
    _same(outages, [(d + 8.0, d + 8.0 + 5 * MINUTE) for d in (0.0, 24.0, 48.0)])
    peak_weight = 1.0 / (sum(DAY) / 24)                  # a peak hour carries 1 / 0.7 mean hours of requests
    assert res.out.ra[0] == pytest.approx(1 - 3 * 5 * MINUTE * 0.2 * peak_weight / 72.0, rel=1e-9)
    assert stages["scaling"] > 0 and stages["capacity"] == 0.0


def test_analyze_answers_for_the_minimum_and_says_so():
    res = analyze(group())
    assert not res.exact and any("autoscaling" in note for note in res.notes)
    assert res.request_availability == pytest.approx(analyze(group_without_policy()).request_availability)


@pytest.mark.parametrize("change, path, words", [
    ({"capacity": None, "load": None, "min_healthy": 4}, "services.api.autoscaling", "capacity"),
    ({"zones": []}, "services.api.autoscaling.min_per_zone", "zones"),
    ({"replicas": 5}, "services.api.replicas", "fewer than autoscaling.min_per_zone"),
    ({"autoscaling": {"target": 0.7, "max": 4, "min_per_zone": 2}}, "services.api.autoscaling.max", "less than"),
    ({"autoscaling": {"target": "150%", "max": 12}}, "services.api.autoscaling.target", "between 0 and 1"),
    ({"autoscaling": {"max": 12}}, "services.api.autoscaling.target", ""),
    ({"autoscaling": {"target": 0.7, "max": 12, "cooldown": "5m"}}, "services.api.autoscaling.cooldown", ""),
])
def test_bad_autoscaling_gets_clear_errors(change, path, words):
    api = {"zones": ["a", "b", "c"], "capacity": 100, "load": 420, **NEVER,
           "autoscaling": {"target": 0.7, "max": 12, "min_per_zone": 2}, **change}
    api = {k: v for k, v in api.items() if v is not None}
    with pytest.raises(ScenarioError) as err:
        scenario("api", {"api": api}, zones=ZONES)
    text = str(err.value)
    assert path in text and words in text, text
