"""Compare designs with common random numbers: each measure side by side, with paired differences.

Every design runs with the same seed, replica count and horizon.  hasim gives
replica ``i`` the random stream ``(seed, i)``, so replica ``i`` of design B
draws from the same stream as replica ``i`` of design A; the difference is
estimated from the per-replica differences (``mean +- 1.96 sd / sqrt(n)``),
which is tighter than comparing two independent runs as far as the designs
share their failures (the streams stay aligned until the designs draw
differently).  A design compared with itself differs by exactly zero.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from hasim.units import HOURS_PER_YEAR, parse_duration
from hasim.model.scenario import Scenario
from hasim.results.estimate import half_width

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["compare", "compare_results", "Comparison", "MEASURES", "sentences"]


#: Measures compared, with their label, unit and whether more is better.
MEASURES = {
    "request_availability": ("request availability", "%", True),
    "time_availability": ("time availability", "%", True),
    "downtime_minutes_per_year": ("downtime", "min/year", False),
    "outages_per_year": ("outages", "per year", False),
    "p_window_breach": ("P(window misses the SLO)", "%", False),
}


def _per_replica(results) -> dict[str, np.ndarray]:
    rep = results.replicas
    info = results.to_dict()
    years = info["horizon_hours"] / HOURS_PER_YEAR
    n_windows = getattr(results, "n_windows", None) or max(1, math.ceil(info["horizon_hours"] /
                                                                      info["window_hours"] - 1e-9))
    return {
        "request_availability": rep["request_availability"].to_numpy(float),
        "time_availability": rep["time_availability"].to_numpy(float),
        "downtime_minutes_per_year": rep["downtime_minutes_per_year"].to_numpy(float),
        "outages_per_year": rep["outages"].to_numpy(float) / years,
        "p_window_breach": rep["window_breaches"].to_numpy(float) / n_windows,
    }


def _estimate(x: np.ndarray) -> tuple[float, float, float]:
    mean = float(x.mean()) if x.size else math.nan
    half = half_width(x)
    return mean, mean - half, mean + half


@dataclass
class Comparison:
    """Designs run with common random numbers.

    Attributes
    ----------
    designs : list of str
        Design names, the first being the reference.
    results : list of Results
    scenarios : list of Scenario
    table : DataFrame
        Long format: ``measure, label, unit, design, mean, ci_low, ci_high, diff,
        diff_ci_low, diff_ci_high, verdict`` (differences vs the first design;
        ``verdict``: better / worse / no significant difference / reference).
    paired : bool
        True when every run used the same seed, replicas and horizon.
    """

    designs: list[str]
    results: list
    scenarios: list
    table: pd.DataFrame
    paired: bool

    def sentences(self) -> list[str]:
        """One plain-English sentence per design after the first (see :func:`sentences`)."""
        return sentences(self)

    def wide(self) -> pd.DataFrame:
        """One row per measure, one column block per design (for printing)."""
        return self.table.pivot(index="measure", columns="design", values="mean").reindex(list(MEASURES))

    def to_dict(self) -> dict:
        """The ``hasim compare --json`` object."""
        def num(x):
            x = float(x)
            return x if math.isfinite(x) else None

        rows = []
        for r in self.table.itertuples():
            rows.append({"measure": r.measure, "design": r.design, "mean": num(r.mean),
                         "ci95": [num(r.ci_low), num(r.ci_high)],
                         "diff": num(r.diff), "diff_ci95": [num(r.diff_ci_low), num(r.diff_ci_high)],
                         "verdict": r.verdict})
        first = self.results[0].to_dict()
        return {"designs": self.designs, "reference": self.designs[0], "paired": self.paired,
                "replicas": first["replicas"], "seed": first["seed"], "horizon_hours": first["horizon_hours"],
                "measures": rows, "sentences": self.sentences()}


def _unique(labels: Sequence[str]) -> list[str]:
    names, seen = [], {}
    for n in labels:
        seen[n] = seen.get(n, 0) + 1
        names.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return names


def compare_results(results: Sequence, scenarios: Sequence[Scenario] | None = None,
                    names: Sequence[str] | None = None) -> Comparison:
    """Build a :class:`Comparison` from finished runs (the first is the reference).

    Differences use per-replica pairs when every run has the same seed,
    replica count and horizon; otherwise independent (Welch) intervals.
    """
    import pandas as pd

    results = list(results)
    if not results:
        raise ValueError("nothing to compare")
    names = list(names) if names is not None else _unique([r.scenario for r in results])
    infos = [r.to_dict() for r in results]
    key = lambda d: (d["replicas"], d["seed"], d["horizon_hours"])  # noqa: E731
    paired = all(key(d) == key(infos[0]) for d in infos)
    per = [_per_replica(r) for r in results]
    rows = []
    for measure, (label, unit, higher_better) in MEASURES.items():
        ref = per[0][measure]
        for i, (name, values) in enumerate(zip(names, per)):
            x = values[measure]
            # Each design's own interval is the one its run prints (rare-event aware, a bound when it
            # saw no outage); only the differences below use the paired spread.
            m = results[i].metric(measure) if hasattr(results[i], "metric") else None
            if m is not None and None not in m["ci95"]:
                mean, (lo, hi) = m["mean"], m["ci95"]
            else:
                mean, lo, hi = _estimate(x)
            if i == 0:
                diff = d_lo = d_hi = math.nan
                verdict = "reference"
            else:
                if paired:
                    diff, d_lo, d_hi = _estimate(x - ref)
                else:
                    diff = float(x.mean() - ref.mean())
                    half = math.hypot(half_width(x), half_width(ref))  # independent runs
                    d_lo, d_hi = diff - half, diff + half
                if d_lo > 0 or d_hi < 0:
                    verdict = "better" if (diff > 0) == higher_better else "worse"
                else:
                    verdict = "no significant difference"
            rows.append((measure, label, unit, name, mean, lo, hi, diff, d_lo, d_hi, verdict))
    table = pd.DataFrame(rows, columns=["measure", "label", "unit", "design", "mean", "ci_low", "ci_high", "diff",
                                        "diff_ci_low", "diff_ci_high", "verdict"])
    scenarios = list(scenarios) if scenarios is not None else [None] * len(results)
    comp = Comparison(designs=names, results=results, scenarios=scenarios, table=table, paired=paired)
    table.attrs.update({"designs": names, "reference": names[0], "paired": paired,
                        "replicas": infos[0]["replicas"], "seed": infos[0]["seed"],
                        "horizon_hours": infos[0]["horizon_hours"], "sentences": sentences(comp)})
    return comp


def run_comparison(scenarios: Sequence[Scenario | str | os.PathLike], replicas: int | None = None,
                   seed: int | None = None, *, horizon: float | str | None = None, engine: str = "numba",
                   names: Sequence[str] | None = None) -> Comparison:
    """Simulate every design with common random numbers and compare them (see :func:`compare`)."""
    from hasim.sim.engine import simulate
    from hasim.model.io import load

    scs = [sc if isinstance(sc, Scenario) else load(sc) for sc in scenarios]
    if not scs:
        raise ValueError("nothing to compare")
    first = scs[0]
    replicas = first.replicas if replicas is None else int(replicas)
    seed = first.seed if seed is None else int(seed)
    horizon_h = first.horizon if horizon is None else parse_duration(horizon)
    results = [simulate(sc, replicas=replicas, seed=seed, horizon=horizon_h, engine=engine) for sc in scs]
    return compare_results(results, scs, names=names if names is not None else _unique([sc.name for sc in scs]))


def compare(scenarios: Sequence[Scenario | str | os.PathLike], replicas: int | None = None,
            seed: int | None = None, *, horizon: float | str | None = None, engine: str = "numba",
            names: Sequence[str] | None = None) -> pd.DataFrame:
    """Run designs with common random numbers and compare each measure to the first design.

    Parameters
    ----------
    scenarios : list of Scenario or paths
        The designs; the first is the reference.
    replicas, seed, horizon
        Shared by every run (default: the first design's).
    engine : str
        Passed to :func:`hasim.sim.engine.simulate`.
    names : list of str, optional
        Labels (default: the scenario names).

    Returns
    -------
    DataFrame
        One row per (measure, design): ``measure, label, unit, design, mean,
        ci_low, ci_high`` and, vs the first design, ``diff, diff_ci_low,
        diff_ci_high`` (paired 95 % CI) and ``verdict``.  Measures: request and
        time availability, downtime minutes per year, outages per year and
        P(window misses the SLO).  ``attrs["sentences"]`` holds the summary
        sentences ("B removes 41 ± 3 min/year of downtime").
    """
    return run_comparison(scenarios, replicas, seed, horizon=horizon, engine=engine, names=names).table


# --- sentences ------------------------------------------------------------------------------------


def _pm(value: float, half: float, unit: str = "") -> str:
    """41 ± 3 with digits matched to the half-width."""
    if not math.isfinite(half) or half <= 0:
        return f"{value:.3g}{unit}"
    exponent = math.floor(math.log10(half))
    leading_one = half < 2 * 10 ** exponent
    digits = min(6, max(0, -exponent + (1 if leading_one else 0)))
    value = round(value, digits) + 0.0  # no "-0"
    return f"{value:.{digits}f} ± {half:.{digits}f}{unit}"


def _by(results, column: str) -> dict[str, float] | None:
    if column == "stage":
        stages = getattr(results, "stages", None)
        if stages is not None and len(stages):
            return dict(zip(stages["stage"], stages["downtime_minutes_per_year"].astype(float)))
        att = results.attribution
        if "stage" in att.columns:
            return att.groupby("stage")["downtime_minutes_per_year"].sum().astype(float).to_dict()
        return None
    att = results.attribution
    names = {"instance": "{} instance failures", "zone": "{} outages"}
    return {names.get(kind, "{}").format(cause): float(v)
            for cause, kind, v in zip(att["cause"], att["kind"], att["downtime_minutes_per_year"])}


def _where(ref, other, total_diff: float) -> str:
    """', 80 % of it detection' / ', mostly lb (-38 min/year)' or ''."""
    for column in ("stage", "cause"):
        a, b = _by(ref, column), _by(other, column)
        if a is None or b is None:
            continue
        keys = set(a) | set(b)
        diffs = {k: b.get(k, 0.0) - a.get(k, 0.0) for k in keys}
        same_sign = {k: v for k, v in diffs.items() if v * total_diff > 0}
        if not same_sign or total_diff == 0:
            continue
        k = max(same_sign, key=lambda name: abs(same_sign[name]))
        # Shares of the breakdown's own total difference (stages add up to the downtime).
        breakdown_total = sum(diffs.values())
        share = same_sign[k] / (breakdown_total if breakdown_total * total_diff > 0 else total_diff)
        if column == "stage":
            return f", {100 * min(share, 1):.0f} % of it {k}"
        return f", mostly {k} ({diffs[k]:+.3g} min/year)"
    return ""


def sentences(comparison: Comparison) -> list[str]:
    """Plain-English verdicts: "B removes 41 ± 3 min/year of downtime (A: 52 → B: 11), 80 % of it detection"."""
    t = comparison.table
    out = []
    ref_name = comparison.designs[0]
    for i, name in enumerate(comparison.designs[1:], start=1):
        row = t[(t["measure"] == "downtime_minutes_per_year") & (t["design"] == name)].iloc[0]
        ref_row = t[(t["measure"] == "downtime_minutes_per_year") & (t["design"] == ref_name)].iloc[0]
        diff, half = float(row["diff"]), (float(row["diff_ci_high"]) - float(row["diff_ci_low"])) / 2
        if row["verdict"] == "no significant difference":
            text = (f"{name} makes no significant difference to downtime compared with {ref_name} "
                    f"({_pm(diff, half)} min/year" + (", exactly the same runs" if half == 0 and diff == 0 else "")
                    + ")")
        else:
            verb = "removes" if diff < 0 else "adds"
            text = (f"{name} {verb} {_pm(abs(diff), half)} min/year of downtime compared with {ref_name} "
                    f"({ref_row['mean']:.3g} → {row['mean']:.3g} min/year)")
            text += _where(comparison.results[0], comparison.results[i], diff)
        breach = t[(t["measure"] == "p_window_breach") & (t["design"] == name)].iloc[0]
        if breach["verdict"] in ("better", "worse"):
            text += (f"; P(a window misses the SLO) goes from {100 * (breach['mean'] - breach['diff']):.2g} % "
                     f"to {100 * breach['mean']:.2g} %")
        out.append(text + ".")
    return out
