"""Distributions: moments, survival, partial expectations and sampling against scipy."""

import math

import numpy as np
import pydantic
import pytest
from scipy import integrate, stats

import hasim
from hasim.model.distributions import (
    DISTRIBUTION_NAMES,
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    LogNormal,
    Uniform,
    Weibull,
)

CONTINUOUS = {
    "exponential": Exponential(mean=5.0),
    "weibull-scale": Weibull(shape=1.5, scale=10.0),
    "weibull-mean": Weibull(shape=0.7, mean=10.0),
    "weibull-wearout": Weibull(shape=3.0, mean="2d"),
    "lognormal-median": LogNormal(sigma=0.8, median=3.0),
    "lognormal-mean": LogNormal(sigma=1.2, mean="3h"),
    "uniform": Uniform(low=1.0, high=4.0),
    "uniform-from-zero": Uniform(low=0, high="30m"),
}
DISCRETE = {
    "fixed": Fixed(value=2.5),
    "empirical": Empirical(samples=[0.5, 1.25, 1.25, 7.0]),
    "empirical-with-zero": Empirical(samples=[0, "30m", "2h"]),
}
ALL = {**CONTINUOUS, **DISCRETE}


def reference(dist):
    """The frozen scipy law to compare with (empirical: a discrete law over its samples)."""
    if isinstance(dist, Empirical):
        values, counts = np.unique(np.asarray(dist.samples, dtype=float), return_counts=True)
        return stats.rv_discrete(values=(values, counts / counts.sum()))
    return dist.to_scipy()


def atoms(dist):
    """Support points of a discrete law, or None for a continuous one."""
    if isinstance(dist, Fixed):
        return [dist.value]
    if isinstance(dist, Empirical):
        return sorted(set(dist.samples))
    return None


def integral_of_sf(dist, lo, hi=math.inf):
    """The integral of scipy's survival function from lo to hi (by quadrature)."""
    ref = reference(dist)
    sf = lambda t: float(ref.sf(t)) if t >= 0 else 1.0  # noqa: E731 - durations are non-negative
    points = atoms(dist)
    if points is not None:  # a step function: integrate piecewise between the steps
        top = max(points)
        if lo >= top:
            return 0.0
        hi = min(hi, top)
        edges = sorted({lo, hi, *[p for p in points if lo < p < hi], *([0.0] if lo < 0 < hi else [])})
        return sum(integrate.quad(sf, a, b)[0] for a, b in zip(edges, edges[1:]))
    if lo < 0:
        return -lo + integral_of_sf(dist, 0.0, hi)
    hi = min(hi, float(ref.support()[1]))  # quad cannot find a short piece of a bounded support
    if lo >= hi:
        return 0.0
    value, _ = integrate.quad(sf, lo, hi, limit=200, epsabs=1e-13, epsrel=1e-10)
    return value


def check_points(dist):
    """Points that cover the body and the tail of the law, and both sides of every atom."""
    ref = reference(dist)
    pts = [-1.0, 0.0] + [float(ref.ppf(q)) for q in (0.01, 0.25, 0.5, 0.9, 0.999)]
    pts.append(10.0 * float(ref.ppf(0.9999)) + 1.0)  # far past the bulk
    for a in atoms(dist) or []:
        pts += [a - 1e-9, a, a + 1e-9]
    return pts


ids = pytest.mark.parametrize("dist", list(ALL.values()), ids=list(ALL))
continuous_ids = pytest.mark.parametrize("dist", list(CONTINUOUS.values()), ids=list(CONTINUOUS))
discrete_ids = pytest.mark.parametrize("dist", list(DISCRETE.values()), ids=list(DISCRETE))


@ids
def test_mean_matches_scipy(dist):
    assert dist.mean_hours == pytest.approx(float(reference(dist).mean()), rel=1e-9)


