"""Outage records: a uniform sample of each replica's outages, with the weight each row stands for.

Until issue 17 the engines kept the *first* 8 outages of a replica and
``Results.outages`` said nothing about the others (79 844 rows for 160 690
outages on the flagship), so a pooled statistic over-represented the replicas
with few outages.  Now each replica keeps ``keep_outages`` of its outages
chosen uniformly without replacement (bottom-k of a hash of ``(seed, replica,
ordinal)``, the same in both engines, drawn from no simulation stream), and a
row of a replica with ``n`` outages of which ``k`` were kept has weight
``n / k``: the Horvitz-Thompson estimate ``sum(weight * duration)`` of a
replica's total outage time is unbiased.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hasim import Scenario
from hasim.sim.engine import simulate
from hasim.sim.reference.engine import simulate_reference


def fixed(v: float) -> dict:
    return {"dist": "fixed", "value": v}


CYCLE = Scenario(name="cycle", entry="a", services={"a": {"failure": fixed(10), "repair": fixed(1)}})


def test_every_outage_is_kept_up_to_the_bound_and_a_sample_beyond():
    # 40 outages (at 10, 21, ..., 439) in 440 h.
    full = simulate(CYCLE, replicas=3, horizon=440, seed=2, keep_outages=64)
    few = simulate(CYCLE, replicas=3, horizon=440, seed=2, keep_outages=16)
    assert list(full.out.outages) == [40, 40, 40]
    rows = full.outages
    assert len(rows) == 120 and set(rows.weight) == {1.0}
    assert list(rows[rows.replica == 0]["index"]) == list(range(40))
    sample = few.outages
    assert len(sample) == 48
    assert np.allclose(sample.weight, 40 / 16)
    for r in range(3):
        kept = sample[sample.replica == r]
        # Sorted by ordinal, distinct, and the very outages of the full record.
        assert list(kept["index"]) == sorted(set(kept["index"]))
        np.testing.assert_allclose(kept.start_h, 10 + 11 * kept["index"].to_numpy())
    # Not the first 16: a sample over the whole history, and not the same ordinals in every replica.
    assert sample["index"].max() > 30
    picks = [tuple(sample[sample.replica == r]["index"]) for r in range(3)]
    assert len(set(picks)) == 3


def test_both_engines_keep_the_same_ordinals():
    ref, _ = simulate_reference(CYCLE, replicas=3, horizon=440, seed=2, keep_outages=16)
    res = simulate(CYCLE, replicas=3, horizon=440, seed=2, keep_outages=16)
    for field in ("out_start", "out_dur", "out_cause", "out_index"):
        np.testing.assert_array_equal(getattr(res.out, field), getattr(ref, field), err_msg=field)


def test_keeping_fewer_changes_no_other_number():
    sc = Scenario(name="z", entry="a", horizon="1y", services={"a": {"mtbf": "50h", "mttr": "1h"}})
    a = simulate(sc, replicas=20, seed=4, keep_outages=2)
    b = simulate(sc, replicas=20, seed=4, keep_outages=500)
    for field in ("ra", "ta", "outages", "longest", "events", "loss", "win", "breaches"):
        np.testing.assert_array_equal(getattr(a.out, field), getattr(b.out, field), err_msg=field)


HETEROGENEOUS = Scenario(
    name="mixed", entry="a", horizon="1000h",
    # Infant-mortality failures (Weibull shape 0.3): from 16 to 109 outages per replica (5-95 %),
    # all 36 s long, plus the zone's rare 50 h outages.  A replica with few outages has a larger
    # share of long ones, so giving every replica the same number of rows over-weights them.
    zones={"z": {"mtbf": "1000h", "mttr": "50h"}},
    services={"a": {"zones": ["z"], "failure": {"dist": "weibull", "shape": 0.3, "mean": "20h"},
                    "repair": {"dist": "fixed", "value": 0.01}}})


def test_weighted_sample_estimates_every_replica_total_without_bias():
    """Horvitz-Thompson: E[sum over kept rows of weight * duration] = the replica's outage time.

    The truth per replica is (1 - time availability) * horizon (every outage counted).  The
    per-replica errors of the estimate are independent across replicas: 4 SE of their mean.
    The pooled mean duration (weighted rows) is total estimate / total count, so its error is
    the same sum over the total count, with the same tolerance; the unweighted mean of the rows
    (what the report used to take) must fail that tolerance here (power).
    """
    res = simulate(HETEROGENEOUS, replicas=2000, seed=5, keep_outages=4)
    rows = res.outages
    estimate = np.bincount(rows.replica, weights=rows.weight * rows.duration_h, minlength=res.n_replicas)
    truth = (1.0 - res.out.ta) * 1000.0
    err = estimate - truth
    se = err.std(ddof=1) / math.sqrt(err.size)
    assert se > 0
    assert abs(err.mean()) <= 4 * se
    count = res.out.outages.sum()
    assert rows.weight.sum() == pytest.approx(count)
    population = truth.sum() / count
    tolerance = 4 * se * err.size / count
    assert abs(np.average(rows.duration_h, weights=rows.weight) - population) <= tolerance
    assert abs(rows.duration_h.mean() - population) > tolerance


def test_results_document_the_bound():
    from hasim.sim import engine

    assert "uniform" in engine.simulate.__doc__ and "keep_outages" in engine.simulate.__doc__
    assert "weight" in type(simulate(CYCLE, replicas=1, horizon=50)).outages.__doc__


@pytest.mark.parametrize("keep", [0, 1])
def test_tiny_bounds(keep):
    res = simulate(CYCLE, replicas=2, horizon=440, seed=2, keep_outages=keep)
    assert len(res.outages) == 2 * keep
    assert list(res.out.outages) == [40, 40]
