"""Results of a rare-event (importance splitting) run: estimates over independent main trials.

Each replica of :func:`hasim.sim.rare.simulate_splitting` is one main trial with its retrials, and
yields an unbiased estimate of the request and time unavailability and of the outages per year.
The replicas are independent, so the 95 % interval is the Student-t one over them; unlike plain
Monte Carlo each replica's estimate is made of many weighted visits to the outage, not of a few
spikes, and ``outages`` counts those visits (the evidence the estimate rests on; the verdict
needs :data:`~hasim.results.estimate.MIN_OUTAGES` of them).
"""

from __future__ import annotations

import json
import math
from functools import cached_property

import numpy as np

from hasim.results.estimate import MIN_OUTAGES, slo_verdict
from hasim.results.intervals import mean_interval
from hasim.units import HOURS_PER_YEAR

__all__ = ["RareEventResults"]

_MINUTES_PER_YEAR = HOURS_PER_YEAR * 60.0


class RareEventResults:
    """What ``hasim.simulate(..., method="splitting")`` returns.

    Attributes
    ----------
    summary : DataFrame
        ``metric, mean, ci_low, ci_high, std, outages, one_sided, note``, like
        :attr:`hasim.results.summary.Results.summary` for the measures splitting estimates.
    splits : list of int
        Retrials on entering each level (level 0: everything up).
    """

    engine = "numba"
    method = "splitting"

    def __init__(self, *, scenario, replicas: int, seed: int, horizon: float, splits, request_unavailability,
                 time_unavailability, hits, outages, events, elapsed_seconds: float):
        self.labels_scenario = scenario
        self.n_replicas = int(replicas)
        self.seed = int(seed)
        self.horizon = float(horizon)
        self.splits = list(splits)
        self.u_request = np.asarray(request_unavailability, dtype=np.float64)
        self.u_time = np.asarray(time_unavailability, dtype=np.float64)
        self.hits = np.asarray(hits, dtype=np.int64)
        self.outage_weights = np.asarray(outages, dtype=np.float64)
        self.events_per_replica = np.asarray(events, dtype=np.int64)
        self.elapsed_seconds = float(elapsed_seconds)
        self.slo = scenario.slo
        self.warmup = 0.0

    @property
    def scenario(self) -> str:
        return self.labels_scenario.name

    @property
    def events(self) -> int:
        """Events simulated over every trial and retrial."""
        return int(self.events_per_replica.sum())

    @property
    def total_outages(self) -> int:
        """Entries into the outage over all trials and retrials (unweighted): the evidence."""
        return int(self.hits.sum())

    @cached_property
    def _estimates(self) -> dict[str, tuple]:
        years = self.horizon / HOURS_PER_YEAR
        k = self.total_outages

        def row(values, availability: bool, scale: float = 1.0):
            mean, lo, hi, _ = mean_interval(values)
            std = float(np.std(values, ddof=1)) if values.size > 1 else 0.0
            if availability:
                mean, lo, hi = 1.0 - mean, 1.0 - hi, 1.0 - lo
                lo, hi = max(lo, 0.0), min(hi, 1.0)
            else:
                mean, lo, hi, std = mean * scale, max(lo, 0.0) * scale, hi * scale, std * scale
            one_sided = k == 0
            return mean, lo, hi, std, k, one_sided

        return {
            "request_availability": (*row(self.u_request, True), "importance splitting (RESTART)"),
            "time_availability": (*row(self.u_time, True), "fraction of time fully up"),
            "downtime_minutes_per_year": (*row(self.u_request, False, _MINUTES_PER_YEAR),
                                          "(1 - request availability) x 525600"),
            "outages_per_year": (*row(self.outage_weights, False, 1.0 / years), "weighted entries into the outage"),
        }

    def metric(self, name: str) -> dict:
        """``{"mean", "ci95", "std", "outages", "one_sided"}`` of a measure, as :meth:`Results.metric`."""
        mean, lo, hi, std, k, one_sided, _ = self._estimates[name]
        num = lambda x: float(x) if x is not None and math.isfinite(x) else None  # noqa: E731
        return {"mean": num(mean), "ci95": [num(lo), num(hi)], "std": num(std), "outages": int(k),
                "one_sided": bool(one_sided)}

    @cached_property
    def summary(self):
        import pandas as pd

        rows = [(m, *v) for m, v in self._estimates.items()]
        return pd.DataFrame(rows, columns=["metric", "mean", "ci_low", "ci_high", "std", "outages", "one_sided",
                                           "note"])

    @property
    def relative_half_width(self) -> float | None:
        """Half the interval of the request unavailability over its estimate."""
        ra = self.metric("request_availability")
        lo, hi = ra["ci95"]
        u = 1.0 - ra["mean"]
        return None if lo is None or hi is None or not u > 0 else (hi - lo) / 2.0 / u

    def slo_verdict(self, slo: float | None = None, **_) -> dict:
        ra = self.metric("request_availability")
        return slo_verdict(self.slo if slo is None else slo, ra["mean"], ra["ci95"], self.total_outages,
                           self.n_replicas)

    def to_dict(self) -> dict:
        """The ``hasim run --rare-event --json`` object (the keys of ``hasim run --json`` it has)."""
        return {
            "scenario": self.scenario, "engine": self.engine, "method": self.method,
            "replicas": self.n_replicas, "horizon_hours": self.horizon, "seed": self.seed,
            "events": self.events, "elapsed_seconds": self.elapsed_seconds, "slo": self.slo,
            "slo_verdict": None if self.slo is None else self.slo_verdict(),
            "outages": self.total_outages, "min_outages": MIN_OUTAGES, "splits": self.splits,
            "start": "new", "warmup_hours": 0.0,
            "metrics": {m: self.metric(m) for m in self._estimates},
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def __repr__(self) -> str:
        ra = self.metric("request_availability")
        return (f"<RareEventResults {self.scenario}: request unavailability {1 - ra['mean']:.4g} "
                f"({self.n_replicas} replicas x {self.horizon:g} h, splits {self.splits})>")
