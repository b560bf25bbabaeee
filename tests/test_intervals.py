"""The interval rules of hasim.results.intervals: known values, edge cases and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import stats

from hasim.results.intervals import RULE_OF_THREE, count_interval, loss_interval, mean_interval, proportion_interval


def test_zero_loss_is_a_one_sided_rule_of_three_bound_never_a_point():
    mean, lo, hi, one_sided = loss_interval(np.zeros(50), 0, per_event=2.0)
    assert (mean, lo, one_sided) == (0.0, 0.0, True)
    assert hi == pytest.approx(RULE_OF_THREE * 2.0 / 50) and hi > lo
    assert RULE_OF_THREE == pytest.approx(2.9957, abs=1e-4)


def test_zero_loss_without_a_size_for_one_outage_has_an_unknown_upper_end():
    _, lo, hi, one_sided = loss_interval(np.zeros(10), 0)
    assert one_sided and lo == 0.0 and math.isnan(hi)


def test_one_spike_gives_a_wide_interval_not_the_normal_one():
    x = np.zeros(100)
    x[3] = 1.0
    mean, lo, hi, _ = loss_interval(x, 1)
    normal_hi = mean + 1.96 * x.std(ddof=1) / 10
    # With one event the upper end must be at least the exact Poisson bound on the count
    # (5.57 events at 97.5 %) times the loss of the event seen.
    assert hi >= stats.chi2.ppf(0.975, 4) / 2 * mean > normal_hi
    assert 0.0 <= lo < mean


def test_count_interval_is_jeffreys_for_poisson_counts():
    counts = np.array([1, 0, 2, 1, 0, 1, 0, 1])  # variance below the mean: the Poisson floor holds
    total, n = counts.sum(), counts.size
    mean, lo, hi, one_sided = count_interval(counts)
    assert not one_sided and mean == total / n
    assert lo == pytest.approx(stats.gamma.ppf(0.025, total + 0.5) / n, rel=0.02)
    assert hi == pytest.approx(stats.gamma.ppf(0.975, total + 0.5) / n, rel=0.02)


def test_count_interval_widens_for_overdispersed_counts():
    poisson = count_interval(np.array([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]))
    clustered = count_interval(np.array([10, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    assert clustered[0] == poisson[0]
    assert clustered[2] - clustered[1] > 2 * (poisson[2] - poisson[1])


def test_zero_counts_give_the_rule_of_three():
    assert count_interval(np.zeros(30)) == (0.0, 0.0, pytest.approx(RULE_OF_THREE / 30), True)


def test_wilson_known_values():
    # 0 of 10 and 3 of 10 (Wilson 1927; e.g. statsmodels proportion_confint(method="wilson")).
    p, lo, hi, one_sided = proportion_interval(np.zeros(10), 1)
    assert (p, lo, one_sided) == (0.0, 0.0, True) and hi == pytest.approx(0.27753, abs=1e-4)
    p, lo, hi, _ = proportion_interval(np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0]), 1)
    assert (lo, hi) == (pytest.approx(0.10779, abs=1e-4), pytest.approx(0.60322, abs=1e-4))


def test_clustered_breaches_shrink_the_effective_windows():
    even = proportion_interval(np.array([1] * 10 + [0] * 10), 12)
    clustered = proportion_interval(np.array([10, 0] + [0] * 18), 12)
    assert even[0] == pytest.approx(clustered[0])
    assert clustered[2] - clustered[1] > even[2] - even[1]


def test_mean_interval_is_student_t():
    x = np.array([1.0, 2.0, 4.0])
    mean, lo, hi, _ = mean_interval(x)
    half = stats.t.ppf(0.975, 2) * x.std(ddof=1) / math.sqrt(3)
    assert (lo, hi) == (pytest.approx(mean - half), pytest.approx(mean + half))
    assert all(math.isnan(v) for v in mean_interval(np.array([1.0]))[1:3])


losses = st.lists(st.one_of(st.just(0.0), st.floats(1e-6, 10.0)), min_size=2, max_size=60)


@settings(max_examples=200, deadline=None)
@given(losses, st.integers(0, 5))
def test_loss_interval_brackets_its_mean_and_never_goes_negative(values, extra):
    x = np.asarray(values)
    events = int(np.count_nonzero(x)) + extra
    mean, lo, hi, one_sided = loss_interval(x, events, per_event=1.0)
    assert 0.0 <= lo <= mean <= hi
    assert hi > lo  # never a zero-width interval
    assert one_sided == (not x.any())


@settings(max_examples=200, deadline=None)
@given(losses)
def test_more_events_behind_the_same_loss_never_widen_the_interval(values):
    x = np.asarray(values)
    k = int(np.count_nonzero(x))
    if k == 0:
        return
    _, lo1, hi1, _ = loss_interval(x, k)
    _, lo2, hi2, _ = loss_interval(x, 4 * k)
    assert hi2 - lo2 <= hi1 - lo1 + 1e-12


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=2, max_size=40))
def test_proportion_interval_stays_in_the_unit_interval(counts):
    p, lo, hi, _ = proportion_interval(np.asarray(counts), 12)
    assert 0.0 <= lo <= p <= hi <= 1.0 and hi > lo
