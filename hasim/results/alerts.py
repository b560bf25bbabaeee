"""What each alert rule caught (:mod:`hasim.model.alerts`): pages, incidents detected and missed,
the time to detect and the error budget burned before the page, with 95 % intervals.

Counts a year (pages, missed incidents, late pages) are :func:`hasim.results.intervals.count_interval`
over replicas.  The share of incidents detected is Wilson's interval on the incidents pooled.  The
mean time to detect and the mean budget burned before the page are ratio estimates over replicas
(each replica's incidents a cluster), with the delta-method interval of
:func:`hasim.results.estimate._ratio_estimate`; NaN where no incident was detected.  An incident still in progress at the end of a history is neither detected nor missed
(censored).
"""

from __future__ import annotations

import math

import numpy as np

from hasim.results.estimate import _ratio_estimate
from hasim.results.intervals import count_interval, proportion_interval

__all__ = ["alert_measures"]


def _per_year(interval, years: float) -> dict:
    mean, lo, hi, one_sided = interval
    return {"mean": mean / years, "ci95": [lo / years, hi / years], "one_sided": bool(one_sided)}


def _ratio(x, y, scale: float = 1.0, share: bool = False) -> dict:
    mean, lo, hi, _ = _ratio_estimate(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    if share:  # the delta method's symmetric interval can cross 1 near a share of 1: no share does
        lo, hi = max(lo, 0.0), min(hi, 1.0)
    ci = [lo * scale, hi * scale] if math.isfinite(lo) and math.isfinite(hi) and hi > lo else None
    return {"mean": mean * scale, "ci95": ci}


def _share(detected: int, incidents: int) -> dict:
    """Wilson's 95 % interval on the incidents pooled (their detections are nearly independent)."""
    if incidents == 0:
        return {"mean": math.nan, "ci95": None}
    p, lo, hi, _ = proportion_interval(np.array([detected]), incidents)
    return {"mean": p, "ci95": [lo, hi]}


def alert_measures(out, names: list[str], years_per_replica: float) -> dict:
    """Per rule, in declaration order.

    Returns
    -------
    dict
        ``{name: {...}}``: ``pages``, ``detected``, ``missed``, ``late``, ``false`` (over all
        replicas); ``pages_per_year``, ``missed_per_year``, ``late_per_year``, ``false_per_year``
        (pages on the noise alone, ``alert_noise``) as ``{"mean", "ci95", "one_sided"}``;
        ``detected_share`` (of the incidents that ended), ``minutes_to_detect`` and
        ``budget_minutes_before_page`` (minutes of a full outage burned from the incident's start to
        its page) and ``downtime_share_paged`` (of the requests lost, the share lost in incidents it
        paged for) as ``{"mean", "ci95"}`` (``ci95`` None without spread).
    """
    result = {}
    lost = np.asarray(out.loss, dtype=np.float64).sum(axis=(1, 2))  # each replica's lost request-hours
    for k, name in enumerate(names):
        pages, det = out.al_pages[:, k], out.al_detected[:, k]
        missed, late, false = out.al_missed[:, k], out.al_late[:, k], out.al_false[:, k]
        result[name] = {
            "pages": int(pages.sum()), "detected": int(det.sum()), "missed": int(missed.sum()),
            "late": int(late.sum()), "false": int(false.sum()),
            "pages_per_year": _per_year(count_interval(pages), years_per_replica),
            "missed_per_year": _per_year(count_interval(missed), years_per_replica),
            "late_per_year": _per_year(count_interval(late), years_per_replica),
            "false_per_year": _per_year(count_interval(false), years_per_replica),
            "detected_share": _share(int(det.sum()), int(det.sum() + missed.sum())),
            "minutes_to_detect": _ratio(out.al_ttd[:, k], det, 60.0),
            "budget_minutes_before_page": _ratio(out.al_burn[:, k], det, 60.0),
            "downtime_share_paged": _ratio(out.al_cov[:, k], lost, share=True),
        }
    return result
