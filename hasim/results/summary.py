"""Results of a simulation: DataFrames with 95 % confidence intervals, JSON and HTML.

Every estimate is a mean over independent replicas; its 95 % confidence
interval is built for what the measure is made of (:mod:`hasim.results.intervals`):
losses of rare outages get a compound-Poisson gamma interval, counts a Poisson
one, window breaches Wilson's, the mean outage duration a delta-method
interval.  With no outage a loss is a one-sided 95 % upper bound (``one_sided``),
and every row says how many outages it rests on.  Nothing is computed or printed in the constructor
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

from hasim.analytic.exact import TIERS, nines
from hasim.units import HOURS_PER_YEAR
from hasim.model.structure import roles
from hasim.results.estimate import (MIN_OUTAGES, _round_up, replicas_needed, DEFAULT_SLO, _ratio_estimate,
                                    loss_per_outage, relative_half_width, slo_verdict)
from hasim.results.intervals import count_interval, loss_interval, proportion_interval
from hasim.results.alerts import alert_measures
from hasim.results.data_loss import data_loss, rpo_breaches
from hasim.results.recovery import recovery_times, rto_breaches

__all__ = ["Results"]

_MINUTES_PER_YEAR = HOURS_PER_YEAR * 60.0

class Results:
    """What :func:`hasim.simulate` returns.

    Attributes
    ----------
    summary : DataFrame
        ``metric, mean, ci_low, ci_high, std, outages, one_sided, note`` (one
        row per measure; ``outages``: the outages the estimate rests on;
        ``one_sided``: no loss was seen and the interval is the observed value
        and a 95 % one-sided bound).
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
        or ``"zero_unavailability"`` (the cap was reached without any replica
        losing anything: the relative precision is undefined).
    relative_half_width : float or None
        The achieved 95 % half-width of the unavailability over its mean
        (None when the unavailability is 0 or with one replica).
    warmup : float
        Hours every replica ran before its measured horizon (0: measured from
        new, every component new and up: the first-horizon availability).
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
                 compile_seconds: float = math.nan, precision: dict | None = None, warmup: float = 0.0):
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
        self.warmup = float(warmup)

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
        rel = relative_half_width(self.out.ra, self.total_outages)[2]
        return rel if math.isfinite(rel) else None

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
    def _per_outage(self) -> dict:
        """What one outage costs, in hours, for the bound of a measure that lost nothing: the run's own
        mean outage when it saw some (a degraded or down fraction can be 0 while outages happened),
        else :func:`loss_per_outage` of the scenario (the exact solver), so that only a run without
        any outage pays for the solver."""
        k = self.total_outages
        if k > 0:
            o, h = self.out, self.horizon
            return {"request_hours": float((1.0 - o.ra).sum()) * h / k, "time_hours": float((1.0 - o.ta).sum()) * h / k,
                    "source": "this run's mean outage"}
        return loss_per_outage(self.labels.scenario)

    def _loss(self, values, events, per_event_hours: str | None, fraction: bool = False, scale: float = 1.0):
        """(mean, lo, hi, std, events, one_sided) of a per-replica loss; ``fraction``: it is ``1 - x``
        of an availability ``x``, whose interval is returned; ``scale`` converts hours of one outage
        into the units of ``values`` for the zero-loss bound."""
        x = np.asarray(values, dtype=np.float64)
        loss = 1.0 - x if fraction else x
        per_event = None
        if per_event_hours is not None and not loss.any():
            per_event = self._per_outage[per_event_hours] * scale
        mean, lo, hi, one_sided = loss_interval(loss, events, per_event=per_event)
        std = float(x.std(ddof=1)) if x.size > 1 else 0.0
        k = events if events is not None else int(np.count_nonzero(loss))
        if fraction:
            mean, lo, hi = 1.0 - mean, 1.0 - hi, 1.0 - lo
        return mean, lo, hi, std, k, one_sided

    @cached_property
    def _estimates(self) -> dict[str, tuple]:
        """metric -> (mean, ci_low, ci_high, std, outages, one_sided, note), in summary order."""
        o, years, h = self.out, self._years, self.horizon
        k = self.total_outages
        window_note = (f"window availability < {self.slo_used:g} % (window {self.window:g} h"
                       + (", no slo given: 99.9 % assumed)" if self.slo is None else ")"))
        ra = self._loss(o.ra, k, "request_hours", fraction=True, scale=1.0 / h)
        ra_loss = (1.0 - ra[0], 1.0 - ra[2], 1.0 - ra[1])
        per_year = lambda est: tuple(v / years for v in est[:3])  # noqa: E731

        def counts(values):
            mean, lo, hi, one_sided = count_interval(values)
            return (*per_year((mean, lo, hi)), float(np.std(values / years, ddof=1)) if values.size > 1 else 0.0,
                    int(np.asarray(values).sum()), one_sided)

        out = {
            "request_availability": (*ra, "mean served fraction of the entry"),
            "time_availability": (*self._loss(o.ta, k, "time_hours", fraction=True, scale=1.0 / h),
                                  "fraction of time fully up"),
            "degraded_fraction": (*self._loss(o.degraded, None, "time_hours", scale=1.0 / h), ""),
            "down_fraction": (*self._loss(o.down, None, "time_hours", scale=1.0 / h), ""),
            "downtime_minutes_per_year": (*(v * _MINUTES_PER_YEAR for v in ra_loss),
                                          float((1.0 - o.ra).std(ddof=1)) * _MINUTES_PER_YEAR if o.ra.size > 1
                                          else 0.0, k, ra[5], "(1 - request availability) x 525600"),
            "outages_per_year": (*counts(o.outages), ""),
        }
        outage_hours = (1.0 - o.ta) * h
        out["mean_outage_minutes"] = (*_ratio_estimate(outage_hours * 60.0, o.outages.astype(np.float64)), k,
                                      False, "total outage time / number of outages")
        out["longest_outage_minutes"] = (*self._loss(o.longest * 60.0, None, "time_hours", scale=60.0),
                                         "longest outage per replica")
        p, lo, hi, one_sided = proportion_interval(o.breaches, self.n_windows)
        std = float((o.breaches / self.n_windows).std(ddof=1)) if o.breaches.size > 1 else 0.0
        out["p_window_breach"] = (p, lo, hi, std, int(o.breaches.sum()), one_sided, window_note)
        out["breach_windows_per_year"] = (*counts(o.breaches), window_note)
        # summary order as before: the fractions, downtime, outages, breaches
        order = ["request_availability", "time_availability", "degraded_fraction", "down_fraction",
                 "downtime_minutes_per_year", "outages_per_year", "mean_outage_minutes", "longest_outage_minutes",
                 "p_window_breach", "breach_windows_per_year"]
        return {m: out[m] for m in order}

    @cached_property
    def summary(self):
        """DataFrame ``metric, mean, ci_low, ci_high, std, outages, one_sided, note``."""
        import pandas as pd

        rows = [(metric, *values) for metric, values in self._estimates.items()]
        return pd.DataFrame(rows, columns=["metric", "mean", "ci_low", "ci_high", "std", "outages", "one_sided",
                                           "note"])

    def metric(self, name: str) -> dict:
        """``{"mean", "ci95": [lo, hi], "std", "outages", "one_sided"}`` of a summary metric.

        ``outages`` is the number of events the estimate rests on (outages; breached windows for
        the breach measures), ``one_sided`` True when none was seen and ``ci95`` is the observed
        value and a one-sided 95 % bound (``[1 - bound, 1]`` for an availability).
        """
        mean, lo, hi, std, events, one_sided, _ = self._estimates[name]
        return {"mean": _num(mean), "ci95": [_num(lo), _num(hi)], "std": _num(std), "outages": int(events),
                "one_sided": bool(one_sided)}

    @property
    def few_outages(self) -> bool:
        """The run's estimates rest on fewer than :data:`MIN_OUTAGES` outages: read them as bounds."""
        return self.total_outages < MIN_OUTAGES

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
        """Like :attr:`hasim.analytic.analysis.Analysis.tiers`, with a verdict from :func:`slo_verdict`.

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
    def _recovery(self) -> dict:
        return recovery_times(self.out, n_replicas=self.n_replicas, end=self.warmup + self.horizon)

    @cached_property
    def recovery(self):
        """Recovery time of the entry's incidents (RTO, measured): from the first lost request to full
        service, in hours: ``measure`` (``mean``, ``p50``, ``p90``, ``p99``), ``hours``, ``ci_low``,
        ``ci_high`` (95 %; NaN where fewer than 10 incidents lie beyond a quantile, or where it sits on a
        duration many incidents share exactly), ``incidents`` (beyond the quantile; all of them for the
        mean) and ``exact_share`` (the share of incidents lasting exactly the quantile, when 1 % or
        more).  See :mod:`hasim.results.recovery`."""
        import pandas as pd

        r = self._recovery
        rows = [("mean", r["mean"]["hours"], *r["mean"]["ci95"], float(r["incidents"]), 0.0)]
        for q in r["quantiles"]:
            lo, hi = q["ci95"] if q["ci95"] is not None else (math.nan, math.nan)
            rows.append((f"p{round(100 * q['q']):d}", q["hours"], lo, hi, q["beyond"], q["exact_share"]))
        return pd.DataFrame(rows, columns=["measure", "hours", "ci_low", "ci_high", "incidents", "exact_share"])

    @cached_property
    def _alerts(self) -> dict:
        return alert_measures(self.out, list(self.labels.scenario.alerts), self._years)

    @cached_property
    def alerts(self):
        """What each alert rule caught (:mod:`hasim.results.alerts`): one row per rule and measure.

        Columns ``rule``, ``measure`` (``pages/year``, ``detected share`` of the incidents,
        ``missed/year``, ``minutes to detect``, ``budget minutes before page`` (minutes of a full
        outage burned from the incident's start to its page), ``downtime share paged`` (of the requests
        lost, the share lost in incidents it paged for), ``late pages/year``, ``false pages/year``
        (on the noise alone: ``alert_noise``)), ``value``,
        ``ci_low``, ``ci_high`` (95 %; NaN where none) and ``count`` (the pages, incidents or misses
        it rests on).  Empty without alert rules.
        """
        import pandas as pd

        rows = []
        for name, d in self._alerts.items():
            incidents = d["detected"] + d["missed"]
            for measure, key, count in (("pages/year", "pages_per_year", d["pages"]),
                                        ("detected share", "detected_share", incidents),
                                        ("missed/year", "missed_per_year", d["missed"]),
                                        ("minutes to detect", "minutes_to_detect", d["detected"]),
                                        ("budget minutes before page", "budget_minutes_before_page", d["detected"]),
                                        ("downtime share paged", "downtime_share_paged", d["detected"]),
                                        ("late pages/year", "late_per_year", d["late"]),
                                        ("false pages/year", "false_per_year", d["false"])):
                x = d[key]
                lo, hi = x["ci95"] if x["ci95"] is not None else (math.nan, math.nan)
                rows.append((name, measure, x["mean"], lo, hi, count))
        return pd.DataFrame(rows, columns=["rule", "measure", "value", "ci_low", "ci_high", "count"])

    @cached_property
    def _replicated(self) -> dict:
        """``{index: (name, Replication)}`` of the services whose standbys replicate."""
        sc = self.labels.scenario
        return {v: (name, sc.services[name].replication) for v, name in enumerate(self.labels.services)
                if sc.services[name].replication is not None}

    @cached_property
    def _data_loss(self) -> dict:
        return data_loss(self.out, services=self._replicated, years_per_replica=self._years)

    @cached_property
    def data_loss(self):
        """Writes lost by the promotions of each replicated standby service, and by the switches to
        each disaster-recovery copy (RPO, measured).

        One row per service and measure: ``service``, ``mode`` (its replication), ``copy_of`` (the
        service a disaster-recovery copy holds the data of, else None), ``measure``
        (``incidents/year``: promotions to an instance other than the last writer, or failovers
        that move the writes to the copy; ``window mean``,
        ``window p50`` / ``p90`` / ``p99``: the span of writes one incident loses, in hours;
        ``writes lost/year``: hours of writes lost a year), ``value``, ``ci_low``, ``ci_high`` (95 %;
        NaN where the rules of :mod:`hasim.results.data_loss` give none), ``incidents`` (seen; beyond
        the quantile for a quantile) and ``exact_share`` (of incidents losing exactly the quantile).
        Empty without replicated services.
        """
        import pandas as pd

        rows = []
        for name, d in self._data_loss.items():
            py, lost, win = d["per_year"], d["writes_lost_hours_per_year"], d["window"]
            key = (name, d["mode"], d["copy_of"])
            rows.append((*key, "incidents/year", py["mean"], *py["ci95"], float(d["incidents"]), 0.0))
            lo, hi = win["ci95"] if win["ci95"] is not None else (math.nan, math.nan)
            rows.append((*key, "window mean", win["mean_hours"], lo, hi, float(d["incidents"]), 0.0))
            for q in win["quantiles"]:
                lo, hi = q["ci95"] if q["ci95"] is not None else (math.nan, math.nan)
                rows.append((*key, f"window p{round(100 * q['q']):d}", q["hours"], lo, hi, q["beyond"],
                             q["exact_share"]))
            rows.append((*key, "writes lost/year", lost["mean"], *lost["ci95"], float(d["incidents"]), 0.0))
        frame = pd.DataFrame(rows, columns=["service", "mode", "copy_of", "measure", "value", "ci_low", "ci_high",
                                            "incidents", "exact_share"])
        frame["copy_of"] = frame["copy_of"].astype(object).where(frame["copy_of"].notna(), None)
        return frame

    def rpo_breaches(self, rpo: float | str | None = None) -> dict | None:
        """Incidents that lose more than ``rpo`` of writes, per year and as a share of incidents.

        Parameters
        ----------
        rpo : float (hours), str ('1m') or None
            The recovery point objective; None: the scenario's ``rpo`` (None if it has none).

        Returns
        -------
        dict or None
            :func:`hasim.results.data_loss.rpo_breaches` over every replicated service; None without an
            objective or without replicated services.
        """
        if rpo is None:
            rpo = getattr(self.labels.scenario, "rpo", None)
        elif isinstance(rpo, str):
            from hasim.units import parse_duration

            rpo = parse_duration(rpo)
        if rpo is None or not self._replicated:
            return None
        return rpo_breaches(self.out, rpo=float(rpo), services=list(self._replicated), years_per_replica=self._years)

    def rto_breaches(self, rto: float | str | None = None) -> dict | None:
        """Incidents that take longer than ``rto`` to recover, per year and as a share of incidents.

        Parameters
        ----------
        rto : float (hours), str ('15m') or None
            The recovery time objective; None: the scenario's ``rto`` (None if it has none).

        Returns
        -------
        dict or None
            :func:`hasim.results.recovery.rto_breaches`.
        """
        if rto is None:
            rto = getattr(self.labels.scenario, "rto", None)
            if rto is None:
                return None
        elif isinstance(rto, str):
            from hasim.units import parse_duration

            rto = parse_duration(rto)
        return rto_breaches(self.out, rto=float(rto), years_per_replica=self._years, end=self.warmup + self.horizon)

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
            mean, lo, hi, _ = loss_interval(col)
            std = float(col.std(ddof=1)) if col.size > 1 else 0.0
            rows.append((name, kind, mean, lo, hi, std, mean / total if total > 0 else math.nan))
        rows.sort(key=lambda r: -r[2])
        return rows

    @cached_property
    def stages(self):
        """Downtime by stage (detection, failover, dns, ...), minutes per year with CI."""
        import pandas as pd

        from hasim.model.mechanisms import STAGES

        by_stage = self.out.loss.sum(axis=1) * (60.0 / self._years)
        total = float(by_stage.sum(axis=1).mean()) if self.n_replicas else 0.0
        rows = []
        for g, stage in enumerate(STAGES):
            col = by_stage[:, g]
            # A stage that cost nothing has no outage of its own to size a bound with: NaN upper end.
            mean, lo, hi, _ = loss_interval(col)
            std = float(col.std(ddof=1)) if col.size > 1 else 0.0
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
        sc = self.labels.scenario
        rows = []
        for v, name in enumerate(self.labels.services):
            ra = self._loss(self.out.svc_ra[:, v], None, "request_hours", fraction=True, scale=1.0 / self.horizon)
            if sc.services[name].overload is not None:   # hours a year collapsed, with their own interval
                over = self._loss(self.out.overload[:, v] * HOURS_PER_YEAR, None, None)[:3]
            else:
                over = (math.nan, math.nan, math.nan)
            rows.append((name, role[name], *ra[:4], *over))
        return pd.DataFrame(rows, columns=["service", "role", "request_availability", "ci_low", "ci_high", "std",
                                          "overload_hours_per_year", "overload_ci_low", "overload_ci_high"])

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
            "min_outages": MIN_OUTAGES,
            # From new, every replica's figures are those of the design's first horizon, which wear-in
            # laws make better than the long run; after a warm-up, those of a design that has run so long.
            "start": "new" if self.warmup <= 0 else "warmed-up",
            "warmup_hours": self.warmup,
            "window_hours": self.window,
            "metrics": {name: self.metric(name) for name in (
                "request_availability", "time_availability", "downtime_minutes_per_year",
                "outages_per_year", "p_window_breach", "breach_windows_per_year", "mean_outage_minutes",
                "longest_outage_minutes", "degraded_fraction", "down_fraction")},
            "tiers": self.tiers,
            "recovery": self._recovery_json(),
            "data_loss": self._data_loss_json(),
            "alerts": self._alerts_json(),
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

    def _recovery_json(self) -> dict:
        r = self._recovery
        b = self.rto_breaches()
        return {
            "incidents": r["incidents"], "recorded": r["recorded"], "censored": r["censored"],
            "mean_hours": {"mean": _num(r["mean"]["hours"]), "ci95": [_num_or_none(x) for x in r["mean"]["ci95"]]},
            "quantiles": [{"q": q["q"], "hours": _num(q["hours"]),
                           "ci95": None if q["ci95"] is None else [_num(x) for x in q["ci95"]],
                           "incidents_beyond": _num(q["beyond"]), "exact_share": _num(q["exact_share"])}
                          for q in r["quantiles"]],
            "rto": None if b is None else {
                "rto_hours": b["rto_hours"],
                "breaches_per_year": {"mean": _num(b["per_year"]["mean"]),
                                      "ci95": [_num(x) for x in b["per_year"]["ci95"]],
                                      "one_sided": b["per_year"]["one_sided"]},
                "share_of_incidents": {"mean": _num(b["share"]["mean"]),
                                       "ci95": [_num(x) for x in b["share"]["ci95"]]},
                "censored": b["censored"]},
        }

    def _alerts_json(self) -> dict | None:
        if not self._alerts:
            return None

        def num(x):
            return {"mean": _num(x["mean"]), "ci95": None if x["ci95"] is None else [_num(v) for v in x["ci95"]],
                    **({"one_sided": x["one_sided"]} if "one_sided" in x else {})}

        return {name: {k: (num(v) if isinstance(v, dict) else v) for k, v in d.items()}
                for name, d in self._alerts.items()}

    def _data_loss_json(self) -> dict | None:
        if not self._replicated:
            return None

        def interval(x):
            return {"mean": _num(x["mean"]), "ci95": [_num(v) for v in x["ci95"]], "one_sided": x["one_sided"]}

        b = self.rpo_breaches()
        return {
            "services": {name: {
                "mode": d["mode"], "copy_of": d["copy_of"], "incidents": d["incidents"], "per_year": interval(d["per_year"]),
                "writes_lost_hours_per_year": interval(d["writes_lost_hours_per_year"]),
                "window_hours": {
                    "mean": _num(d["window"]["mean_hours"]),
                    "ci95": None if d["window"]["ci95"] is None else [_num(v) for v in d["window"]["ci95"]],
                    "quantiles": [{"q": q["q"], "hours": _num(q["hours"]),
                                   "ci95": None if q["ci95"] is None else [_num(v) for v in q["ci95"]],
                                   "incidents_beyond": _num(q["beyond"]), "exact_share": _num(q["exact_share"])}
                                  for q in d["window"]["quantiles"]]}}
                for name, d in self._data_loss.items()},
            "rpo": None if b is None else {
                "rpo_hours": b["rpo_hours"],
                "breaches_per_year": interval(b["per_year"]),
                "share_of_incidents": {"mean": _num(b["share"]["mean"]), "ci95": [_num(x) for x in b["share"]["ci95"]]}},
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
