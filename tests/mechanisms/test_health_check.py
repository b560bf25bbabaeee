"""Health checks (the ``detection`` stage): a failed instance keeps its share until probes remove it.

Closed forms and tolerances: :mod:`tests.mechanisms._closed_forms` (case 1).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import hasim
from hasim import Scenario
from hasim.sim.kernel._output import DETECTION

from ..conftest import SCENARIOS
from ._closed_forms import (HOURS_PER_YEAR, MIN_PER_YEAR, SECOND, SIGMAS, check, delay_rows, engines,
                            estimate, expected_min_exponential, run, share, stage, NEVER)


# --- 1. health-checked pool ---------------------------------------------------------------------------------

HC_POOL = hasim.load(SCENARIOS / "health-check.yaml")


def _pool_formula(sc: Scenario) -> dict[str, float]:
    svc = sc.services["api"]
    hc, n = svc.health_check, svc.replicas
    lam, m = 1.0 / svc.failure.mean_hours, svc.repair.mean_hours
    assert svc.repair.dist == "exponential" and svc.min_healthy == 1
    lo, hi = (hc.unhealthy_threshold - 1) * hc.interval, hc.unhealthy_threshold * hc.interval
    ed = hc.interval / 2 + (hc.unhealthy_threshold - 1) * hc.interval
    routed = expected_min_exponential(m, lo, hi)
    out_of_rotation = ed + m + hc.healthy_threshold * hc.interval
    return {
        "n": n, "lam": lam, "ed": ed, "routed": routed,
        "request": lam * routed * MIN_PER_YEAR,                    # minutes per year
        "degraded": n * lam * routed * MIN_PER_YEAR,
        "bound": lam * out_of_rotation + (n - 1) * lam * 2 * hi,     # relative: share 1/(n-1), overlaps
        "no_minus_one": lam * (hc.interval / 2 + hc.unhealthy_threshold * hc.interval) * MIN_PER_YEAR,
    }


def test_pool_formula_and_analyze_agree():
    f = _pool_formula(HC_POOL)
    assert f["ed"] == pytest.approx(25 * SECOND) and f["routed"] == pytest.approx(24.48 * SECOND, abs=0.005 * SECOND)
    assert f["request"] == pytest.approx(4.96, abs=0.005) and f["bound"] < 3.5e-4
    exact = hasim.analyze(HC_POOL, cut_sets=False)
    rows = delay_rows(exact)
    assert set(rows) == {"detection"}
    row = rows["detection"]
    assert row["service"] == "api"
    assert row["events_per_year"] == pytest.approx(f["n"] * f["lam"] * HOURS_PER_YEAR, rel=1e-12)
    assert row["hours_per_event"] == pytest.approx(f["routed"] / f["n"], rel=1e-6)
    assert row["minutes_per_year"] == pytest.approx(f["request"], rel=1e-6)
    assert row["time_unavailability"] * MIN_PER_YEAR == pytest.approx(f["degraded"], rel=1e-6)
    # Nothing else is lost: the whole figure is the delay term (all four down is ~1e-14).
    assert exact.downtime_minutes_per_year == pytest.approx(f["request"], rel=1e-6)
    assert exact.downtime_minutes_per_year < f["lam"] * f["ed"] * MIN_PER_YEAR   # E[min(D, R)] < E[D]
    # retry: true: no detection term.
    assert not hasim.analyze(HC_POOL.replace({"services.api.retry": True}), cut_sets=False).delay_terms


@pytest.mark.parametrize("engine, replicas", engines(simpy=40, numba=4000))
def test_pool_request_loss_is_lambda_times_detection(engine, replicas):
    f = _pool_formula(HC_POOL)
    res = run(HC_POOL, engine, replicas, horizon=5 * HOURS_PER_YEAR, seed=3)
    sim = estimate(res, "downtime_minutes_per_year")
    tol = check("request loss", sim, f["request"], f["bound"] * f["request"])
    # Power: the same tolerance rejects E[D] computed without the "- 1" (35 s instead of 25 s).
    assert abs(sim[0] - f["no_minus_one"]) > tol
    check("time degraded", estimate(res, "degraded_fraction", MIN_PER_YEAR), f["degraded"],
          f["bound"] * f["degraded"])
    assert estimate(res, "down_fraction")[0] == 0.0
    # Stage: all of it is detection (a failed instance still routed).
    check("stage detection", stage(res, "detection"), f["request"], f["bound"] * f["request"])
    assert share(res, "detection") > 0.999


@pytest.mark.parametrize("engine, replicas", engines(simpy=10, numba=1000))
def test_pool_with_retry_loses_nothing(engine, replicas):
    res = run(HC_POOL.replace({"services.api.retry": True}), engine, replicas, horizon=5 * HOURS_PER_YEAR, seed=3)
    assert res.out.ra.min() > 1.0 - 1e-12 and res.out.degraded.max() < 1e-12
    assert res.out.loss.sum() < 1e-9


HC = {"interval": 0.1, "unhealthy_threshold": 3, "healthy_threshold": 2}


def _two_zone_pool(retry: bool) -> Scenario:
    # The instance in zone a is lost at 10 h for 5 h; the other never fails.
    return Scenario(name="t", entry="api", services={"api": {
        "replicas": 2, "zones": ["a", "b"], "failure": {"dist": "fixed", "value": 1000},
        "repair": {"dist": "fixed", "value": 1}, "health_check": HC, "retry": retry}},
        zones={"a": {"failure": {"dist": "fixed", "value": 10}, "repair": {"dist": "fixed", "value": 5}}, "b": NEVER})


@pytest.mark.parametrize("retry", [False, True])
@pytest.mark.parametrize("engine, replicas", engines(simpy=30, numba=3000))
def test_health_check_detection_between_bounds(engine, replicas, retry):
    # The LB removes the instance at its 3rd failed probe: after D in (0.2, 0.3] h, during which it
    # keeps its 1/2 share (lost unless retry).
    sc = _two_zone_pool(retry)
    res = run(sc, engine, replicas, horizon=20, seed=1)
    lost = (1 - res.out.ra) * 20
    if retry:
        assert np.all(lost < 1e-12)
        return
    assert np.all((lost > 0.5 * 0.2 - 1e-12) & (lost <= 0.5 * 0.3 + 1e-12))
    # D uniform on (0.2, 0.3]: mean 0.25, standard deviation 0.1 / sqrt(12).
    assert lost.mean() == pytest.approx(0.5 * 0.25, abs=SIGMAS * 0.5 * 0.1 / math.sqrt(12 * replicas))
    np.testing.assert_allclose(res.out.loss[:, res.labels.causes.index("zone a"), DETECTION], lost, rtol=1e-12)


