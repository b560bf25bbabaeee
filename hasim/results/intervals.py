"""95 % intervals that stay honest when the events behind an estimate are few.

The per-replica loss of an available design (unavailability, downtime, a cause's minutes) is a
handful of rare, skewed spikes: most replicas lose nothing, a few lose one outage's worth.  The
normal interval on the replica mean then covers far less than 95 % (issue 13: 27 % at 20 replicas
of a 1-of-2 pool).  The rules here come from the study in ``benchmarks/bench_coverage.py``:

* :func:`loss_interval` treats the total loss over all replicas as a compound Poisson sum and uses
  the gamma interval of Fay & Feuer (1997, *Statistics in Medicine* 16: 791-801) for weighted
  Poisson sums: the total ``Y`` with variance estimate ``V`` is matched to a gamma law for the lower
  end, and ``Y`` plus one more event of typical size ``w`` for the upper end (the continuity step of
  the exact Poisson interval).  The variance estimate is the larger of the replicas' spread and the
  compound-Poisson floor ``2 Y^2 / k`` for ``k`` events (a duration law at least as variable as the
  exponential): the sample spread of two or three spikes underestimates the spread badly.
  With no event at all it gives the one-sided 95 % upper bound ``3 w / n`` (the rule of three on the
  event count, times a loss per event ``w`` the caller takes from the model).
* :func:`count_interval` is the same with unit weights, a Poisson variance floor and half a count
  either side: the Jeffreys interval when the replicas are Poisson, wider when they are
  over-dispersed.
* :func:`proportion_interval` is Wilson's score interval on the pooled windows, with the number of
  windows shrunk by the design effect when breaches cluster in replicas.
* :func:`mean_interval` is the Student-t interval, for measures that are not sums of rare events
  (a paired difference, the longest outage given there was one).

Each returns ``(mean, low, high, one_sided)``; ``one_sided`` is True for the zero-event bound, whose
``low`` is the observed 0 and whose ``high`` is a 95 % one-sided bound.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["loss_interval", "count_interval", "proportion_interval", "mean_interval", "RULE_OF_THREE"]

#: -ln(0.05): zero events over an exposure bound the expected count by 3.0 at 95 % (one-sided).
RULE_OF_THREE = -math.log(0.05)
_ALPHA = 0.05


def _stats():
    """scipy.stats, imported on first use: ``import hasim`` should not pay for it."""
    from scipy import stats

    return stats


def _gamma_bounds(total: float, var: float, extra: float, extra_var: float) -> tuple[float, float]:
    """Fay-Feuer: the 2.5 % point of a gamma with mean ``total`` and variance ``var``, and the 97.5 %
    point of one with mean ``total + extra`` and variance ``var + extra_var``."""
    stats = _stats()
    low = float(stats.gamma.ppf(_ALPHA / 2, total * total / var, scale=var / total)) if total > 0 else 0.0
    up_mean, up_var = total + extra, var + extra_var
    high = float(stats.gamma.ppf(1 - _ALPHA / 2, up_mean * up_mean / up_var, scale=up_var / up_mean))
    return low, high


def loss_interval(values, events: int | None = None, *, per_event: float | None = None):
    """The 95 % interval of the mean of non-negative per-replica losses made of rare events.

    Parameters
    ----------
    values : array_like
        One loss per replica (``1 - availability``, minutes, ...), all ``>= 0``.
    events : int, optional
        The number of events (outages) the losses are made of, over all replicas.  None: not known;
        it is estimated from the fraction ``f`` of replicas with a non-zero loss as ``-n ln(1 - f)``
        (Poisson events per replica), so that a few spikes count as a few events and a loss in every
        replica leaves the replicas' spread alone.
    per_event : float, optional
        The loss one event is expected to cost, in the units of ``values``: used only when nothing
        was lost, for the one-sided bound ``RULE_OF_THREE * per_event / n``.  None there gives an
        unknown (NaN) upper end, never a zero-width interval.

    Returns
    -------
    (mean, low, high, one_sided)
    """
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan, False
    total = float(x.sum())
    mean = total / n
    nonzero = int(np.count_nonzero(x))
    if events is None:
        k = math.inf if nonzero == n else -n * math.log1p(-nonzero / n)
    else:
        k = max(int(events), nonzero)
    if total <= 0.0 or k == 0:
        high = RULE_OF_THREE * per_event / n if per_event is not None and per_event > 0 else math.nan
        return 0.0, 0.0, high, True
    spread = n * float(x.var(ddof=1)) if n > 1 else 0.0
    if not spread > 0 and not math.isfinite(k):
        spread = total * total / n  # n equal values: no spread seen, assume that of the data itself
    var = max(spread, 2.0 * total * total / k)
    w = total / (k if math.isfinite(k) else n)  # one more event of the mean size (or replica's loss)
    low, high = _gamma_bounds(total, var, w, w * w)
    return mean, low / n, high / n, False


def count_interval(counts):
    """The 95 % interval of the mean of per-replica event counts: Fay-Feuer with unit weights and a
    Poisson variance floor (the exact Garwood interval for Poisson counts); zero events give the
    one-sided rule-of-three bound ``3 / n``."""
    x = np.asarray(counts, dtype=np.float64)
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan, False
    total = float(x.sum())
    if total <= 0.0:
        return 0.0, 0.0, RULE_OF_THREE / n, True
    var = max(n * float(x.var(ddof=1)) if n > 1 else 0.0, total)
    # Half a count either side (Jeffreys): the exact Garwood interval, with a whole count, covers
    # 96-99 % of the time on counts of a few dozen, wider than it needs to be.
    stats = _stats()
    shape, scale = (total + 0.5) ** 2 / (var + 0.5), (var + 0.5) / (total + 0.5)
    low = float(stats.gamma.ppf(_ALPHA / 2, shape, scale=scale))
    high = float(stats.gamma.ppf(1 - _ALPHA / 2, shape, scale=scale))
    return total / n, low / n, high / n, False


def proportion_interval(successes, trials: int):
    """The 95 % Wilson score interval of a proportion pooled over replicas.

    ``successes`` holds each replica's count out of ``trials`` (windows breached of the windows in a
    replica).  When the counts cluster (a long outage breaches neighbouring windows) their variance
    exceeds the binomial one by the design effect ``d``, and the interval is Wilson's on ``N / d``
    trials.  Zero successes give Wilson's upper end (about ``3.84 / N``), flagged one-sided.
    """
    x = np.asarray(successes, dtype=np.float64)
    n = x.size
    big_n = n * int(trials)
    if big_n == 0:
        return math.nan, math.nan, math.nan, False
    p = float(x.sum()) / big_n
    binomial = trials * p * (1.0 - p)
    deff = float(x.var()) / binomial if n > 1 and binomial > 0 else 1.0
    eff = big_n / max(1.0, deff)
    z = _stats().norm.ppf(1 - _ALPHA / 2)
    denom = 1.0 + z * z / eff
    centre = (p + z * z / (2 * eff)) / denom
    half = z * math.sqrt(p * (1 - p) / eff + z * z / (4 * eff * eff)) / denom
    # Clamped to contain p: at p = 0 or 1 Wilson's end is p itself, which rounding may miss by an ulp.
    low, high = min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))
    return p, (0.0 if p == 0.0 else low), (1.0 if p == 1.0 else high), p == 0.0


def mean_interval(values):
    """The Student-t 95 % interval of a mean (NaN ends with fewer than two values)."""
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan, False
    mean = float(x.mean())
    if n < 2:
        return mean, math.nan, math.nan, False
    half = float(_stats().t.ppf(1 - _ALPHA / 2, n - 1)) * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half, False
