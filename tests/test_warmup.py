"""What a finite horizon measures: from new (the default) or after a warm-up (issue 13, part 5).

Every replica starts with every component new and up, so a 1-year run measures the first year.
With Weibull(shape 0.5, mean 1000 h) failures and lognormal(median 2 h, sigma 1.5) repairs the
first year is measurably worse than the long run (infant mortality: new parts fail more often),
while after a warm-up the run agrees with the renewal-reward answer E[R] / (E[F] + E[R]) that
``hasim analyze`` computes.  Both engines implement the warm-up and agree.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hasim import Scenario
from hasim.analytic.analysis import analyze
from hasim.sim.engine import simulate

WEAR_IN = Scenario(name="wear-in", entry="api", slo=99.9, services={"api": {
    "replicas": 1, "failure": {"dist": "weibull", "shape": 0.5, "mean": "1000h"},
    "repair": {"dist": "lognormal", "median": "2h", "sigma": 1.5}}})


def _u(res):
    u = 1.0 - res.out.ra
    return float(u.mean()), float(u.std(ddof=1)) / math.sqrt(u.size)


def test_the_long_run_answer_is_the_renewal_reward_one():
    e_r = 2.0 * math.exp(1.5 ** 2 / 2)
    assert 1.0 - analyze(WEAR_IN).request_availability == pytest.approx(e_r / (1000.0 + e_r), rel=1e-9)


@pytest.mark.slow
def test_a_warm_up_reaches_the_long_run_and_from_new_does_not():
    exact = 1.0 - analyze(WEAR_IN).request_availability
    new = _u(simulate(WEAR_IN, replicas=4000, horizon="1y", seed=3))
    warm = simulate(WEAR_IN, replicas=4000, horizon="1y", seed=3, warmup="20y")
    u, se = _u(warm)
    assert abs(u - exact) <= 4 * se, (u / exact - 1, se / exact)
    # From new the first year shows about 20 % more unavailability: far outside the interval.
    assert new[0] - exact > 8 * new[1], (new[0] / exact - 1, new[1] / exact)
    assert warm.warmup == 20 * 8760.0 and warm.to_dict()["start"] == "warmed-up"


def test_from_new_is_the_default_and_says_so():
    res = simulate(WEAR_IN, replicas=50, horizon="1y", seed=1)
    zero = simulate(WEAR_IN, replicas=50, horizon="1y", seed=1, warmup=0)
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(res.out, zero.out))
    assert res.warmup == 0.0 and res.to_dict()["start"] == "new" and res.to_dict()["warmup_hours"] == 0.0


def test_a_warm_up_measures_only_the_horizon_after_it():
    res = simulate(WEAR_IN, replicas=200, horizon="1y", seed=2, warmup="2y")
    o = res.outages
    assert len(o) and (o.start_h >= 2 * 8760.0).all() and (o.start_h + o.duration_h <= 3 * 8760.0 + 1e-9).all()
    assert res.windows.shape[0] == 200 * res.n_windows
    # every lost minute is still charged once: causes and stages sum to the downtime
    down = float(res.replicas.downtime_minutes_per_year.mean())
    assert res.attribution.downtime_minutes_per_year.sum() == pytest.approx(down, rel=1e-9)
    assert res.stages.downtime_minutes_per_year.sum() == pytest.approx(down, rel=1e-9)
    assert (res.out.ra >= res.out.ta).all() and np.allclose(res.out.svc_ra[:, 0], res.out.ra)


def test_both_engines_warm_up_alike():
    kw = dict(horizon="1y", seed=4, warmup="3y")
    fast = simulate(WEAR_IN, replicas=3000, **kw)
    ref = simulate(WEAR_IN, replicas=150, engine="simpy", **kw)
    (a, sa), (b, sb) = _u(fast), _u(ref)
    assert abs(a - b) <= 4 * math.hypot(sa, sb), (a, b, sa, sb)
    assert ref.warmup == fast.warmup == 3 * 8760.0
    assert (ref.outages.start_h >= 3 * 8760.0).all()


@pytest.mark.parametrize("bad", [-1.0, "-5h", math.inf, "soon"])
def test_a_bad_warm_up_is_a_clear_error(bad):
    with pytest.raises(ValueError, match="warmup"):
        simulate(WEAR_IN, replicas=2, horizon="1y", warmup=bad)