@ids
def test_sf_matches_scipy(dist):
    ref = reference(dist)
    for t in check_points(dist):
        assert dist.sf(t) == pytest.approx(float(ref.sf(t)) if t >= 0 else 1.0, rel=1e-9, abs=1e-12), t


@ids
def test_sf_is_one_before_zero_and_zero_far_out(dist):
    assert dist.sf(-5.0) == 1.0
    assert dist.sf(1e9) == pytest.approx(0.0, abs=1e-12)


@ids
def test_partial_expectation_is_the_integral_of_sf(dist):
    for c in check_points(dist):
        expected = integral_of_sf(dist, c)
        assert dist.partial_expectation(c) == pytest.approx(expected, rel=1e-6, abs=1e-10), c


@ids
def test_partial_expectation_at_zero_is_the_mean(dist):
    assert dist.partial_expectation(0.0) == pytest.approx(dist.mean_hours, rel=1e-9)


@ids
def test_partial_expectation_below_zero_adds_the_shift(dist):
    # E[(X - c)+] = E[X] - c for c <= 0 since X >= 0.
    assert dist.partial_expectation(-2.0) == pytest.approx(dist.mean_hours + 2.0, rel=1e-9)


@ids
def test_partial_expectation_vanishes_past_the_bulk(dist):
    far = 10.0 * float(reference(dist).ppf(0.9999)) + 1.0
    assert 0.0 <= dist.partial_expectation(far) < 1e-6 * dist.mean_hours


@ids
def test_partial_expectation_agrees_with_scipy_expect(dist):
    ref = reference(dist)
    c = float(ref.ppf(0.5))
    if atoms(dist) is None:
        expected = ref.expect(lambda x: x - c, lb=c)
    else:
        expected = ref.expect(lambda x: np.maximum(x - c, 0.0))
    assert dist.partial_expectation(c) == pytest.approx(expected, rel=1e-6, abs=1e-10)


@ids
def test_expected_min(dist):
    ref = reference(dist)
    for c in [0.0, float(ref.ppf(0.3)), float(ref.ppf(0.9)), 10.0 * float(ref.ppf(0.9999)) + 1.0]:
        assert dist.expected_min(c) == pytest.approx(integral_of_sf(dist, 0.0, c), rel=1e-6, abs=1e-10), c
    assert dist.expected_min(0.0) == pytest.approx(0.0, abs=1e-9)
    assert dist.expected_min(1e9) == pytest.approx(dist.mean_hours, rel=1e-9)


@ids
def test_scaled_doubles_every_time(dist):
    double = dist.scaled(2)
    assert type(double) is type(dist)
    assert double.mean_hours == pytest.approx(2.0 * dist.mean_hours, rel=1e-12)
    for t in check_points(dist):
        assert double.sf(2.0 * t) == pytest.approx(dist.sf(t), rel=1e-9, abs=1e-12)
        assert double.partial_expectation(2.0 * t) == pytest.approx(2.0 * dist.partial_expectation(t), rel=1e-9,
                                                                    abs=1e-12)


@ids
def test_scaled_leaves_the_original_alone(dist):
    before = dist.model_dump()
    dist.scaled(3.0)
    assert dist.model_dump() == before


@continuous_ids
def test_samples_pass_a_ks_test(dist):
    rng = np.random.default_rng(20240501)
    draws = dist.sample(rng, 20000)
    assert draws.shape == (20000,)
    assert np.all(draws >= 0)
    result = stats.kstest(draws, reference(dist).cdf)
    assert result.pvalue > 0.001, result


@continuous_ids
def test_sample_mean_is_close_to_the_mean(dist):
    draws = dist.sample(np.random.default_rng(7), 20000)
    se = np.std(draws) / math.sqrt(draws.size)
    assert abs(np.mean(draws) - dist.mean_hours) < 5 * se


