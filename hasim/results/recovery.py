"""Recovery time per incident (RTO, measured): from the entry's first lost request to full service.

An incident is an outage of the entry as every other measure counts it: from the instant it stops
serving everything to the instant it serves everything again, so a partial loss is an incident
too, and its recovery time is its duration.  The kernels keep a uniform sample of at most
``keep_outages`` of each replica's outages (:attr:`hasim.results.summary.Results.outages`, each row
standing for ``weight`` outages of its replica); the estimates below are the weighted ones, which
are unbiased for the whole population of incidents.

* The quantiles of the recovery time are the weighted quantiles of the sample.  Their 95 % interval
  is Woodruff's (the survey statisticians' interval for a quantile under cluster sampling): the
  share of incidents at or below the estimate is a ratio of per-replica sums, whose delta-method
  standard error treats a replica's incidents as one cluster (they are correlated); the interval
  is the quantiles at that share plus and minus 1.96 standard errors.  It is reported only when
  at least :data:`MIN_BEYOND` incidents lie beyond the quantile and its upper end is inside the
  sample: otherwise the upper end is where the sample stops, not where the law does, and an
  interval would claim what the run did not see.
* The rate of incidents longer than an objective ``rto`` is, per replica, the weighted count of its
  sampled incidents over ``rto``: unbiased for that replica's count; the rate's interval is the
  counts' interval (:func:`hasim.results.intervals.count_interval`), and the share of incidents
  that breach is a ratio of means with its delta-method interval.

An incident still in progress at the end of a history is recorded with the time it had lasted (a
lower bound on its recovery time); how many were is reported (``censored``).
"""

from __future__ import annotations

import math

import numpy as np

from hasim.results.estimate import Z95, _ratio_estimate
from hasim.results.intervals import count_interval

__all__ = ["QUANTILES", "MIN_BEYOND", "recovery_times", "rto_breaches", "incident_quantiles"]

#: The quantiles of the recovery time reported.
QUANTILES = (0.5, 0.9, 0.99)
#: Incidents a quantile needs beyond it before it gets an interval.
MIN_BEYOND = 10


