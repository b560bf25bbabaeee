"""What a chaos experiment measured (:func:`hasim.chaos`): timelines, recovery times, expectations.

Every figure is computed from the engines' ordinary output (:class:`~hasim.sim.kernel._output.SimOutput`)
of the experiment's scenario (:meth:`hasim.model.chaos.Experiment.apply`), run once with the
design's entry and once with each service as the entry (same seed, same histories: every
component draws from a stream of its own, so which service is measured changes no draw):

* the **timeline** of a service is its served fraction averaged over each ``resolution`` step (the
  availability of each "window" of that length), per replica;
* **time to recover**: from the first fault to the end of the last outage of the entry whose root
  cause is a fault (0 when the entry lost nothing; ``inf`` when it was still out at the end);
* **time to full health**: the same over every service (each serves in full again);
* **time to detect**: how long the entry lost requests to the faults while a failure on its path
  was not yet noticed by a mechanism that could route around it (a health check, a router's
  probes, a failover's detection: the hours the attribution charges to the ``detection`` stage,
  which ranks before ``failover``, so a router above that has not noticed keeps it "undetected").
  A fault that costs nothing before it is noticed is detected "at once", as far as the entry can
  tell;
* **lost**: the entry's requests lost to the faults, in hours at full traffic (the attribution's
  request-hours), and how they split by stage;
* **min served**: the entry's lowest step of the timeline;
* **writes lost**: the data-loss windows of the promotions during the experiment, summed
  (:mod:`hasim.model.replication`; 0 without replication).

Intervals are 95 % over replicas (Student t on the mean); a measure equal in every replica is
*exact* and has no interval (never a zero-width one).  An expectation is checked in every replica:
``missed`` is the share of replicas that miss it, with its 95 % Wilson interval, and it passes when
that share is at most the experiment's ``tolerance``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hasim.model.chaos import FaultPlan
from hasim.model.mechanisms import STAGES
from hasim.model.structure import Labels
from hasim.results.intervals import mean_interval, proportion_interval

__all__ = ["ChaosResult", "MEASURES"]

#: Measures per replica: key -> (label, unit, expectation key, whether larger is worse).
MEASURES = {
    "time_to_detect": ("time to detect (loss before a mechanism noticed)", "h", "detects_within", True),
    "time_to_recover": ("time to recover (entry in full again)", "h", "recovers_within", True),
    "time_to_full_health": ("time to full health (every service in full)", "h", "full_health_within", True),
    "min_served": ("lowest served fraction of the entry (per step)", "share", "min_served", False),
    "lost": ("requests lost, in time at full traffic", "h", "lost_at_most", True),
    "writes_lost": ("writes lost by promotions (data-loss windows summed)", "h", "writes_lost_at_most", True),
}
_DETECTION = STAGES.index("detection")
#: Slack of the comparisons with a stated expectation (float sums of hours).
_EPS = 1e-9


def _recovery(out, causes: np.ndarray, settle: float, t0: float, horizon: float) -> tuple[np.ndarray, bool]:
    """Per replica: hours from ``t0`` to the end of the last outage caused by a fault (inf when
    still out at the end), and whether every replica's outage sample is complete."""
    start = out.out_start - settle
    end = start + out.out_dur
    mine = np.isin(out.out_cause, causes) & (start >= t0 - _EPS)
    last = np.where(mine, end, -np.inf).max(axis=1) if mine.shape[1] else np.full(mine.shape[0], -np.inf)
    rec = np.where(np.isfinite(last), np.maximum(last - t0, 0.0), 0.0)
    rec[(mine & (end >= horizon - _EPS)).any(axis=1)] = math.inf
    complete = bool((out.outages <= out.out_start.shape[1]).all())
    return rec, complete


