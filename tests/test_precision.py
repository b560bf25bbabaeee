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
from hasim.results.estimate import Z95

ROOT = Path(__file__).resolve().parents[1]
HORIZON = "1y"


@pytest.fixture(scope="module")
def k_of_n() -> Scenario:
    return load(ROOT / "scenarios" / "k-of-n.yaml")


def _same(a, b) -> bool:
    return all(np.array_equal(x, y, equal_nan=True) for x, y in zip(a.out, b.out))


def _relative_half_width(res) -> float:
    u = 1.0 - res.out.ra
    return Z95 * u.std(ddof=1) / math.sqrt(u.size) / u.mean()


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
    # every earlier batch had missed the target (otherwise the run would have stopped there)
    assert all(b["relative_half_width"] > 0.10 for b in batches[:-1])


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


def test_all_zero_unavailability_stops_and_says_so():
    never = Scenario(name="never", entry="api", horizon="1h", window="1h", replicas=64,
                     services={"api": {"replicas": 2, "mtbf": "1000y", "mttr": "1m"}})
    res = simulate(never, precision=0.05)
    assert np.all(res.out.ra == 1.0)
    assert res.n_replicas == 64
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
