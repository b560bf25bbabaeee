"""Zones (the ``zone`` stage): a common cause that takes every instance placed in it (or in a zone
``within`` it) down at once; instance clocks stop while their zone is down.

Against the exact solver within 4 SE, with power against a 2 % MTTR error (:mod:`tests._exact`).
"""

from __future__ import annotations


import numpy as np
import pytest

from hasim.sim.engine import simulate

from .._exact import agree, scenario


def fixed(value):
    return {"dist": "fixed", "value": value}


def test_nested_zones():
    zones = {
        "region": {"mtbf": 300, "mttr": 10},
        "az-a": {"mtbf": 200, "mttr": 10, "within": "region"},
        "az-b": {"mtbf": 200, "mttr": 10, "within": "region"},
    }
    sc = scenario("web", {"web": {"replicas": 3, "zones": ["az-a", "az-b"], "failure": {"mtbf": 100},
                                  "repair": {"mttr": 5}}}, zones=zones)
    agree(sc, "region", replicas=40, horizon=2e6)


def test_zone_outage_suspends_the_instance_clock():
    # Instance: 10 h up, 1 h repair; zone: 6 h up, 3 h down.  By hand (see the comments):
    # zone down [6, 9): life left 4 -> fails at 13, back at 14; zone down [15, 18): left 9 -> fails
    # at 27, but zone down [24, 27) leaves 3 -> fails at 30, back at 31; zone down [33, 36).
    sc = scenario("a", {"a": {"zones": ["z"], "failure": fixed(10), "repair": fixed(1)}},
                  zones={"z": {"failure": fixed(6), "repair": fixed(3)}})
    res = simulate(sc, replicas=1, horizon=36, seed=1)
    o = res.out
    np.testing.assert_allclose(o.ra, 1 - 14 / 36, rtol=1e-12)
    assert o.outages[0] == 6
    np.testing.assert_allclose(o.out_start[0, :6], [6, 13, 15, 24, 30, 33])
    np.testing.assert_allclose(o.out_dur[0, :6], [3, 1, 3, 3, 1, 3])
    causes = [res.labels.causes[c] for c in o.out_cause[0, :6]]
    assert causes == ["zone z", "a", "zone z", "zone z", "a", "zone z"]
    attribution = dict(zip(res.attribution.cause, res.attribution.downtime_minutes_per_year))
    years = 36 / 8760
    assert attribution["zone z"] == pytest.approx(12 * 60 / years)
    assert attribution["a"] == pytest.approx(2 * 60 / years)
