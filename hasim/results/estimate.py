"""Estimates with honest 95 % intervals, and the one rule that turns them into an SLO verdict.

Every estimate is a mean over independent replicas.  Losses made of rare outages
(unavailability, downtime, a cause's minutes) get the compound-Poisson gamma interval of
:func:`hasim.results.intervals.loss_interval`, counts the Poisson one, proportions Wilson's (see that
module for why: the normal interval covers 27 % of the time at 20 replicas of a 1-of-2 pool).
With no outage at all an estimate is a one-sided 95 % upper bound on the loss, never a point.
:func:`half_width` (normal, on the spread of the replicas) remains for paired differences and
the precision of sensitivity runs.  :func:`slo_verdict` decides met / not met / too close /
insufficient evidence for every command and the report.
"""

from __future__ import annotations

import math

import numpy as np

from hasim.text import plural as _plural
from hasim.units import HOURS_PER_YEAR

__all__ = ["DEFAULT_SLO", "Z95", "MIN_OUTAGES", "half_width", "slo_verdict", "replicas_needed"]

#: The SLO (percent) used for window-breach statistics when the scenario gives none.
DEFAULT_SLO = 99.9
#: Two-sided 95 % normal quantile.
Z95 = 1.96
_MINUTES_PER_YEAR = HOURS_PER_YEAR * 60.0


#: Outages a run must have seen before its 95 % interval may decide an SLO (see :func:`slo_verdict`),
#: a precision run may stop, and the report stops warning that an estimate rests on few outages.
MIN_OUTAGES = 10
#: Measures that are fractions: their interval is clipped to [0, 1].
_FRACTIONS = frozenset({"request_availability", "time_availability", "degraded_fraction", "down_fraction",
                        "p_window_breach"})
#: The ``verdict`` word each status had before ``insufficient-evidence`` existed (batch JSON, sweep rows, tiers).
_LEGACY_VERDICT = {"met": "met", "not-met": "missed", "too-close": "uncertain",
                   "insufficient-evidence": "insufficient-evidence"}