@dataclass
class ChaosResult:
    """One experiment on one engine.  Build it with :func:`hasim.chaos`.

    Attributes
    ----------
    plan : FaultPlan
        The experiment, the design and the scenario that was simulated.
    engine : str
    replicas, seed : int
    per_replica : DataFrame
        One row per replica, a column per measure (:data:`MEASURES`).
    """

    plan: FaultPlan
    labels: Labels
    runs: dict = field(repr=False)      # service -> SimOutput (the entry's is the design's entry)
    engine: str = "numba"
    replicas: int = 0
    seed: int = 0
    elapsed_seconds: float = 0.0
    complete: bool = True

    def __post_init__(self):
        import pandas as pd

        p = self.plan
        self._causes = np.array([self.labels.causes.index(f"zone {z}") for z in p.fault_zones], dtype=np.int64)
        t0, settle, horizon = p.first_fault, p.settle, p.horizon
        entry = p.original.entry
        rec = {}
        complete = True
        for name, out in self.runs.items():
            rec[name], ok = _recovery(out, self._causes, settle, t0, horizon)
            complete = complete and ok
        self.complete = complete
        self._rec = rec
        e = self.runs[entry]
        self._steps = int(math.ceil(horizon / p.experiment.resolution - 1e-9))
        lost_cs = e.loss[:, self._causes, :].sum(axis=1)   # [replica, stage]
        self._lost_by_stage = lost_cs
        self.per_replica = pd.DataFrame({
            "time_to_detect": e.stage_h[:, self._causes, _DETECTION].sum(axis=1),
            "time_to_recover": rec[entry],
            "time_to_full_health": np.max(np.vstack([rec[n] for n in self.runs]), axis=0),
            "min_served": np.nanmin(e.win[:, :self._steps], axis=1),
            "lost": lost_cs.sum(axis=1),
            "writes_lost": e.dl_hours.sum(axis=1),
        })
        self.per_replica.index.name = "replica"

    # -- tables ---------------------------------------------------------------------------
    @property
    def experiment(self):
        return self.plan.experiment

    @property
    def services(self) -> list[str]:
        """The services with a timeline: the entry first, then the others (dependencies last)."""
        entry = self.plan.original.entry
        return [entry] + [n for n in reversed(self.labels.services) if n != entry and n in self.runs]

    def timeline(self):
        """Served fraction of the entry and of every service over the experiment, per step.

        Returns
        -------
        DataFrame
            ``time_h`` (start of the step, hours from the start of the experiment), ``service``,
            ``served`` (mean over replicas), ``ci_low`` / ``ci_high`` (95 %, NaN when every replica
            is the same: ``exact``), ``worst`` (lowest replica).
        """
        import pandas as pd

        res = self.experiment.resolution
        rows = []
        for name in self.services:
            win = self.runs[name].win[:, :self._steps]
            for k in range(self._steps):
                col = win[:, k]
                mean, lo, hi, exact = _interval(col)
                rows.append((k * res, name, mean, lo, hi, exact, float(col.min())))
        return pd.DataFrame(rows, columns=["time_h", "service", "served", "ci_low", "ci_high", "exact", "worst"])

    def measures(self):
        """Each measure over replicas: mean with its 95 % interval, median, 95th percentile, worst.

        Returns
        -------
        DataFrame
            Indexed by measure (:data:`MEASURES`): ``label``, ``unit`` (``h`` or ``share``), ``mean``,
            ``ci_low``, ``ci_high``, ``exact`` (every replica the same: no interval), ``p50``, ``p95``,
            ``worst`` (largest, or smallest for ``min_served``), ``unrecovered`` (replicas still
            out at the end, for the recovery times).
        """
        import pandas as pd

        rows = []
        for key, (label, unit, _, worse_up) in MEASURES.items():
            x = self.per_replica[key].to_numpy()
            bad = int(np.isinf(x).sum())
            if bad:
                mean, lo, hi, exact = math.inf, math.nan, math.nan, False
            else:
                mean, lo, hi, exact = _interval(x)
            q = np.quantile(x, [0.5, 0.95 if worse_up else 0.05]) if x.size else [math.nan, math.nan]
            rows.append((key, label, unit, mean, lo, hi, exact, float(q[0]), float(q[1]),
                         float(x.max() if worse_up else x.min()), bad))
        return pd.DataFrame(rows, columns=["measure", "label", "unit", "mean", "ci_low", "ci_high", "exact", "p50",
                                           "p95", "worst", "unrecovered"]).set_index("measure")

    def lost_by_stage(self):
        """Requests lost to the faults by stage: mean minutes at full traffic per experiment.

        Returns
        -------
        DataFrame
            ``stage``, ``lost_minutes``, ``ci_low``, ``ci_high`` (NaN when exact), ``share``; stages
            that lost nothing are left out.  The attribution's ``zone`` stage is called ``fault``
            here (``fault or zone`` with background failures): a fault is simulated as a zone, and
            while one is down the attribution charges the loss to it ahead of capacity, overload
            and breakers.
        """
        import pandas as pd

        total = float(self._lost_by_stage.sum(axis=1).mean())
        rows = []
        for g, stage in enumerate(STAGES):
            x = self._lost_by_stage[:, g] * 60.0
            if not x.any():
                continue
            mean, lo, hi, exact = _interval(x)
            if stage == "zone":
                stage = "fault or zone" if self.experiment.background else "fault"
            rows.append((stage, mean, lo, hi, exact, mean / 60.0 / total if total > 0 else math.nan))
        df = pd.DataFrame(rows, columns=["stage", "lost_minutes", "ci_low", "ci_high", "exact", "share"])
        return df.sort_values("lost_minutes", ascending=False, ignore_index=True)

    def expectations(self):
        """Each stated expectation checked in every replica.

        Returns
        -------
        DataFrame
            ``expectation`` (its key; ``SERVICE.key`` for a service's own), ``stated`` (hours, or a share for ``min_served``),
            ``measured`` (the worst replica), ``missed`` (share of replicas that miss it),
            ``missed_ci_low`` / ``missed_ci_high`` (95 % Wilson), ``tolerance``, ``passed``.
            Empty without ``expect``.
        """
        import pandas as pd

        cols = ["expectation", "stated", "measured", "missed", "missed_ci_low", "missed_ci_high", "tolerance",
                "passed"]
        ex = self.experiment.expect
        if ex is None:
            return pd.DataFrame(columns=cols)
        by_key = {v[2]: (k, v[3]) for k, v in MEASURES.items()}
        rows = []
        for key, stated in ex.stated().items():
            measure, worse_up = by_key[key]
            x = self.per_replica[measure].to_numpy()
            miss = x > stated + _EPS if worse_up else x < stated - _EPS
            p, lo, hi, _ = proportion_interval(miss.astype(np.float64), 1)
            worst = float(x.max() if worse_up else x.min())
            rows.append((key, stated, worst, p, lo, hi, ex.tolerance, bool(p <= ex.tolerance + _EPS)))
        for name, sx in ex.services.items():
            for key, stated in (("recovers_within", sx.recovers_within), ("min_served", sx.min_served)):
                if stated is None:
                    continue
                if key == "recovers_within":
                    x = self._rec[name]
                    miss = x > stated + _EPS
                    worst = float(x.max())
                else:
                    x = np.nanmin(self.runs[name].win[:, :self._steps], axis=1)
                    miss = x < stated - _EPS
                    worst = float(x.min())
                p, lo, hi, _ = proportion_interval(miss.astype(np.float64), 1)
                rows.append((f"{name}.{key}", stated, worst, p, lo, hi, ex.tolerance, bool(p <= ex.tolerance + _EPS)))
        return pd.DataFrame(rows, columns=cols)

    @property
    def passed(self) -> bool | None:
        """Whether every expectation holds (``None`` without ``expect``)."""
        if self.experiment.expect is None:
            return None
        return bool(self.expectations()["passed"].all())

    def to_dict(self) -> dict:
        """The result as plain data (what ``hasim chaos --json`` prints)."""
        p = self.plan
        ex = self.experiment
        m = self.measures()
        tl = self.timeline()
        res = ex.resolution

        def num(x):
            x = float(x)
            return None if math.isnan(x) else ("inf" if math.isinf(x) else x)

        measures = {}
        for key, row in m.iterrows():
            measures[key] = {"label": row["label"], "unit": row["unit"], "mean": num(row["mean"]),
                             "ci95": None if row["exact"] or math.isnan(row["ci_low"]) else [num(row["ci_low"]),
                                                                                             num(row["ci_high"])],
                             "exact": bool(row["exact"]), "p50": num(row["p50"]), "p95": num(row["p95"]),
                             "worst": num(row["worst"]), "unrecovered": int(row["unrecovered"])}
        expectations = [{"expectation": r.expectation, "stated": num(r.stated), "measured": num(r.measured),
                         "missed": num(r.missed), "missed_ci95": [num(r.missed_ci_low), num(r.missed_ci_high)],
                         "tolerance": num(r.tolerance), "passed": bool(r.passed)}
                        for r in self.expectations().itertuples()]
        timeline = {"step_hours": res, "time_hours": [k * res for k in range(self._steps)], "served": {}}
        for name, g in tl.groupby("service", sort=False):
            timeline["served"][name] = {"mean": [num(v) for v in g["served"]],
                                        "ci_low": [num(v) for v in g["ci_low"]],
                                        "ci_high": [num(v) for v in g["ci_high"]]}
        return {
            "experiment": ex.name, "description": ex.description, "scenario": p.original.name,
            "engine": self.engine, "replicas": self.replicas, "seed": self.seed, "background": ex.background,
            "duration_hours": ex.duration, "resolution_hours": res,
            "faults": [{"fault": f.label, "kind": f.kind, "target": f.target, "at_hours": f.at} for f in p.faults],
            "measures": measures,
            "lost_by_stage": {r.stage: num(r.lost_minutes) for r in self.lost_by_stage().itertuples()},
            "expectations": expectations, "passed": self.passed, "timeline": timeline,
            "elapsed_seconds": self.elapsed_seconds,
        }


def _interval(x: np.ndarray) -> tuple[float, float, float, bool]:
    """Mean, 95 % interval, exact (every value the same: no interval)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size and float(x.max()) - float(x.min()) <= 1e-9 * max(1.0, abs(float(x.mean()))):
        return float(x.mean()), math.nan, math.nan, True  # equal but for the rounding of float sums
    mean, lo, hi, _ = mean_interval(x)
    return mean, lo, hi, False
