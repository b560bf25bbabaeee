"""``simulate(precision=...)``: grow the run until the unavailability's 95 % interval is tight enough.

A precision run simulates replicas ``0 .. n - 1`` in growing batches, so when
it stops at ``n`` replicas it must equal a fixed run of ``n`` replicas bit for
bit; it must stop for the reason it reports (target met, cap hit, or no
unavailability at all), and at a "reached" stop the half-width criterion
``1.96 * std(u) / sqrt(n) <= precision * mean(u)`` (``u = 1 - ra``) must
really hold on the returned replicas.  Runs are short: the k-of-n scenario
over one year per replica.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hasim import Scenario, load
from hasim.sim.engine import simulate
from hasim.results.estimate import MIN_OUTAGES

ROOT = Path(__file__).resolve().parents[1]
HORIZON = "1y"


@pytest.fixture(scope="module")
def k_of_n() -> Scenario:
    return load(ROOT / "scenarios" / "k-of-n.yaml")


def _same(a, b) -> bool:
    return all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a.out, b.out))


def _relative_half_width(res) -> float:
    """Half the width of the printed interval of the unavailability, over the unavailability."""
    ra = res.metric("request_availability")
    lo, hi = ra["ci95"]
    return (hi - lo) / 2.0 / (1.0 - ra["mean"])


@pytest.fixture(scope="module")
def reached(k_of_n):
    return simulate(k_of_n, replicas=200, seed=11, horizon=HORIZON, precision=0.10)


def test_reached_run_meets_the_criterion_and_reports_it(reached):
    assert reached.precision_target == 0.10
    assert reached.precision_reached is True
    assert reached.stop_reason == "precision_reached"
    n = reached.n_replicas
    assert n > 200  # 200 replicas of a year are far from 10 %: the run had to grow
    assert _relative_half_width(reached) <= 0.10
    assert reached.relative_half_width == pytest.approx(_relative_half_width(reached))
    batches = reached.precision_info["batches"]
    assert batches[0]["replicas"] == 200 and batches[-1]["replicas"] == n
    assert [b["replicas"] for b in batches] == sorted({b["replicas"] for b in batches})
    # every earlier batch had missed the target or the evidence rule (otherwise it would have stopped)
    assert all(b["relative_half_width"] is None or b["relative_half_width"] > 0.10 or b["outages"] < MIN_OUTAGES
               for b in batches[:-1])
    assert reached.total_outages >= MIN_OUTAGES


def test_precision_run_equals_the_fixed_run_of_the_same_size(k_of_n, reached):
    fixed = simulate(k_of_n, replicas=reached.n_replicas, seed=11, horizon=HORIZON)
    assert _same(reached, fixed)
    assert reached.out.win.shape == fixed.out.win.shape
    assert fixed.precision_target is None and fixed.precision_reached is None
    assert fixed.stop_reason == "replicas"


def test_keep_windows_default_follows_the_final_size(k_of_n):
    # Windows of one hour over a year: 8760 windows; a run of n replicas keeps 4e6 // n of them, so the
    # first batch (200) keeps them all and the final run must keep only what a fixed run of n keeps.
    sc = k_of_n.model_copy(update={"window": 1.0})
    res = simulate(sc, replicas=200, seed=11, horizon=HORIZON, precision=0.10)
    assert res.n_replicas > 4_000_000 // 8760
    fixed = simulate(sc, replicas=res.n_replicas, seed=11, horizon=HORIZON)
    assert fixed.out.win.shape[1] < 8760
    assert res.out.win.shape == fixed.out.win.shape
    assert _same(res, fixed)


def test_cap_hit_is_reported(k_of_n):
    res = simulate(k_of_n, replicas=50, seed=5, horizon=HORIZON, precision=0.001, max_replicas=300)
    assert res.n_replicas == 300
    assert res.precision_reached is False
    assert res.stop_reason == "max_replicas"
    assert res.relative_half_width > 0.001
    assert _same(res, simulate(k_of_n, replicas=300, seed=5, horizon=HORIZON))
    d = json.loads(res.to_json())
    assert d["precision"]["reached"] is False
    assert d["precision"]["stop_reason"] == "max_replicas"
    assert d["precision"]["max_replicas"] == 300
    assert d["stop_reason"] == "max_replicas"
    assert d["replicas"] == 300


def test_all_zero_unavailability_grows_to_the_cap_and_says_so():
    """No loss is no evidence: the run does not stop on it, it grows 4x a batch to the cap."""
    never = Scenario(name="never", entry="api", horizon="1h", window="1h", replicas=64,
                     services={"api": {"replicas": 2, "mtbf": "1000y", "mttr": "1m"}})
    res = simulate(never, precision=0.05, max_replicas=4096)
    assert np.all(res.out.ra == 1.0)
    assert res.n_replicas == 4096
    assert [b["replicas"] for b in res.precision_info["batches"]] == [64, 256, 1024, 4096]
    assert res.precision_reached is False
    assert res.stop_reason == "zero_unavailability"
    assert res.relative_half_width is None
    d = json.loads(res.to_json())  # no NaN or inf in the JSON
    assert d["precision"]["stop_reason"] == "zero_unavailability"
    assert d["precision"]["relative_half_width"] is None


def test_json_keeps_every_existing_key_and_adds_precision(reached, k_of_n):
    fixed = simulate(k_of_n, replicas=50, seed=11, horizon=HORIZON).to_dict()
    d = reached.to_dict()
    assert set(fixed) == set(d)
    assert {"precision", "stop_reason"} <= set(d)
    assert fixed["precision"] is None and fixed["stop_reason"] == "replicas"
    p = d["precision"]
    assert p["target"] == 0.10 and p["reached"] is True and p["stop_reason"] == "precision_reached"
    assert p["relative_half_width"] <= 0.10
    assert d["replicas"] == reached.n_replicas == p["batches"][-1]["replicas"]


def test_progress_reaches_the_final_size(k_of_n):
    calls = []
    res = simulate(k_of_n, replicas=100, seed=2, horizon=HORIZON, precision=0.2, chunk_size=64,
                   progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (res.n_replicas, res.n_replicas)
    assert all(d <= t for d, t in calls)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


@pytest.mark.parametrize("kwargs, message", [
    ({"precision": 0}, "precision must be a positive"),
    ({"precision": -0.1}, "precision must be a positive"),
    ({"precision": 0.05, "max_replicas": 10}, "max_replicas"),
    ({"precision": 0.05, "engine": "simpy"}, "precision= needs engine='numba'"),
])
def test_invalid_arguments(k_of_n, kwargs, message):
    with pytest.raises(ValueError, match=message):
        simulate(k_of_n, replicas=100, horizon=HORIZON, **kwargs)


# --- issue 13: a precision run needs evidence, and stopping on it does not bias the estimate -------
from ._coverage import Z99, Case  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("case, precision", [
    (Case("1-of-2 pool", 2, 1, 2000.0, 100), 0.2),   # the model: 18 % of runs once stopped on "perfect"
    (Case("2-of-3 pool, MTBF 1000 h", 3, 2, 1000.0, 100), 0.1),
], ids=["1-of-2", "2-of-3"])
def test_precision_runs_are_unbiased_and_cover(case, precision):
    """Over 200 seeds: no run stops on zero unavailability, every stop rests on MIN_OUTAGES outages
    or more, the final intervals cover the exact answer 95 +- 1.5 % (within the 99 % binomial band)
    and the mean estimate of the unavailability is within 3 standard errors of the exact one."""
    from hasim.results.estimate import MIN_OUTAGES

    exact_u = 1.0 - case.exact()["request_availability"]
    seeds = 200
    estimates, covered = [], 0
    for seed in range(seeds):
        res = simulate(case.scenario(), replicas=case.replicas, horizon=case.horizon, seed=1000 + seed,
                       precision=precision, max_replicas=1_000_000, keep_windows=0, keep_outages=1)
        assert res.stop_reason == "precision_reached", res.stop_reason
        assert res.total_outages >= MIN_OUTAGES
        ra = res.metric("request_availability")
        lo, hi = ra["ci95"]
        covered += lo <= 1.0 - exact_u <= hi
        estimates.append(1.0 - ra["mean"])
    est = np.asarray(estimates)
    se_mean = est.std(ddof=1) / math.sqrt(seeds)
    assert abs(est.mean() - exact_u) <= 3 * se_mean, (est.mean() / exact_u - 1, se_mean / exact_u)
    se = math.sqrt(0.95 * 0.05 / seeds)
    assert abs(covered / seeds - 0.95) <= 0.015 + Z99 * se, covered / seeds
