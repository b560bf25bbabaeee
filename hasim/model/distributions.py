"""Time-to-failure and time-to-repair distributions.

Every distribution is a frozen pydantic model tagged by ``dist`` and offers the
same small interface, all in hours:

``mean_hours``
    the expected value (what MTTF / MTTR means for it);
``sf(t)``
    the survival function P(X > t);
``partial_expectation(c)``
    E[(X - c)+], the expected excess over ``c`` (used by the exact solver for
    "what is left of an outage after a cache TTL or a manual-intervention
    deadline");
``sample(rng, size)``
    draws with a :class:`numpy.random.Generator`;
``scaled(factor)``
    the same shape with every time multiplied by ``factor`` (sensitivity runs);
``to_scipy()``
    the equivalent frozen ``scipy.stats`` distribution (tests and plots), for
    every law but ``empirical``.

In a scenario file ``{mtbf: X}`` and ``{mttr: X}`` are shorthand for
``{dist: exponential, mean: X}``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import AliasChoices, BeforeValidator, Discriminator, Field, Tag, model_serializer, model_validator
from pydantic_core import PydanticCustomError

from hasim.model._types import Delay, HasimModel, PositiveDuration, PositiveFloat
from hasim.errors import UNION_TAGS, suggest

__all__ = [
    "Exponential",
    "Weibull",
    "LogNormal",
    "Fixed",
    "Uniform",
    "Empirical",
    "Distribution",
    "DISTRIBUTION_NAMES",
]


class _Dist(HasimModel):
    @model_serializer(mode="wrap")
    def _always_tagged(self, handler):
        # The tag is a default, but a dump without it could not be read back.
        return {"dist": self.dist, **handler(self)}

    @property
    def mean_hours(self) -> float:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def partial_expectation(self, c: float) -> float:
        """E[(X - c)+] = integral of the survival function from ``c`` to infinity."""
        raise NotImplementedError  # pragma: no cover

    def expected_min(self, c: float) -> float:
        """E[min(X, c)]."""
        return self.mean_hours - self.partial_expectation(c)


class Exponential(_Dist):
    """Exponential law with the given mean (``{mtbf: X}`` / ``{mttr: X}`` in files)."""

    dist: Literal["exponential"] = "exponential"
    mean: PositiveDuration = Field(validation_alias=AliasChoices("mean", "mtbf", "mttr"))

    @property
    def mean_hours(self) -> float:
        return self.mean

    def sf(self, t: float) -> float:
        return 1.0 if t <= 0 else math.exp(-t / self.mean)

    def partial_expectation(self, c: float) -> float:
        return self.mean * self.sf(c) + max(-c, 0.0)

    def sample(self, rng: np.random.Generator, size: int | None = None):
        return rng.exponential(self.mean, size)

    def scaled(self, factor: float) -> "Exponential":
        return Exponential(mean=self.mean * factor)

    def to_scipy(self):
        from scipy import stats

        return stats.expon(scale=self.mean)


class Weibull(_Dist):
    """Weibull law: ``shape`` k and either ``scale`` or ``mean``."""

    dist: Literal["weibull"] = "weibull"
    shape: PositiveFloat
    scale: PositiveDuration | None = None
    mean: PositiveDuration | None = None

    @model_validator(mode="after")
    def _one_of_scale_or_mean(self):
        if (self.scale is None) == (self.mean is None):
            raise PydanticCustomError(
                "missing_parameter", "a weibull distribution needs exactly one of 'scale' or 'mean'"
            )
        return self

    @property
    def scale_hours(self) -> float:
        if self.scale is not None:
            return self.scale
        return self.mean / math.gamma(1.0 + 1.0 / self.shape)

    @property
    def mean_hours(self) -> float:
        if self.mean is not None:
            return self.mean
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)

    def sf(self, t: float) -> float:
        return 1.0 if t <= 0 else math.exp(-((t / self.scale_hours) ** self.shape))

    def partial_expectation(self, c: float) -> float:
        from scipy.special import gammaincc

        if c <= 0:
            return self.mean_hours - c
        k, lam = self.shape, self.scale_hours
        upper = self.mean_hours * gammaincc(1.0 + 1.0 / k, (c / lam) ** k)
        return float(upper - c * self.sf(c))

    def sample(self, rng: np.random.Generator, size: int | None = None):
        return self.scale_hours * rng.weibull(self.shape, size)

    def scaled(self, factor: float) -> "Weibull":
        return Weibull(shape=self.shape, scale=self.scale_hours * factor)

    def to_scipy(self):
        from scipy import stats

        return stats.weibull_min(self.shape, scale=self.scale_hours)


class LogNormal(_Dist):
    """Log-normal law: ``sigma`` (of log X) and either ``median`` or ``mean``."""

    dist: Literal["lognormal"] = "lognormal"
    sigma: PositiveFloat
    median: PositiveDuration | None = None
    mean: PositiveDuration | None = None

    @model_validator(mode="after")
    def _one_of_median_or_mean(self):
        if (self.median is None) == (self.mean is None):
            raise PydanticCustomError(
                "missing_parameter", "a lognormal distribution needs exactly one of 'median' or 'mean'"
            )
        return self

    @property
    def mu(self) -> float:
        """Mean of log X."""
        if self.median is not None:
            return math.log(self.median)
        return math.log(self.mean) - 0.5 * self.sigma**2

    @property
    def mean_hours(self) -> float:
        return math.exp(self.mu + 0.5 * self.sigma**2)

    def sf(self, t: float) -> float:
        if t <= 0:
            return 1.0
        return 0.5 * math.erfc((math.log(t) - self.mu) / (self.sigma * math.sqrt(2.0)))

    def partial_expectation(self, c: float) -> float:
        if c <= 0:
            return self.mean_hours - c
        s = self.sigma
        d1 = (self.mu + s * s - math.log(c)) / s
        d2 = d1 - s
        phi = lambda x: 0.5 * math.erfc(-x / math.sqrt(2.0))  # noqa: E731 - standard normal cdf
        return self.mean_hours * phi(d1) - c * phi(d2)

    def sample(self, rng: np.random.Generator, size: int | None = None):
        return rng.lognormal(self.mu, self.sigma, size)

    def scaled(self, factor: float) -> "LogNormal":
        return LogNormal(sigma=self.sigma, median=math.exp(self.mu) * factor)

    def to_scipy(self):
        from scipy import stats

        return stats.lognorm(self.sigma, scale=math.exp(self.mu))


class Fixed(_Dist):
    """A deterministic time."""

    dist: Literal["fixed"] = "fixed"
    value: PositiveDuration

    @property
    def mean_hours(self) -> float:
        return self.value

    def sf(self, t: float) -> float:
        return 1.0 if t < self.value else 0.0

    def partial_expectation(self, c: float) -> float:
        return max(self.value - c, 0.0)

    def sample(self, rng: np.random.Generator, size: int | None = None):
        return np.full(size, self.value) if size is not None else self.value

    def scaled(self, factor: float) -> "Fixed":
        return Fixed(value=self.value * factor)

    def to_scipy(self):
        from scipy import stats

        # A point mass (scipy's uniform of zero width would give nan everywhere).
        return stats.rv_discrete(values=([self.value], [1.0]))


class Uniform(_Dist):
    """Uniform law on [low, high]."""

    dist: Literal["uniform"] = "uniform"
    low: Delay
    high: PositiveDuration

    @model_validator(mode="after")
    def _ordered(self):
        if not self.high > self.low:
            raise PydanticCustomError("order", "'high' must be greater than 'low'")
        return self

    @property
    def mean_hours(self) -> float:
        return 0.5 * (self.low + self.high)

    def sf(self, t: float) -> float:
        return min(1.0, max(0.0, (self.high - t) / (self.high - self.low)))

    def partial_expectation(self, c: float) -> float:
        if c <= self.low:
            return self.mean_hours - c
        if c >= self.high:
            return 0.0
        return (self.high - c) ** 2 / (2.0 * (self.high - self.low))

    def sample(self, rng: np.random.Generator, size: int | None = None):
        return rng.uniform(self.low, self.high, size)

    def scaled(self, factor: float) -> "Uniform":
        return Uniform(low=self.low * factor, high=self.high * factor)

    def to_scipy(self):
        from scipy import stats

        return stats.uniform(loc=self.low, scale=self.high - self.low)


class Empirical(_Dist):
    """Resampling of observed durations (each sample equally likely)."""

    dist: Literal["empirical"] = "empirical"
    samples: list[Delay] = Field(min_length=1)

    @model_validator(mode="after")
    def _positive_mean(self):
        if not sum(self.samples) > 0:
            raise PydanticCustomError("positive", "the samples must not all be zero")
        return self

    @property
    def mean_hours(self) -> float:
        return float(np.mean(self.samples))

    def sf(self, t: float) -> float:
        return float(np.mean(np.asarray(self.samples) > t))

    def partial_expectation(self, c: float) -> float:
        return float(np.mean(np.maximum(np.asarray(self.samples) - c, 0.0)))

    def sample(self, rng: np.random.Generator, size: int | None = None):
        return rng.choice(np.asarray(self.samples, dtype=float), size)

    def scaled(self, factor: float) -> "Empirical":
        return Empirical(samples=[s * factor for s in self.samples])


DISTRIBUTION_NAMES = ("exponential", "weibull", "lognormal", "fixed", "uniform", "empirical")
UNION_TAGS.update(DISTRIBUTION_NAMES)
_SHORTHAND_KEYS = ("mtbf", "mttr")


def _normalise(value: Any) -> Any:
    """Turn the file shorthand into a tagged mapping and reject what is not a distribution."""
    if isinstance(value, _Dist):
        return value
    if not isinstance(value, dict):
        raise PydanticCustomError(
            "distribution",
            "expected a distribution such as {example1} or {example2}, got {got}",
            {"got": repr(value), "example1": "{mtbf: 720h}", "example2": "{dist: weibull, shape: 1.5, mean: 720h}"},
        )
    if "dist" not in value:
        if any(k in value for k in _SHORTHAND_KEYS):
            value = {"dist": "exponential", **value}
            _one_mean(value)
            return value
        for key in value:
            hint = suggest(key, _SHORTHAND_KEYS + ("dist",))
            if hint:
                raise PydanticCustomError("unknown_key", "unknown key {got}{hint}", {"got": repr(key), "hint": hint,
                                                                                    "key": key})
        raise PydanticCustomError(
            "distribution",
            "expected 'mtbf', 'mttr' or 'dist' (one of {names}), got keys {keys}",
            {"names": ", ".join(DISTRIBUTION_NAMES), "keys": ", ".join(map(str, value)) or "none"},
        )
    name = value["dist"]
    if name not in DISTRIBUTION_NAMES:
        hint = suggest(name, DISTRIBUTION_NAMES)
        raise PydanticCustomError(
            "unknown_distribution",
            "unknown distribution {got} (expected one of {names}){hint}",
            {"got": repr(name), "names": ", ".join(DISTRIBUTION_NAMES), "hint": hint, "key": "dist"},
        )
    if name == "exponential":
        _one_mean(value)
    return value


def _one_mean(value: dict) -> None:
    """'mean', 'mtbf' and 'mttr' all name the exponential mean: only one may be given."""
    given = [k for k in ("mean",) + _SHORTHAND_KEYS if k in value]
    if len(given) > 1:
        raise PydanticCustomError(
            "conflict", "give only one of {keys}: each is the mean of the exponential law",
            {"keys": " or ".join(map(repr, given)), "key": given[1]},
        )


#: Any of the distributions, tagged by ``dist``; accepts the ``{mtbf: X}`` shorthand.
Distribution = Annotated[
    Union[
        Annotated[Exponential, Tag("exponential")],
        Annotated[Weibull, Tag("weibull")],
        Annotated[LogNormal, Tag("lognormal")],
        Annotated[Fixed, Tag("fixed")],
        Annotated[Uniform, Tag("uniform")],
        Annotated[Empirical, Tag("empirical")],
    ],
    Discriminator(lambda v: v.get("dist") if isinstance(v, dict) else getattr(v, "dist", None)),
    BeforeValidator(_normalise),
]
