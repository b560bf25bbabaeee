"""Failure and repair (the ``repair`` stage): single instances with every law against the exact
solver, and the bookkeeping of a deterministic cycle.

Against the exact solver within 4 SE, with power against a 2 % MTTR error (:mod:`tests._exact`).
"""

from __future__ import annotations


import numpy as np
import pytest

from hasim.sim.engine import simulate

from .._exact import agree, scenario


def fixed(value):
    return {"dist": "fixed", "value": value}


@pytest.mark.parametrize("failure, repair", [
    ({"dist": "weibull", "shape": 1.5, "mean": 100}, {"dist": "lognormal", "median": 5, "sigma": 0.8}),
    ({"dist": "uniform", "low": 50, "high": 150}, {"dist": "fixed", "value": 5}),
    ({"dist": "exponential", "mean": 100}, {"dist": "empirical", "samples": [1, 2, 4, 8, 15]}),
    ({"dist": "lognormal", "mean": 100, "sigma": 1.0}, {"dist": "weibull", "shape": 0.7, "scale": 4}),
], ids=["weibull-lognormal", "uniform-fixed", "exponential-empirical", "lognormal-weibull"])
def test_single_instance_any_law(failure, repair):
    sc = scenario("a", {"a": {"failure": failure, "repair": repair}})
    agree(sc, "a", replicas=40, horizon=1e6)


def test_fixed_cycle_bookkeeping():
    sc = scenario("a", {"a": {"failure": fixed(10), "repair": fixed(1)}})
    res = simulate(sc, replicas=2, horizon=110, seed=1)
    o = res.out
    # Failures at 10, 21, ..., 109; repairs at 11, ..., 99 (the one at 110 is the horizon).
    assert list(o.events) == [19, 19]
    assert list(o.outages) == [10, 10]
    np.testing.assert_allclose(o.ra, 1 - 10 / 110, rtol=1e-12)
    np.testing.assert_allclose(o.ta, 1 - 10 / 110, rtol=1e-12)
    np.testing.assert_allclose(o.down, 10 / 110, rtol=1e-12)
    np.testing.assert_allclose(o.longest, 1.0)
    # All 10 outages are kept (16 per replica by default), in order; the other slots are empty.
    np.testing.assert_allclose(o.out_start[0, :10], [10 + 11 * k for k in range(10)])
    np.testing.assert_allclose(o.out_dur[0, :10], 1.0)
    assert np.isnan(o.out_start[0, 10:]).all() and list(o.out_index[0, :10]) == list(range(10))
    np.testing.assert_allclose(o.win[:, 0], 1 - 10 / 110, rtol=1e-12)  # one partial window of 110 h
    assert list(res.outages.cause.unique()) == ["a"]
