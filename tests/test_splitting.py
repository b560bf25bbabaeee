"""Importance splitting (``method="splitting"``, ``hasim run --rare-event``) against exact answers.

Seven- and eight-nines pools and a series with partial service are checked against their exact
first-year answers (independent exponential instances started up: tests/_coverage.py), a Weibull /
fixed-repair pool against plain Monte Carlo, the interval's coverage over independent runs, and
the refusals: every mechanism the splitting engine does not model is named, never ignored.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numba
import numpy as np
import pytest

from hasim import Scenario
from hasim.sim.engine import simulate
from hasim.sim.rare import splitting_plan

from ._coverage import HOURS_PER_YEAR, Z99, first_year, pool, pool_curves


def _check(res, exact_u: float, sigmas: float = 4.0):
    u = 1.0 - res.metric("request_availability")["mean"]
    se = float(res.u_request.std(ddof=1)) / math.sqrt(res.n_replicas)
    assert se > 0
    assert abs(u - exact_u) <= sigmas * se, (u / exact_u - 1, se / exact_u)
    return u, se


@pytest.mark.parametrize("mtbf, nines", [(2000.0, 8), (1000.0, 7)])
def test_a_1_of_3_pool_beyond_seven_nines_to_ten_percent(mtbf, nines):
    sc = pool(3, 1, mtbf)
    exact = 1.0 - first_year(3, 1, HOURS_PER_YEAR, mtbf)["request_availability"]
    assert 10 ** -(nines + 1) < exact < 10 ** -nines
    res = simulate(sc, replicas=40_000, horizon="1y", seed=7, method="splitting")
    _check(res, exact)
    assert res.relative_half_width <= 0.10  # the target: +-10 %
    assert res.total_outages >= 100 and res.splits[0] == 1 and res.splits[2] > 100


def test_a_series_with_partial_service_is_exact_too():
    """A 1-of-3 pool in front of a 2-of-4 pool that serves H/2 with one instance left."""
    sc = Scenario(name="series", entry="api", services={
        "api": {"replicas": 3, "min_healthy": 1, "failure": {"mtbf": "2000h"}, "repair": {"mttr": "4h"},
                "requires": ["db"]},
        "db": {"replicas": 4, "min_healthy": 2, "failure": {"mtbf": "1000h"}, "repair": {"mttr": "4h"}}})
    t = np.linspace(0.0, HOURS_PER_YEAR, 200_001)

    (sa, fa, _), (sb, fb, _) = pool_curves(3, 1, t, 2000.0), pool_curves(4, 2, t, 1000.0)
    exact_u = 1.0 - np.trapezoid(sa * sb, t) / HOURS_PER_YEAR
    exact_time = 1.0 - np.trapezoid(fa * fb, t) / HOURS_PER_YEAR
    assert splitting_plan(sc)["top"] == 3  # either pool absorbs 2 failures; the third one costs
    res = simulate(sc, replicas=4000, horizon="1y", seed=3, method="splitting")
    _check(res, exact_u)
    ut = 1.0 - res.metric("time_availability")["mean"]
    se_t = float(res.u_time.std(ddof=1)) / math.sqrt(res.n_replicas)
    assert abs(ut - exact_time) <= 4 * se_t


def test_weibull_failures_and_fixed_repairs_agree_with_plain_monte_carlo():
    sc = Scenario(name="wear", entry="api", services={"api": {
        "replicas": 2, "min_healthy": 1, "failure": {"dist": "weibull", "shape": 1.5, "mean": "300h"},
        "repair": {"dist": "fixed", "value": "8h"}}})
    split = simulate(sc, replicas=4000, horizon="1y", seed=5, method="splitting")
    plain = simulate(sc, replicas=40_000, horizon="1y", seed=5)
    a = 1.0 - split.metric("request_availability")["mean"]
    b = 1.0 - plain.request_availability
    sa = float(split.u_request.std(ddof=1)) / math.sqrt(split.n_replicas)
    sb = float(plain.out.ra.std(ddof=1)) / math.sqrt(plain.n_replicas)
    assert abs(a - b) <= 4 * math.hypot(sa, sb), (a, b, sa, sb)


def test_the_interval_covers_over_independent_runs():
    sc = pool(3, 1, 1000.0)
    exact = first_year(3, 1, HOURS_PER_YEAR, 1000.0)["request_availability"]
    runs = 300
    big = simulate(sc, replicas=400 * runs, horizon="1y", seed=11, method="splitting")
    from hasim.results.intervals import mean_interval

    covered = 0
    for g in range(runs):
        _, lo, hi, _ = mean_interval(big.u_request[g * 400:(g + 1) * 400])
        covered += lo <= 1.0 - exact <= hi
    se = math.sqrt(0.95 * 0.05 / runs)
    assert abs(covered / runs - 0.95) <= 0.015 + Z99 * se, covered / runs


def test_same_seed_same_answer_on_any_number_of_threads():
    sc = pool(3, 1, 1000.0)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simulate(sc, replicas=300, horizon="1y", seed=2, method="splitting")
        numba.set_num_threads(max(1, before))
        many = simulate(sc, replicas=300, horizon="1y", seed=2, method="splitting")
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one.u_request, many.u_request) and np.array_equal(one.hits, many.hits)
    other = simulate(sc, replicas=300, horizon="1y", seed=3, method="splitting")
    assert not np.array_equal(one.u_request, other.u_request)


def test_any_retrial_counts_give_the_same_answer_on_average():
    """Unbiased for any R: no splitting at all (plain Monte Carlo inside the kernel) agrees too."""
    from hasim.sim.rare import simulate_splitting

    sc = pool(2, 1, 500.0)
    exact = 1.0 - first_year(2, 1, HOURS_PER_YEAR, 500.0)["request_availability"]
    for splits in ([1, 1, 1], [1, 1, 7], None):
        _check(simulate_splitting(sc, replicas=20_000, horizon="1y", seed=9, splits=splits), exact)


@pytest.mark.parametrize("services, zones, words", [
    ({"api": {"replicas": 2, "mode": "standby", "mtbf": "1000h", "mttr": "4h"}}, {}, "mode standby"),
    ({"api": {"replicas": 2, "mtbf": "1000h", "repair": {"dist": "lognormal", "median": "2h", "sigma": 1}}}, {},
     "lognormal repair"),
    ({"api": {"replicas": 2, "mtbf": "1000h", "mttr": "4h", "zones": ["a"]}}, {"a": {"mtbf": "1y", "mttr": "1h"}},
     "zones"),
])
def test_what_splitting_does_not_model_is_refused_by_name(services, zones, words):
    sc = Scenario(name="x", entry="api", services=services, zones=zones)
    with pytest.raises(ValueError, match=words):
        simulate(sc, replicas=10, method="splitting")


def test_method_errors():
    sc = pool(3, 1)
    with pytest.raises(ValueError, match="unknown method"):
        simulate(sc, method="magic")
    with pytest.raises(ValueError, match="precision"):
        simulate(sc, method="splitting", precision=0.1)
    with pytest.raises(ValueError, match="splits"):
        from hasim.sim.rare import simulate_splitting

        simulate_splitting(sc, replicas=2, splits=[1, 2])


def test_cli_rare_event(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: p\nentry: api\nslo: 99.9999\nreplicas: 20000\nservices:\n  api: {replicas: 3, "
                    "min_healthy: 1, mtbf: 2000h, mttr: 4h}\n")
    run = lambda *a: subprocess.run([sys.executable, "-m", "hasim", "run", str(path), "--rare-event", *a],  # noqa: E731
                                    capture_output=True, text=True)
    text = run()
    assert text.returncode == 0, text.stderr
    assert "importance splitting" in text.stdout and "SLO 99.9999 %" in text.stdout
    doc = json.loads(run("--json").stdout)
    assert doc["method"] == "splitting" and doc["outages"] >= 10
    assert set(doc["metrics"]["request_availability"]) >= {"mean", "ci95", "outages"}
    bad = run("--precision", "5%")
    assert bad.returncode == 2 and "--rare-event runs on its own" in bad.stderr
