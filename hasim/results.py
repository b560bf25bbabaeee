"""Results of a simulation: DataFrames with 95 % confidence intervals, JSON and HTML.

Every estimate is a mean over independent replicas; its 95 % confidence
interval is ``mean +- 1.96 * std / sqrt(n)`` with ``std`` the sample standard
deviation (ddof=1) of the per-replica values.  Ratios (mean outage duration)
use the delta method.  Nothing is computed or printed in the constructor
beyond keeping the arrays; the DataFrames are built on first access (pandas is
imported then, so ``to_json`` alone does not pay for it).
"""

from __future__ import annotations

import html
import json
import math
from functools import cached_property
from typing import NamedTuple

import numpy as np

from .analytic import TIERS, nines
from ._format import plural as _plural
from .durations import HOURS_PER_YEAR
from .structure import roles

__all__ = ["Results", "DEFAULT_SLO", "Z95", "MIN_OUTAGES", "half_width", "slo_verdict", "replicas_needed"]

#: The SLO (percent) used for window-breach statistics when the scenario gives none.
DEFAULT_SLO = 99.9
#: Two-sided 95 % normal quantile.
Z95 = 1.96
_MINUTES_PER_YEAR = HOURS_PER_YEAR * 60.0


#: Outages a run must have seen before its 95 % interval may decide an SLO (see :func:`slo_verdict`).
MIN_OUTAGES = 3
#: Measures that are fractions: their interval is clipped to [0, 1].
_FRACTIONS = frozenset({"request_availability", "time_availability", "degraded_fraction", "down_fraction",
                        "p_window_breach"})
#: The ``verdict`` word each status had before ``insufficient-evidence`` existed (batch JSON, sweep rows, tiers).
_LEGACY_VERDICT = {"met": "met", "not-met": "missed", "too-close": "uncertain",
                   "insufficient-evidence": "insufficient-evidence"}