def test_fixed_samples_are_the_value():
    dist = Fixed(value="90m")
    draws = dist.sample(np.random.default_rng(1), 20000)
    assert draws.shape == (20000,)
    assert np.all(draws == 1.5)
    assert dist.sample(np.random.default_rng(1)) == 1.5


def test_empirical_samples_only_its_values_with_their_frequencies():
    dist = Empirical(samples=[0.5, 1.25, 1.25, 7.0])
    n = 20000
    draws = dist.sample(np.random.default_rng(3), n)
    assert draws.shape == (n,)
    values, counts = np.unique(draws, return_counts=True)
    assert values.tolist() == [0.5, 1.25, 7.0]
    for value, count in zip(values, counts):
        p = dist.samples.count(value) / len(dist.samples)
        assert abs(count - n * p) < 5 * math.sqrt(n * p * (1 - p)), (value, count)
    expected = np.array([0.25, 0.5, 0.25]) * n
    assert stats.chisquare(counts, expected).pvalue > 0.001


@ids
def test_scalar_sample_and_reproducibility(dist):
    one = dist.sample(np.random.default_rng(11))
    assert np.ndim(one) == 0 and float(one) >= 0
    a = dist.sample(np.random.default_rng(5), 100)
    b = dist.sample(np.random.default_rng(5), 100)
    assert np.array_equal(a, b)


def test_fixed_to_scipy_is_a_point_mass():
    law = Fixed(value=2.5).to_scipy()
    assert law.mean() == 2.5
    assert law.sf(2.49) == 1.0 and law.sf(2.5) == 0.0
    assert law.var() == 0.0


def test_empirical_has_no_scipy_law():
    assert not hasattr(Empirical(samples=[1.0]), "to_scipy")


def test_exponential_closed_forms():
    d = Exponential(mean=4.0)
    assert d.sf(4.0) == pytest.approx(math.exp(-1))
    assert d.partial_expectation(4.0) == pytest.approx(4.0 * math.exp(-1))
    assert d.expected_min(4.0) == pytest.approx(4.0 * (1 - math.exp(-1)))


def test_weibull_mean_and_scale_forms_agree():
    k, scale = 1.7, 12.0
    by_scale = Weibull(shape=k, scale=scale)
    by_mean = Weibull(shape=k, mean=scale * math.gamma(1 + 1 / k))
    assert by_mean.scale_hours == pytest.approx(scale)
    assert by_scale.mean_hours == pytest.approx(by_mean.mean_hours)
    for t in (1.0, 10.0, 30.0):
        assert by_scale.sf(t) == pytest.approx(by_mean.sf(t))


def test_weibull_of_shape_one_is_exponential():
    w, e = Weibull(shape=1.0, mean=3.0), Exponential(mean=3.0)
    for c in (0.0, 1.0, 5.0, 20.0):
        assert w.sf(c) == pytest.approx(e.sf(c))
        assert w.partial_expectation(c) == pytest.approx(e.partial_expectation(c))


def test_lognormal_median_and_mean_forms_agree():
    s, median = 0.9, 2.0
    by_median = LogNormal(sigma=s, median=median)
    by_mean = LogNormal(sigma=s, mean=median * math.exp(s * s / 2))
    assert by_mean.mu == pytest.approx(by_median.mu)
    assert by_median.sf(median) == pytest.approx(0.5)
    assert by_mean.mean_hours == pytest.approx(by_median.mean_hours)


def test_parameters_accept_duration_text():
    assert Exponential(mean="30m").mean == 0.5
    assert Weibull(shape=2, scale="1d").scale_hours == 24.0
    assert LogNormal(sigma=1, median="90s").median == pytest.approx(90 / 3600)
    assert Fixed(value="1w").value == 168.0
    assert Uniform(low="0s", high="2h").mean_hours == 1.0
    assert Empirical(samples=["1h", 2, "180m"]).samples == [1.0, 2.0, 3.0]


# --- the shorthand and the tagged union through pydantic --------------------------------------