def _sample(out, end: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(replica, duration in hours, weight) of every recorded incident, and how many were cut by the
    end of their history (``end``: warm-up plus horizon, hours)."""
    kept = out.out_cause >= 0
    rows, cols = np.nonzero(kept)
    dur = out.out_dur[rows, cols].astype(np.float64)
    weight = out.outages[rows] / np.maximum(kept.sum(axis=1)[rows], 1)
    censored = int(np.count_nonzero(np.isclose(out.out_start[rows, cols] + dur, end, rtol=0.0, atol=1e-9)))
    return rows, dur, weight.astype(np.float64), censored


def _quantiles(dur: np.ndarray, weight: np.ndarray, qs) -> np.ndarray:
    """Weighted quantiles of ``dur`` (sorted ascending): the first value whose cumulative weight reaches
    ``q`` of the total (NaN for a ``q`` outside [0, 1])."""
    cum = np.cumsum(weight)
    qs = np.asarray(qs, dtype=np.float64)
    idx = np.minimum(np.searchsorted(cum, cum[-1] * np.clip(qs, 0.0, 1.0) * (1.0 - 1e-12)), dur.size - 1)
    return np.where((qs >= 0.0) & (qs <= 1.0), dur[idx], np.nan)


def recovery_times(out, *, n_replicas: int, end: float, quantiles=QUANTILES) -> dict:
    """The recovery time of the entry's incidents: mean and quantiles with 95 % intervals.

    Parameters
    ----------
    out : SimOutput
        The kernel's (or the reference engine's) output arrays.
    n_replicas : int
        Replicas in ``out``.
    end : float
        Hours from the start of a history to its end (warm-up plus horizon).
    quantiles : sequence of float
        Which quantiles (default :data:`QUANTILES`).

    Returns
    -------
    dict
        ``incidents`` (all the replicas saw), ``recorded`` (in the sample), ``censored`` (cut by the
        end of a history), ``mean`` (``{"hours", "ci95"}``) and ``quantiles``: one
        ``{"q", "hours", "ci95", "beyond", "exact_share"}`` per quantile, ``beyond`` the incidents
        estimated to lie beyond it, ``ci95`` None when fewer than :data:`MIN_BEYOND` do or the
        quantile sits on a duration a share of the incidents have exactly (``exact_share``, that
        share when it is 1 % or more, else 0); ``hours`` NaN without any incident.
    """
    rows, dur, weight, censored = _sample(out, end)
    incidents = int(np.asarray(out.outages).sum())
    total_hours = np.zeros(n_replicas)
    np.add.at(total_hours, rows, dur * weight)
    mean, lo, hi, _ = _ratio_estimate(total_hours, np.asarray(out.outages, dtype=np.float64))
    return {"incidents": incidents, "recorded": int(dur.size), "censored": censored,
            "mean": {"hours": mean, "ci95": [lo, hi]},
            "quantiles": incident_quantiles(rows, dur, weight, np.asarray(out.outages, dtype=np.float64), quantiles)}


def incident_quantiles(rows, values, weight, counts, quantiles=QUANTILES) -> list[dict]:
    """Weighted quantiles of a per-incident sample, with Woodruff intervals (the module docstring).

    Parameters
    ----------
    rows, values, weight : ndarray
        For each recorded incident: its replica, its value (hours) and the incidents it stands for.
    counts : ndarray
        Incidents of each replica (all of them, recorded or not): one entry per replica.
    quantiles : sequence of float
        Which quantiles.

    Returns
    -------
    list of dict
        One ``{"q", "hours", "ci95", "beyond", "exact_share"}`` per quantile (see
        :func:`recovery_times`).
    """
    if not values.size:
        return [{"q": q, "hours": math.nan, "ci95": None, "beyond": 0.0, "exact_share": 0.0} for q in quantiles]
    n_replicas = counts.size
    order = np.argsort(values, kind="stable")
    rows, dur, weight = rows[order], values[order], weight[order]
    point = _quantiles(dur, weight, quantiles)
    total = float(weight.sum())
    result = []
    for j, q in enumerate(quantiles):
        below = np.zeros(n_replicas)
        np.add.at(below, rows, np.where(dur <= point[j], weight, 0.0))
        share, _, _, std = _ratio_estimate(below, counts)
        se = std / math.sqrt(n_replicas)
        beyond = total - float(below.sum())
        ci = None
        if beyond >= MIN_BEYOND and total * (1.0 - q) >= MIN_BEYOND and se > 0.0:
            lo, hi = _quantiles(dur, weight, (q - Z95 * se, q + Z95 * se))
            lo = float(lo) if math.isfinite(lo) else float(dur[0])
            if math.isfinite(hi) and hi < dur[-1] and hi > lo:
                ci = [lo, float(hi)]
        # A duration many incidents share exactly (a fixed detection or promotion time): the quantile
        # sits on it whatever the run, and an interval of zero width would read as certainty of
        # something else; say how much of the law it holds instead.
        atom = float(weight[dur == point[j]].sum()) / total
        result.append({"q": q, "hours": float(point[j]), "ci95": ci, "beyond": beyond,
                       "exact_share": atom if atom >= 0.01 else 0.0})
    return result


def rto_breaches(out, *, rto: float, years_per_replica: float, end: float) -> dict:
    """Incidents that take longer than ``rto`` hours to recover: per year and as a share of incidents.

    Returns
    -------
    dict
        ``rto_hours``, ``per_year`` (``{"mean", "ci95", "one_sided"}``: a one-sided upper bound when
        none was seen), ``share`` (``{"mean", "ci95"}`` of incidents that breach; NaN without
        incidents), ``incidents_over`` (estimated count over all replicas) and ``censored`` (incidents
        cut by the end of a history that had already lasted longer than ``rto``: breaches, counted).
    """
    rows, dur, weight, _ = _sample(out, end)
    n = np.asarray(out.outages).size
    over = np.zeros(n)
    np.add.at(over, rows, np.where(dur > rto, weight, 0.0))
    mean, lo, hi, one_sided = count_interval(over)
    share, slo_, shi, _ = _ratio_estimate(over, np.asarray(out.outages, dtype=np.float64))
    cut = np.isclose(out.out_start[out.out_cause >= 0] + out.out_dur[out.out_cause >= 0], end, rtol=0.0, atol=1e-9)
    return {"rto_hours": float(rto),
            "per_year": {"mean": mean / years_per_replica, "ci95": [lo / years_per_replica, hi / years_per_replica],
                         "one_sided": bool(one_sided)},
            "share": {"mean": share, "ci95": [slo_, shi]},
            "incidents_over": float(over.sum()),
            "censored": int(np.count_nonzero(cut & (out.out_dur[out.out_cause >= 0] > rto)))}
