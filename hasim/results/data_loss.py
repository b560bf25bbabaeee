"""Data lost per incident (RPO, measured) and per year, for the replicated standby services
(:mod:`hasim.model.replication`).

An *incident* is a promotion that hands the writes to an instance other than the one that took
them last; its *window* is the span of writes that instance lacks (0 for a synchronous standby
that was following).  The engines count every incident and sum every window by service
(``dl_n``, ``dl_hours``) and keep a uniform sample of at most ``keep_outages`` incidents per
replica (``dl_*``, the outages' bottom-k rule), each standing for ``dl_n / kept`` of its
replica's incidents.

* Incidents a year and hours of writes lost a year are means over replicas of exact per-replica
  totals: the counts' interval (:func:`hasim.results.intervals.count_interval`) and the rare-loss
  interval (:func:`hasim.results.intervals.loss_interval`, one-sided from the model's mean window
  when nothing was lost).
* The mean window is a ratio of exact totals with its delta-method interval; none when every
  incident lost the same (a fixed lag): the value is then exact, and the quantiles' ``exact_share``
  says so.
* The quantiles of the window are the weighted quantiles of the sample with Woodruff intervals
  (:func:`hasim.results.recovery.incident_quantiles`, the rules of the recovery time's).
* The incidents that lose more than an objective ``rpo``: per year and as a share, as for ``rto``.
"""

from __future__ import annotations

import math

import numpy as np

from hasim.model.replication import mean_window
from hasim.results.estimate import _ratio_estimate
from hasim.results.intervals import count_interval, loss_interval
from hasim.results.recovery import QUANTILES, incident_quantiles

__all__ = ["data_loss", "rpo_breaches"]


def _sample(out, services=None):
    """(replica, window, weight) of the recorded incidents of ``services`` (indices; None: all)."""
    kept = out.dl_svc >= 0
    rows, cols = np.nonzero(kept)
    svc = out.dl_svc[rows, cols]
    weight = np.asarray(out.dl_n).sum(axis=1)[rows] / np.maximum(kept.sum(axis=1)[rows], 1)
    pick = np.ones(rows.size, dtype=bool) if services is None else np.isin(svc, services)
    return rows[pick], out.dl_win[rows, cols][pick].astype(np.float64), weight[pick].astype(np.float64)


def _per_year(interval, years: float) -> dict:
    mean, lo, hi, one_sided = interval
    return {"mean": mean / years, "ci95": [lo / years, hi / years], "one_sided": bool(one_sided)}


def data_loss(out, *, services: dict[int, tuple[str, object]], years_per_replica: float,
              quantiles=QUANTILES) -> dict:
    """Incidents, windows and writes lost of each replicated service.

    Parameters
    ----------
    out : SimOutput
        The engines' output arrays.
    services : dict
        ``{index: (name, Replication)}`` of the replicated services.
    years_per_replica : float
        The measured horizon of one replica, in years.
    quantiles : sequence of float
        The quantiles of the window reported (default: those of the recovery time).

    Returns
    -------
    dict
        ``{name: {...}}``: ``mode``, ``copy_of`` (the service a disaster-recovery copy holds the data
        of, else None), ``incidents`` (over all replicas), ``per_year`` and
        ``writes_lost_hours_per_year`` (``{"mean", "ci95", "one_sided"}``), ``window``
        (``{"mean_hours", "ci95", "quantiles"}``, ``ci95`` None when every incident lost the same: the quantiles as
        :func:`hasim.results.recovery.incident_quantiles` gives them).
    """
    result = {}
    for v, (name, rep) in services.items():
        counts = np.asarray(out.dl_n[:, v], dtype=np.float64)
        hours = np.asarray(out.dl_hours[:, v], dtype=np.float64)
        per_year = count_interval(counts)
        lost = loss_interval(hours, int(counts.sum()), per_event=mean_window(rep) or None)
        rows, win, weight = _sample(out, [v])
        mean, lo, hi, _ = _ratio_estimate(hours, counts)
        # Every incident losing the same (a fixed lag) has no spread: the mean is exact, not certain of
        # something else within a zero-width interval (the quantiles' exact_share says so).
        ci = [lo, hi] if math.isfinite(lo) and math.isfinite(hi) and hi > lo else None
        result[name] = {
            "mode": rep.mode, "copy_of": rep.of, "incidents": int(counts.sum()),
            "per_year": _per_year(per_year, years_per_replica),
            "writes_lost_hours_per_year": _per_year(lost, years_per_replica),
            "window": {"mean_hours": mean, "ci95": ci,
                       "quantiles": incident_quantiles(rows, win, weight, counts, quantiles)},
        }
    return result


def rpo_breaches(out, *, rpo: float, services: list[int], years_per_replica: float) -> dict:
    """Incidents of ``services`` that lose more than ``rpo`` hours of writes: per year and as a share.

    Returns
    -------
    dict
        ``rpo_hours``, ``per_year`` (``{"mean", "ci95", "one_sided"}``), ``share`` (``{"mean",
        "ci95"}``, NaN without incidents) and ``incidents_over`` (the estimate over all replicas).
    """
    rows, win, weight = _sample(out, services)
    over = np.zeros(np.asarray(out.dl_n).shape[0])
    np.add.at(over, rows, np.where(win > rpo, weight, 0.0))
    mean, lo, hi, one_sided = count_interval(over)
    share, slo, shi, _ = _ratio_estimate(over, np.asarray(out.dl_n[:, services], dtype=np.float64).sum(axis=1))
    return {"rpo_hours": float(rpo),
            "per_year": {"mean": mean / years_per_replica, "ci95": [lo / years_per_replica, hi / years_per_replica],
                         "one_sided": bool(one_sided)},
            "share": {"mean": share, "ci95": [slo, shi]},
            "incidents_over": float(over.sum())}