ADAPTER = pydantic.TypeAdapter(Distribution)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"mtbf": "720h"}, Exponential(mean=720.0)),
        ({"mttr": "30m"}, Exponential(mean=0.5)),
        ({"mtbf": 100}, Exponential(mean=100.0)),
        ({"mtbf": "1y"}, Exponential(mean=8760.0)),
        ({"dist": "exponential", "mean": "2h"}, Exponential(mean=2.0)),
        ({"dist": "exponential", "mtbf": "2h"}, Exponential(mean=2.0)),
        ({"dist": "weibull", "shape": 1.5, "scale": "1000h"}, Weibull(shape=1.5, scale=1000.0)),
        ({"dist": "weibull", "shape": 0.8, "mean": "1y"}, Weibull(shape=0.8, mean=8760.0)),
        ({"dist": "lognormal", "sigma": 0.5, "median": "4h"}, LogNormal(sigma=0.5, median=4.0)),
        ({"dist": "lognormal", "sigma": 0.5, "mean": "4h"}, LogNormal(sigma=0.5, mean=4.0)),
        ({"dist": "fixed", "value": "15m"}, Fixed(value=0.25)),
        ({"dist": "uniform", "low": "1h", "high": "3h"}, Uniform(low=1.0, high=3.0)),
        ({"dist": "empirical", "samples": ["1h", "2h", 3]}, Empirical(samples=[1.0, 2.0, 3.0])),
    ],
)
def test_distribution_forms_through_pydantic(data, expected):
    parsed = ADAPTER.validate_python(data)
    assert parsed == expected
    assert type(parsed) is type(expected)


@pytest.mark.parametrize("dist", list(ALL.values()), ids=list(ALL))
def test_dump_is_tagged_and_reads_back(dist):
    data = dist.model_dump()
    assert data["dist"] in DISTRIBUTION_NAMES
    assert ADAPTER.validate_python(data) == dist
    assert ADAPTER.validate_python(dist.model_dump(mode="json", exclude_defaults=True)) == dist


@pytest.mark.parametrize("dist", list(ALL.values()), ids=list(ALL))
def test_instances_pass_through(dist):
    assert ADAPTER.validate_python(dist) is dist


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mtbf": "-5h"}, "expected a positive duration like '720h', got '-5h'"),
        ({"mttr": 0}, "expected a positive duration like '720h', got '0'"),
        ({"mtfb": "5h"}, "unknown key 'mtfb'; did you mean 'mtbf'?"),
        ({"dist": "gamma", "mean": 1}, "unknown distribution 'gamma'"),
        ({"dist": "weibull", "shape": 2}, "a weibull distribution needs exactly one of 'scale' or 'mean'"),
        ({"dist": "lognormal", "sigma": 1}, "a lognormal distribution needs exactly one of 'median' or 'mean'"),
        ({"dist": "uniform", "low": 2, "high": 1}, "'high' must be greater than 'low'"),
        ({"dist": "empirical", "samples": [0, 0]}, "the samples must not all be zero"),
        ({"mtbf": "5h", "mttr": "1h"}, "give only one of 'mtbf' or 'mttr'"),
        ("720h", "expected a distribution such as {mtbf: 720h} or {dist: weibull, shape: 1.5, mean: 720h}"),
    ],
)
def test_bad_distributions_through_pydantic(data, message):
    with pytest.raises(pydantic.ValidationError) as info:
        ADAPTER.validate_python(data)
    assert message in str(info.value)


@pytest.mark.parametrize("dist", list(ALL.values()), ids=list(ALL))
def test_distributions_are_frozen(dist):
    field = next(k for k in type(dist).model_fields if k != "dist" and getattr(dist, k) is not None)
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        setattr(dist, field, 1.0)


def test_distributions_are_exported():
    for cls in (Exponential, Weibull, LogNormal, Fixed, Uniform, Empirical):
        assert getattr(hasim, cls.__name__) is cls