def half_width(values) -> float:
    """The 95 % half-width of the mean of independent per-replica ``values``:
    ``Z95 * std(ddof=1) / sqrt(n)``; NaN with fewer than two values (one replica says nothing
    about the spread).  Used for paired differences, where the losses of both runs cancel; the
    estimates of a run use :mod:`hasim.results.intervals`."""
    x = np.asarray(values, dtype=np.float64)
    return float(Z95 * x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan


def relative_half_width(ra, outages: int) -> tuple[float, float, float]:
    """(mean, 95 % half-width, half-width / mean) of the unavailability ``1 - ra``: half the width of
    the interval every output prints (:func:`~hasim.results.intervals.loss_interval` on ``outages``);
    an infinite half-width when nothing was lost or with one replica (no precision to speak of)."""
    from hasim.results.intervals import loss_interval

    u = 1.0 - np.asarray(ra, dtype=np.float64)
    mean, lo, hi, one_sided = loss_interval(u, outages)
    if one_sided or u.size < 2 or not mean > 0:
        return mean, math.inf, math.inf
    half = (hi - lo) / 2.0
    return mean, half, half / mean


def slo_verdict(slo: float | None, mean: float | None, ci95, outages: int | None = None,
                replicas: int | None = None, *, min_outages: int = MIN_OUTAGES) -> dict:
    """The verdict of a simulated request availability against an SLO: the one rule every output uses.

    Parameters
    ----------
    slo : float or None
        The target in percent (99.99).  None gives status ``"no-slo"``.
    mean : float
        The estimated request availability (a fraction).
    ci95 : (float, float)
        Its 95 % confidence interval (either end None: not known).
    outages : int, optional
        Outages seen over all replicas.  None (not known, e.g. a hand-made
        object) skips the evidence rule and leaves only the interval.
    replicas : int, optional
        Replicas the estimate is the mean of; fewer than 2 have no spread to
        build an interval from, which is insufficient evidence too.
    min_outages : int
        The evidence rule (default :data:`MIN_OUTAGES`, 3).

    Returns
    -------
    dict
        ``slo``, ``status``, ``verdict``, ``met``, ``mean``, ``ci95``,
        ``outages``, ``min_outages`` and ``reason`` (a sentence).  ``status``
        is

        * ``"met"``: the whole interval is at or above the target, and the
          estimate rests on at least ``min_outages`` outages;
        * ``"not-met"``: the whole interval is below the target (same evidence rule);
        * ``"too-close"``: the interval straddles the target;
        * ``"insufficient-evidence"``: fewer than ``min_outages`` outages (or
          fewer than 2 replicas) while the target is not trivially met (an
          SLO of 0 %): the interval is then built from the spread of at most a
          couple of non-zero replicas, or has zero width, and says nothing.

        ``verdict`` is the older word for it (``met`` / ``missed`` /
        ``uncertain`` / ``insufficient-evidence``) that the batch JSON, sweep
        rows and tier tables carry, and ``met`` is True when the estimate
        itself is at or above the target (whatever the interval says).

    Notes
    -----
    Why 10 outages: with none, the interval is a one-sided bound built on an
    assumed loss per outage; with a few, it covers the truth less than 95 %
    of the time however it is built, because the loss of each outage is
    unknown as well as their number (benchmarks/bench_coverage.py: about 88 % with
    4 outages expected, 94-95 % from about 10).  The misses are optimistic
    (the interval sits above the truth), so a "met" from few outages would
    err towards the design.
    """
    if slo is None:
        return {"slo": None, "status": "no-slo", "verdict": None, "met": None, "mean": mean,
                "ci95": list(ci95) if ci95 is not None else [None, None], "outages": outages,
                "min_outages": min_outages, "reason": "no slo given"}
    target = slo / 100.0
    lo, hi = (None, None) if ci95 is None else ci95
    met_estimate = mean is not None and mean >= target
    if target <= 0.0:
        status, reason = "met", "an SLO of 0 % is met by any design"
    elif (outages is not None and outages < min_outages) or (replicas is not None and replicas < 2):
        status = "insufficient-evidence"
        if replicas is not None and replicas < 2:
            reason = "one replica has no spread to build a confidence interval from"
        else:
            reason = (f"{'no outage' if not outages else _plural(outages, 'outage')} observed "
                      f"(at least {min_outages} are needed before the interval means anything)")
    elif lo is not None and lo >= target:
        status, reason = "met", "the whole 95 % interval is at or above the target"
    elif hi is not None and hi < target:
        status, reason = "not-met", "the whole 95 % interval is below the target"
    else:
        status, reason = "too-close", "the 95 % interval straddles the target"
    return {"slo": slo, "status": status, "verdict": _LEGACY_VERDICT[status], "met": bool(met_estimate),
            "mean": mean, "ci95": [lo, hi], "outages": outages, "min_outages": min_outages, "reason": reason}


def _round_up(n: float) -> int:
    """``n`` rounded up to two significant figures (a replica count to suggest, not to compute with)."""
    n = max(1, math.ceil(n))
    scale = 10 ** max(0, len(str(n)) - 2)
    return -(-n // scale) * scale


def replicas_needed(scenario, slo: float, horizon: float, *, min_outages: int = MIN_OUTAGES) -> dict:
    """How many replicas of length ``horizon`` (hours) should decide ``slo``, from the exact solver.

    The solver (:func:`hasim.analyze`) gives the request unavailability ``U``
    and the rates of what makes it: the structural outages (rate ``r0``,
    mean request-weighted loss ``U0 / r0``) and every first-order delay term
    (rate ``r_i``, loss per event ``m_i``).  Treating the loss of a replica as
    compound Poisson with exponential-like durations (``E[D^2] = 2 m^2``), the
    per-replica unavailability has variance ``sum r_i * 2 m_i^2 / horizon``,
    so ``n = (1.96 sd / |U - U_slo|)^2`` replicas put the interval's edge at
    the target; and ``n = min_outages / (sum r_i * horizon)`` replicas are
    needed to expect ``min_outages`` outages at all.  The larger one (rounded
    up to two figures) is returned.

    Returns
    -------
    dict
        ``replicas`` (int, or None when the solver cannot tell),
        ``unavailability`` and ``outages_per_year`` (the solver's, or None),
        ``method`` (``"exact solver"`` or ``"none"``) and ``note`` (a sentence).
    """
    from hasim.analytic.analysis import analyze
    from hasim.analytic.exact import _default_params, _frequency

    try:
        a = analyze(scenario, cut_sets=False)
        # The rate at which the entry leaves "fully up" (Birnbaum, on the exact structure).
        r0 = _frequency(scenario, scenario.entry, _default_params(scenario), "not-full")
    except (ValueError, NotImplementedError, ZeroDivisionError, ArithmeticError) as exc:
        return {"replicas": None, "unavailability": None, "outages_per_year": None, "method": "none",
                "note": f"the exact solver cannot estimate it ({exc})"}
    u = 1.0 - a.request_availability
    u0 = 1.0 - a.structural_request_availability
    terms = [(r0, u0 / r0 if r0 > 0 else 0.0)]
    for t in a.delay_terms:
        rate = t.events_per_year / HOURS_PER_YEAR
        if rate > 0:
            terms.append((rate, t.request_unavailability / rate))
    rate = sum(r for r, _ in terms)
    var_h = sum(r * 2.0 * m * m for r, m in terms)  # variance of a replica's unavailability x horizon
    u_slo = 1.0 - slo / 100.0
    out = {"unavailability": u, "outages_per_year": rate * HOURS_PER_YEAR, "method": "exact solver"}
    if rate <= 0 or u <= 0:
        return {**out, "replicas": None, "note": "the exact solver finds nothing that takes the entry down"}
    n_evidence = min_outages / (rate * horizon)
    gap = abs(u - u_slo)
    if gap <= 1e-15 * max(u, u_slo):
        return {**out, "replicas": None,
                "note": "the exact solver puts the design on the target itself: no number of replicas decides"}
    n_interval = (Z95 * math.sqrt(var_h / horizon) / gap) ** 2
    return {**out, "replicas": _round_up(max(n_evidence, n_interval)),
            "note": f"exact solver: {100 * (1 - u):.6g} %, {rate * HOURS_PER_YEAR:.3g} outages/year"}


def _ratio_estimate(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float, float]:
    """sum(x) / sum(y) with a delta-method interval and a Student-t quantile on ``sum(y) - 1``
    degrees of freedom (the outages averaged over); NaN when sum(y) == 0, and NaN ends with a
    single outage (one duration has no spread)."""
    from hasim.results.intervals import _stats

    n = x.size
    ybar = float(y.mean()) if n else 0.0
    if ybar == 0:
        return math.nan, math.nan, math.nan, math.nan
    ratio = float(x.mean()) / ybar
    influence = (x - ratio * y) / ybar
    std = float(influence.std(ddof=1)) if n > 1 else 0.0
    dof = min(n, float(y.sum())) - 1
    if dof < 1:
        return ratio, math.nan, math.nan, std
    half = float(_stats().t.ppf(0.975, dof)) * std / math.sqrt(n)
    return ratio, max(0.0, ratio - half), ratio + half, std


def loss_per_outage(scenario) -> dict:
    """What one outage of the entry is expected to cost, for the bound of a run that saw none.

    From the exact solver (:func:`hasim.analyze`) where it solves the design: its request and time
    unavailability over its rate of outages (structural and first-order delay terms).  Otherwise the
    longest mean repair time of any service or zone, a loss per outage that no outage of
    exponential-like repairs exceeds on average.

    Returns
    -------
    dict
        ``request_hours`` and ``time_hours`` (float) and ``source`` (a phrase for the notes).
    """
    from hasim.analytic.analysis import analyze
    from hasim.analytic.exact import _default_params, _frequency

    try:
        a = analyze(scenario, cut_sets=False)
        rate = _frequency(scenario, scenario.entry, _default_params(scenario), "not-full")
        rate += sum(t.events_per_year for t in a.delay_terms) / HOURS_PER_YEAR
        hours = ((1.0 - a.request_availability) / rate, (1.0 - a.time_availability) / rate) if rate > 0 else (0, 0)
        # Beyond about 15 nines 1 - A is lost to rounding: the solver cannot size an outage then.
        if all(h > 0 and math.isfinite(h) for h in hours):
            return {"request_hours": hours[0], "time_hours": hours[1], "source": "the exact solver"}
    except (ValueError, NotImplementedError, ZeroDivisionError, ArithmeticError):
        pass
    laws = [s.repair for s in scenario.services.values() if getattr(s, "repair", None) is not None]
    laws += [z.repair for z in scenario.zones.values() if getattr(z, "repair", None) is not None]
    hours = max((float(law.mean_hours) for law in laws), default=math.nan)
    return {"request_hours": hours, "time_hours": hours, "source": "the longest mean repair time"}