def half_width(values) -> float:
    """The 95 % half-width of the mean of independent per-replica ``values``:
    ``Z95 * std(ddof=1) / sqrt(n)``; NaN with fewer than two values (one replica says nothing
    about the spread).  Every interval hasim prints comes from here (issue 13 replaces the rule)."""
    x = np.asarray(values, dtype=np.float64)
    return float(Z95 * x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan


def _estimate(values: np.ndarray, fraction: bool = False) -> tuple[float, float, float, float]:
    """(mean, ci_low, ci_high, std) of per-replica values: a normal 95 % interval, whose lower end
    is clipped at 0 for measures that cannot be negative (a rare cause seen in a few replicas), and
    whose upper end is clipped at 1 for a ``fraction`` (an availability cannot exceed 100 %)."""
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    mean = float(x.mean()) if n else math.nan
    std = float(x.std(ddof=1)) if n > 1 else 0.0
    half = half_width(x)
    low, high = mean - half, mean + half
    if n and low < 0.0 <= float(x.min()):
        low = 0.0
    if n and fraction and high > 1.0 >= float(x.max()):
        high = 1.0
    return mean, low, high, std


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
    Why 3 outages: with none, every replica has availability 1, the sample
    spread is 0 and the normal interval is the single point 100 %; yet zero
    events over an exposure E only bound the outage rate below about 3 / E
    at 95 % (the "rule of three"), so the data cannot tell a rare outage
    from no outage.  With 1 or 2 outages the spread comes from one or two
    non-zero replicas and the interval's far end undershoots the exact
    Poisson bound on the count badly (one outage: 2.96 against 4.74; two:
    4.77 against 6.30); from 3 on (6.39 against 7.75) it is the usual
    normal approximation, whose remaining optimism is issue #13's to fix.
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
    from .analytic import _default_params, _frequency, analyze

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
    """sum(x) / sum(y) with a delta-method interval; NaN when sum(y) == 0."""
    n = x.size
    ybar = float(y.mean()) if n else 0.0
    if ybar == 0:
        return math.nan, math.nan, math.nan, math.nan
    ratio = float(x.mean()) / ybar
    influence = (x - ratio * y) / ybar
    std = float(influence.std(ddof=1)) if n > 1 else 0.0
    half = Z95 * std / math.sqrt(n)
    return ratio, ratio - half, ratio + half, std


class Results:
    """What :func:`hasim.simulate` returns.

    Attributes
    ----------
    summary : DataFrame
        ``metric, mean, ci_low, ci_high, std, note`` (one row per measure).
    replicas : DataFrame
        One row per replica.
    windows : DataFrame
        Long format ``replica, window, start_h, hours, availability`` (the
        stored windows: see ``simulate(keep_windows=...)``).
    outages : DataFrame
        A bounded sample of outage records ``replica, start_h, duration_h, cause``.
    attribution : DataFrame
        Downtime by root cause (minutes per year, with CI and share).
    services : DataFrame
        Request availability of every service (optional dependencies included).
    tiers : list of dict
        The SLA tiers met, with a verdict that accounts for the CI.
    precision_target : float or None
        The ``simulate(precision=...)`` target (relative 95 % half-width of
        the unavailability ``1 - request availability``); None for a run of a
        fixed number of replicas.
    precision_reached : bool or None
        Whether the target was met when the run stopped (None: fixed run).
    stop_reason : str
        Why the run stopped: ``"replicas"`` (a fixed count),
        ``"precision_reached"``, ``"max_replicas"`` (the cap was hit first)
        or ``"zero_unavailability"`` (no replica lost anything: the relative
        precision is undefined).
    relative_half_width : float or None
        The achieved 95 % half-width of the unavailability over its mean
        (None when the unavailability is 0 or with one replica).
    precision_info : dict or None
        For a precision run: ``target``, ``reached``, ``stop_reason``,
        ``max_replicas``, ``relative_half_width`` and ``batches`` (one
        ``{replicas, unavailability, half_width, relative_half_width}`` per
        batch); the ``"precision"`` object of :meth:`to_dict`.
    """

    #: Whether this run compiled the numba kernel (a cold cache: minutes) rather than loading it
    #: (set by :func:`hasim.simulate`; ``compile_seconds`` is what either took).
    kernel_compiled: bool = False

    def __init__(self, *, labels, out, engine: str, replicas: int, seed: int, horizon: float,
                 window: float, n_windows: int, slo: float | None, elapsed_seconds: float,
                 compile_seconds: float = math.nan, precision: dict | None = None):
        self.labels = labels
        self.out = out
        self.engine = engine
        self.n_replicas = replicas
        self.seed = seed
        self.horizon = horizon
        self.window = window
        self.n_windows = n_windows
        self.slo = slo
        self.slo_used = DEFAULT_SLO if slo is None else slo
        self.elapsed_seconds = elapsed_seconds
        self.compile_seconds = compile_seconds
        self.precision_info = precision

    # -- basic facts ---------------------------------------------------------------------------
    @property
    def scenario(self) -> str:
        return self.labels.scenario.name

    @property
    def entry(self) -> str:
        return self.labels.scenario.entry

    @property
    def events(self) -> int:
        """Events simulated (component state changes and failover timers), all replicas."""
        return int(self.out.events.sum())

    @property
    def precision_target(self) -> float | None:
        return None if self.precision_info is None else self.precision_info["target"]

    @property
    def precision_reached(self) -> bool | None:
        return None if self.precision_info is None else self.precision_info["reached"]

    @property
    def stop_reason(self) -> str:
        return "replicas" if self.precision_info is None else self.precision_info["stop_reason"]

    @property
    def relative_half_width(self) -> float | None:
        """95 % half-width of ``1 - request availability`` over its mean (None if undefined)."""
        u = 1.0 - np.asarray(self.out.ra, dtype=np.float64)
        n = u.size
        mean = float(u.mean()) if n else 0.0
        if n < 2 or not mean > 0:
            return None
        return Z95 * float(u.std(ddof=1)) / math.sqrt(n) / mean

    @property
    def _years(self) -> float:
        return self.horizon / HOURS_PER_YEAR

    # -- estimates --------------------------------------------------------------------------------
    def _per_replica(self) -> dict[str, np.ndarray]:
        o = self.out
        return {
            "request_availability": o.ra,
            "time_availability": o.ta,
            "degraded_fraction": o.degraded,
            "down_fraction": o.down,
            "downtime_minutes_per_year": (1.0 - o.ra) * _MINUTES_PER_YEAR,
            "outages_per_year": o.outages / self._years,
            "longest_outage_minutes": o.longest * 60.0,
            "p_window_breach": o.breaches / self.n_windows,
            "breach_windows_per_year": o.breaches / self._years,
        }

    @cached_property
    def _estimates(self) -> dict[str, tuple[float, float, float, float, str]]:
        """metric -> (mean, ci_low, ci_high, std, note), in summary order."""
        out = {}
        notes = {
            "request_availability": "mean served fraction of the entry",
            "time_availability": "fraction of time fully up",
            "downtime_minutes_per_year": "(1 - request availability) x 525600",
            "longest_outage_minutes": "longest outage per replica",
        }
        window_note = (f"window availability < {self.slo_used:g} % (window {self.window:g} h"
                       + (", no slo given: 99.9 % assumed)" if self.slo is None else ")"))
        notes["p_window_breach"] = window_note
        notes["breach_windows_per_year"] = window_note
        for metric, values in self._per_replica().items():
            out[metric] = (*_estimate(values, fraction=metric in _FRACTIONS), notes.get(metric, ""))
            if metric == "outages_per_year":
                outage_hours = (1.0 - self.out.ta) * self.horizon
                est = _ratio_estimate(outage_hours * 60.0, self.out.outages.astype(np.float64))
                out["mean_outage_minutes"] = (*est, "total outage time / number of outages")
        return out

    @cached_property
    def summary(self):
        """DataFrame ``metric, mean, ci_low, ci_high, std, note``."""
        import pandas as pd

        rows = [(metric, *values) for metric, values in self._estimates.items()]
        return pd.DataFrame(rows, columns=["metric", "mean", "ci_low", "ci_high", "std", "note"])

    def metric(self, name: str) -> dict:
        """``{"mean", "ci95": [lo, hi], "std"}`` of a summary metric."""
        mean, lo, hi, std, _ = self._estimates[name]
        return {"mean": _num(mean), "ci95": [_num(lo), _num(hi)], "std": _num(std)}

    @property
    def request_availability(self) -> float:
        return float(self.out.ra.mean())

    @property
    def time_availability(self) -> float:
        return float(self.out.ta.mean())

    @property
    def nines(self) -> float:
        return nines(self.request_availability)

    @property
    def total_outages(self) -> int:
        """Outages seen over all replicas: the evidence behind every estimate."""
        return int(np.asarray(self.out.outages).sum())

    def slo_verdict(self, slo: float | None = None, *, advise: bool = True) -> dict:
        """The verdict against ``slo`` (default the scenario's): :func:`slo_verdict` on this run.

        With ``advise`` (default), a ``too-close`` or ``insufficient-evidence``
        verdict also carries ``replicas_needed`` (int or None) and ``advice``
        (a sentence): for ``too-close`` from this run's own spread, for
        ``insufficient-evidence`` from the exact solver (:func:`replicas_needed`),
        or 10x the replicas when the solver cannot tell.
        """
        slo = self.slo if slo is None else slo
        ra = self.metric("request_availability")
        v = slo_verdict(slo, ra["mean"], ra["ci95"], self.total_outages, self.n_replicas)
        if advise and v["status"] in ("too-close", "insufficient-evidence"):
            v.update(self._advice(v))
        return v

    def _advice(self, v: dict) -> dict:
        """``replicas_needed`` and ``advice`` of a verdict that does not decide."""
        if v["status"] == "too-close":
            mean, (lo, hi) = v["mean"], v["ci95"]
            gap = abs(mean - v["slo"] / 100.0)
            if gap > 0 and lo is not None and hi is not None:
                n = _round_up(self.n_replicas * ((hi - lo) / 2 / gap) ** 2)
                return {"replicas_needed": n, "advice": f"about {n} replicas would decide (from this run's spread)"}
            return {"replicas_needed": None, "advice": "the estimate sits on the target: more replicas may never decide"}
        key = (v["slo"], v["min_outages"])
        cache = self.__dict__.setdefault("_needed", {})
        if key not in cache:
            cache[key] = replicas_needed(self.labels.scenario, v["slo"], self.horizon, min_outages=v["min_outages"])
        need = cache[key]
        if need["replicas"] is not None:
            return {"replicas_needed": need["replicas"],
                    "advice": f"about {need['replicas']} replicas of {self.horizon / HOURS_PER_YEAR:g} y needed "
                              f"to decide ({need['note']})"}
        if need["method"] == "none":
            n = 10 * self.n_replicas
            return {"replicas_needed": None, "advice": f"{need['note']}; try 10x the replicas ({n}) or a longer horizon"}
        return {"replicas_needed": None, "advice": need["note"]}

    @cached_property
    def tiers(self) -> list[dict]:
        """Like :attr:`hasim.analytic.Analysis.tiers`, with a verdict from :func:`slo_verdict`.

        ``verdict`` is ``"met"`` when the whole interval is at or above the
        tier, ``"missed"`` when it is all below, ``"uncertain"`` when it
        straddles the tier, and ``"insufficient-evidence"`` when the run saw
        fewer than :data:`MIN_OUTAGES` outages.  ``met`` compares the estimate alone.
        """
        ra = self.metric("request_availability")
        outages = self.total_outages
        out = []
        for t in TIERS:
            v = slo_verdict(t, ra["mean"], ra["ci95"], outages, self.n_replicas)
            out.append({"tier": t, "allowed_minutes_per_year": round((1 - t / 100.0) * _MINUTES_PER_YEAR, 4),
                        "met": v["met"], "verdict": v["verdict"]})
        return out

    # -- tables -----------------------------------------------------------------------------------
    @cached_property
    def replicas(self):
        import pandas as pd

        o = self.out
        return pd.DataFrame({
            "replica": np.arange(self.n_replicas, dtype=np.int64),
            "request_availability": o.ra,
            "time_availability": o.ta,
            "degraded_fraction": o.degraded,
            "down_fraction": o.down,
            "downtime_minutes_per_year": (1.0 - o.ra) * _MINUTES_PER_YEAR,
            "outages": o.outages,
            "outage_hours": (1.0 - o.ta) * self.horizon,
            "longest_outage_hours": o.longest,
            "events": o.events,
            "window_breaches": o.breaches,
            "worst_window": o.worst,
        })

    @cached_property
    def windows(self):
        import pandas as pd

        win = self.out.win
        n, k = win.shape
        starts = np.arange(k) * self.window
        hours = np.minimum(starts + self.window, self.horizon) - starts
        return pd.DataFrame({
            "replica": np.repeat(np.arange(n, dtype=np.int64), k),
            "window": np.tile(np.arange(k, dtype=np.int64), n),
            "start_h": np.tile(starts, n),
            "hours": np.tile(hours, n),
            "availability": win.reshape(-1),
        })

    @cached_property
    def outages(self):
        """The recorded outages: ``replica, index, start_h, duration_h, cause, weight``.

        Every replica keeps a uniform random sample of at most ``keep_outages``
        of its outages (``index`` is the outage's ordinal in its replica); a row
        of a replica with ``n`` outages of which ``k`` were kept has
        ``weight = n / k``, the number of outages it stands for.  Weighted
        statistics (a weighted median, ``np.average(..., weights=weight)``) of
        the rows estimate those of all outages without bias; unweighted ones
        over-represent the replicas with few outages.
        """
        import pandas as pd

        o = self.out
        mask = o.out_cause >= 0
        rows, _ = np.nonzero(mask)
        order = np.lexsort((o.out_index[mask], rows))
        kept = mask.sum(axis=1)
        weight = o.outages[rows] / np.maximum(kept[rows], 1)
        causes = np.asarray(self.labels.causes, dtype=object)
        return pd.DataFrame({
            "replica": rows.astype(np.int64)[order],
            "index": o.out_index[mask][order],
            "start_h": o.out_start[mask][order],
            "duration_h": o.out_dur[mask][order],
            "cause": (causes[o.out_cause[mask]] if mask.any() else np.array([], dtype=object))[order],
            "weight": weight.astype(np.float64)[order],
        })

    @cached_property
    def _attribution_rows(self) -> list[tuple]:
        """(cause, kind, mean, ci_low, ci_high, std, share), largest first; causes never charged omitted."""
        loss_min = self.out.loss.sum(axis=2) * (60.0 / self._years)  # [replica, cause]: stages summed
        total = float(loss_min.sum(axis=1).mean()) if self.n_replicas else 0.0
        rows = []
        for c, (name, kind) in enumerate(zip(self.labels.causes, self.labels.cause_kinds)):
            col = loss_min[:, c]
            if not col.any():
                continue
            mean, lo, hi, std = _estimate(col)
            rows.append((name, kind, mean, lo, hi, std, mean / total if total > 0 else math.nan))
        rows.sort(key=lambda r: -r[2])
        return rows

    @cached_property
    def stages(self):
        """Downtime by stage (detection, failover, dns, ...), minutes per year with CI."""
        import pandas as pd

        from .sim.kernel import STAGES

        by_stage = self.out.loss.sum(axis=1) * (60.0 / self._years)
        total = float(by_stage.sum(axis=1).mean()) if self.n_replicas else 0.0
        rows = []
        for g, stage in enumerate(STAGES):
            mean, lo, hi, std = _estimate(by_stage[:, g])
            rows.append((stage, mean, lo, hi, std, mean / total if total > 0 else math.nan))
        return pd.DataFrame(rows, columns=["stage", "downtime_minutes_per_year", "ci_low", "ci_high", "std",
                                          "share"])

    @cached_property
    def attribution(self):
        """Downtime (request-weighted) by root cause, in minutes per year, largest first."""
        import pandas as pd

        return pd.DataFrame(self._attribution_rows, columns=["cause", "kind", "downtime_minutes_per_year", "ci_low",
                                                             "ci_high", "std", "share"])

    @cached_property
    def services(self):
        import pandas as pd

        role = roles(self.labels.scenario)
        rows = [(name, role[name], *_estimate(self.out.svc_ra[:, v], fraction=True))
                for v, name in enumerate(self.labels.services)]
        return pd.DataFrame(rows, columns=["service", "role", "request_availability", "ci_low", "ci_high", "std"])

    # -- export -------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """The ``hasim run --json`` object."""
        return {
            "scenario": self.scenario,
            "engine": self.engine,
            "replicas": self.n_replicas,
            "horizon_hours": self.horizon,
            "seed": self.seed,
            "events": self.events,
            "elapsed_seconds": self.elapsed_seconds,
            "compile_seconds": _num(self.compile_seconds),
            "kernel_compiled": bool(self.kernel_compiled),
            "slo": self.slo,
            "slo_verdict": None if self.slo is None else _json_verdict(self.slo_verdict()),
            "outages": self.total_outages,
            "window_hours": self.window,
            "metrics": {name: self.metric(name) for name in (
                "request_availability", "time_availability", "downtime_minutes_per_year",
                "outages_per_year", "p_window_breach", "breach_windows_per_year", "mean_outage_minutes",
                "longest_outage_minutes", "degraded_fraction", "down_fraction")},
            "tiers": self.tiers,
            "attribution": [
                {"cause": r.cause, "kind": r.kind,
                 "downtime_minutes_per_year": {"mean": _num(r.downtime_minutes_per_year),
                                               "ci95": [_num(r.ci_low), _num(r.ci_high)]},
                 "share": _num(r.share)}
                for r in (_AttributionRow(*row) for row in self._attribution_rows)],
            "notes": [] if self.slo is not None else
            [f"no slo in the scenario: window breaches use {DEFAULT_SLO} %"],
            "stop_reason": self.stop_reason,
            "precision": None if self.precision_info is None else {
                "target": self.precision_info["target"],
                "reached": self.precision_info["reached"],
                "stop_reason": self.precision_info["stop_reason"],
                "max_replicas": self.precision_info["max_replicas"],
                "relative_half_width": _num_or_none(self.precision_info["relative_half_width"]),
                "batches": [{k: _num_or_none(v) if isinstance(v, float) else v for k, v in b.items()}
                            for b in self.precision_info["batches"]],
            },
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    # -- display ------------------------------------------------------------------------------------
    def _headline(self) -> str:
        ra = self.metric("request_availability")
        return (f"{self.scenario}: request availability {100 * ra['mean']:.5f} % "
                f"[{100 * ra['ci95'][0]:.5f}, {100 * ra['ci95'][1]:.5f}] "
                f"({self.n_replicas} replicas x {self.horizon:g} h, seed {self.seed}, {self.engine})")

    def __repr__(self) -> str:
        return f"<Results {self._headline()}>"

    def _repr_html_(self) -> str:
        import pandas as pd

        tiers = pd.DataFrame(self.tiers)
        top = self.attribution.head(10)
        return (f"<div><p><b>{html.escape(self._headline())}</b></p>"
                f"{self.summary.to_html(index=False, float_format=lambda x: f'{x:.6g}')}"
                f"<p><b>SLA tiers</b></p>{tiers.to_html(index=False)}"
                f"<p><b>What drives the downtime</b></p>"
                f"{top.to_html(index=False, float_format=lambda x: f'{x:.4g}')}</div>")


class _AttributionRow(NamedTuple):
    cause: str
    kind: str
    downtime_minutes_per_year: float
    ci_low: float
    ci_high: float
    std: float
    share: float


def _json_verdict(v: dict) -> dict:
    """A verdict with JSON-safe numbers."""
    return {**v, "mean": _num_or_none(v["mean"]), "ci95": [_num_or_none(x) for x in v["ci95"]]}


def _num(x) -> float | None:
    """A JSON-safe float (None for NaN / inf)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _num_or_none(x) -> float | None:
    """:func:`_num` that passes None through."""
    return None if x is None else _num(x)
