"""Charts for notebooks and reports: one function per chart, each ``f(..., ax=None) -> Axes``.

Every function draws on ``ax`` when given and otherwise creates a figure of a
sensible size with the object-oriented API (no ``pyplot`` state is touched
besides creating that figure, ``plt.show`` is never called), so they work the
same in Jupyter, in scripts with the Agg backend and in :mod:`hasim.present.report`.

matplotlib is imported inside the functions: ``import hasim.plot`` stays cheap.

==========================  ====================================================
function                    chart
==========================  ====================================================
``downtime_distribution``   yearly downtime across replicas, with the SLA tier lines
``window_breaches``         P(a window has more than x min of downtime), SLO line
``attribution``             downtime by root cause (or by stage) with 95 % CIs
``tornado``                 sensitivity: each parameter halved / doubled
``comparison``              designs side by side (from :func:`hasim.studies.compare.compare`)
``sweep``                   a measure against a swept parameter
``architecture``            the scenario: services in layers, dependencies, routers, zones
``outage_timeline``         served fraction through one representative outage
==========================  ====================================================
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np

from hasim.text import duration as format_duration
from hasim.text import in_unit, minutes_unit
from hasim.analytic.exact import TIERS
from hasim.units import HOURS_PER_YEAR

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes

    from hasim.model.scenario import Scenario

__all__ = [
    "downtime_distribution", "window_breaches", "attribution", "tornado", "comparison", "sweep",
    "architecture", "architecture_size", "outage_timeline", "outage_timeline_size", "representative_outage",
    "PALETTE",
]

_MINUTES_PER_YEAR = HOURS_PER_YEAR * 60.0

#: Colours shared by the charts and the HTML report.
PALETTE = {
    "primary": "#1f4e79",
    "secondary": "#5b8db8",
    "accent": "#e07b39",
    "good": "#2e7d32",
    "bad": "#c62828",
    "warn": "#b26a00",
    "grid": "#e3e7ec",
    "text": "#1f2933",
    "muted": "#6b7785",
    "router": "#ede7f6",
    "router_edge": "#5e35b1",
}
_TIER_COLOURS = {99.0: "#8d6e63", 99.9: "#b26a00", 99.99: "#c62828", 99.999: "#6a1b9a"}
_REGION_FILLS = ["#e3f2fd", "#e8f5e9", "#fff3e0", "#fce4ec", "#f3e5f5", "#e0f7fa", "#f9fbe7", "#efebe9"]
_REGION_EDGES = ["#1565c0", "#2e7d32", "#ef6c00", "#ad1457", "#6a1b9a", "#00838f", "#9e9d24", "#5d4037"]


# --- helpers ------------------------------------------------------------------------------------


def _axes(ax, figsize):
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    # A Figure that is not registered with pyplot: nothing to close, no GUI, works under any backend.
    try:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=figsize, layout="constrained")
    except Exception:  # pragma: no cover - a headless interpreter without a usable backend
        fig = Figure(figsize=figsize, layout="constrained")
    return fig.add_subplot()


def _tidy(ax, grid: str | None = "y") -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#9aa5b1")
    ax.tick_params(colors=PALETTE["text"], labelsize=8.5)
    if grid:
        ax.grid(axis=grid, color=PALETTE["grid"], linewidth=0.8)
        ax.set_axisbelow(True)


def _title(ax, text: str) -> None:
    ax.set_title(text, loc="left", fontsize=10.5, fontweight="bold", color=PALETTE["text"])


def _fmt_minutes(m: float) -> str:
    """One downtime (minutes) in its own unit, for a chart that prints a single figure of that kind."""
    if not math.isfinite(m):
        return "n/a"
    return in_unit(m, minutes_unit([m])[0])


_UNIT_WORDS = {"s": "seconds", "min": "minutes", "h": "hours", "d": "days"}


def _vlabel(ax, x: float, text: str, colour: str, bold: bool = False) -> None:
    """A vertical label just left of the vertical line at ``x``, from the top of the axes."""
    ax.annotate(text, xy=(x, 1.0), xycoords=("data", "axes fraction"), xytext=(-2, -3), textcoords="offset points",
                rotation=90, ha="right", va="top", fontsize=7.5, color=colour, fontweight="bold" if bold else "normal")


def window_name(hours: float) -> str:
    """'month' for 730 h, 'week', 'day', 'year', else '<duration> window'."""
    for name, size in (("month", HOURS_PER_YEAR / 12), ("week", 168.0), ("day", 24.0), ("year", HOURS_PER_YEAR)):
        if math.isclose(hours, size, rel_tol=1e-6):
            return name
    return f"{format_duration(hours)} window"


def _share(x: float) -> str:
    """A share of the total: '88 %', '0.4 %', '< 0.1 %'."""
    p = 100 * x
    if p == 0:
        return "0 %"
    if p < 0.1:
        return "< 0.1 %"
    return f"{p:.0f} %" if p >= 9.5 else f"{p:.1g} %"


def _tier_label(t: float) -> str:
    return f"{t:g} %"


def _slo_of(results, slo):
    if slo is not None:
        return slo
    return getattr(results, "slo", None)


# --- 1. downtime distribution --------------------------------------------------------------------


def downtime_distribution(results, ax: Axes | None = None, *, slo: float | None = None,
                          tiers: Sequence[float] = TIERS, bins: int = 40, log: bool | None = None) -> Axes:
    """Histogram of downtime (minutes per year) across replicas, with the SLA tier lines.

    Parameters
    ----------
    results : Results
        A simulation (``results.replicas["downtime_minutes_per_year"]``).
    slo : float, optional
        Highlighted tier (default: the scenario's ``slo``).
    log : bool, optional
        Logarithmic downtime axis; by default when the values span more than
        two decades.  Replicas with no downtime at all are then counted in the
        text box, not in a bar.
    """
    ax = _axes(ax, (7.2, 3.4))
    minutes = np.asarray(results.replicas["downtime_minutes_per_year"], dtype=float)
    slo = _slo_of(results, slo)
    # One unit for the whole chart, axis and labels: minutes, the unit of SLO allowances.
    unit, size = "min", 1.0
    values = minutes / size
    positive = values[values > 0]
    if log is None:
        log = positive.size > 0 and np.percentile(positive, 99) / max(np.percentile(positive, 5), 1e-9) > 100
    zero = int((values <= 0).sum())
    if log and positive.size:
        lo = max(positive.min(), 1e-3)
        hi = max(positive.max(), lo * 10)
        edges = np.geomspace(lo, hi * 1.0001, bins + 1)
        ax.hist(positive, bins=edges, color=PALETTE["secondary"], edgecolor="white", linewidth=0.4)
        ax.set_xscale("log")
        xmin, xmax = lo, hi
    else:
        hi = float(values.max()) if values.size else 1.0
        hi = hi if hi > 0 else 1.0
        ax.hist(values, bins=np.linspace(0.0, hi * 1.0001, bins + 1), color=PALETTE["secondary"],
                edgecolor="white", linewidth=0.4)
        xmin, xmax = 0.0, hi
    ymax = ax.get_ylim()[1]
    ax.set_ylim(0, ymax * 1.08)
    for t in tiers:
        allowed = (1 - t / 100) * _MINUTES_PER_YEAR / size
        highlight = slo is not None and math.isclose(t, slo)
        if not (xmin * 0.5 <= allowed <= xmax * 3) and not highlight:
            continue
        colour = _TIER_COLOURS.get(t, PALETTE["bad"])
        ax.axvline(allowed, color=colour, linestyle="-" if highlight else "--", linewidth=1.8 if highlight else 1.1)
        _vlabel(ax, allowed, f"{_tier_label(t)}{' SLO' if highlight else ''}: {in_unit(allowed * size, unit)}/y",
                colour, bold=highlight)
    if values.size:
        mean = float(values.mean())
        if mean > 0 or not log:
            ax.axvline(mean, color=PALETTE["text"], linestyle=":", linewidth=1.2)
            _vlabel(ax, mean, f"mean {in_unit(mean * size, unit)}/y", PALETTE["text"])
    years = getattr(results, "horizon", HOURS_PER_YEAR) / HOURS_PER_YEAR
    what = f"{values.size} simulated years" if math.isclose(years, 1.0) else \
        f"{values.size} simulated histories of {format_duration(years * HOURS_PER_YEAR)}"
    if log and zero:
        what += f" ({zero} without downtime not shown)"
    ax.set_xlabel(f"downtime, {_UNIT_WORDS[unit]} per year (request-weighted)" + (", log scale" if log else ""),
                  fontsize=9)
    ax.set_ylabel("replicas", fontsize=9)
    _title(ax, f"Yearly downtime across {what}")
    _tidy(ax)
    return ax


# --- 2. window breaches --------------------------------------------------------------------------


def window_breaches(results, ax: Axes | None = None, *, slo: float | None = None) -> Axes:
    """Exceedance curve of downtime per SLO window (month): P(a window has more than x minutes).

    Where the curve crosses the SLO's allowance is the probability that a
    window misses the SLO.
    """
    ax = _axes(ax, (7.2, 3.4))
    w = results.windows
    slo = results.slo_used if slo is None and hasattr(results, "slo_used") else (slo or 99.9)
    window_h = float(getattr(results, "window", 730.0))
    down = (1.0 - np.asarray(w["availability"], dtype=float)) * window_h * 60.0
    down = np.clip(down, 0.0, None)
    n = down.size
    allowed = (1 - slo / 100) * window_h * 60.0
    if n == 0:
        ax.text(0.5, 0.5, "no windows stored", transform=ax.transAxes, ha="center")
        return ax
    positive = np.sort(down[down > 1e-9])
    floor = 1.0 / n
    if positive.size:
        y = (positive.size - np.arange(1, positive.size + 1)) / n  # P(D > x) just after x_i
        xs = np.concatenate([[positive[0] * 0.5], positive])
        ys = np.concatenate([[positive.size / n], y])
        ax.step(xs, np.maximum(ys, floor * 0.5), where="post", color=PALETTE["primary"], linewidth=1.6)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(floor * 0.5, 1.2)
        left = max(min(positive[0] * 0.5, allowed * 0.2), 0.05, allowed * 1e-3)
        ax.set_xlim(left, max(positive[-1] * 1.5, allowed * 3))
    p_breach = float((down > allowed).mean())
    ax.axvline(allowed, color=PALETTE["bad"], linewidth=1.6)
    ax.text(allowed, 1.0, f"  SLO {slo:g} %: {_fmt_minutes(allowed)} per {window_name(window_h)}\n"
                                f"  P(miss) = {100 * p_breach:.2g} %",
            color=PALETTE["bad"], fontsize=8, va="top", ha="left")
    if not positive.size:
        ax.text(0.5, 0.5, "no window had any downtime", transform=ax.transAxes, ha="center",
                color=PALETTE["muted"])
    name = window_name(window_h)
    ax.set_xlabel(f"downtime in a {name}, minutes (log scale)", fontsize=9)
    ax.set_ylabel(f"P({name} has more)", fontsize=9)
    _title(ax, f"How often a {name} exceeds x minutes of downtime")
    _tidy(ax, grid="both")
    return ax


# --- 3. attribution -------------------------------------------------------------------------------


def _stage_table(results):
    stages = getattr(results, "stages", None)
    if stages is not None and len(stages):
        # Stages never charged are left out, like causes: a bar of 0 with a [0, 0] interval
        # would claim a certainty the histories do not give.
        return stages[stages.downtime_minutes_per_year > 0].rename(columns={"stage": "label"}), "stage"
    att = results.attribution
    if "stage" in att.columns:
        g = att.groupby("stage", sort=False)["downtime_minutes_per_year"].sum().reset_index()
        g["ci_low"] = g["ci_high"] = np.nan
        return g.rename(columns={"stage": "label"}), "stage"
    return None, None


def attribution(results, ax: Axes | None = None, *, by: str = "cause", top: int = 10) -> Axes:
    """Horizontal bars: downtime minutes per year by root cause (``by="cause"``), by stage
    (``by="stage"``, when the engine reports stages; otherwise by kind of cause) or by kind.
    """
    if by not in ("cause", "stage", "kind"):
        raise ValueError(f"by must be 'cause', 'stage' or 'kind', got {by!r}")
    att = results.attribution
    title = "Downtime by root cause"
    if by == "stage":
        table, _ = _stage_table(results)
        if table is None:
            by, title = "kind", "Downtime by kind of cause (stages not reported by this engine)"
        else:
            title = "Downtime by stage"
            frame = table
    if by == "kind":
        if by == "kind" and "Downtime by kind" not in title:
            title = "Downtime by kind of cause"
        frame = att.groupby("kind", sort=False)["downtime_minutes_per_year"].sum().reset_index()
        frame = frame.rename(columns={"kind": "label"})
        frame["ci_low"] = frame["ci_high"] = np.nan
    elif by == "cause":
        frame = att.rename(columns={"cause": "label"})
    frame = frame.sort_values("downtime_minutes_per_year", ascending=False).head(top)
    height = 0.9 + 0.32 * max(len(frame), 1)
    ax = _axes(ax, (7.2, height))
    if not len(frame):
        ax.text(0.5, 0.5, "no downtime recorded", transform=ax.transAxes, ha="center", color=PALETTE["muted"])
        ax.set_yticks([])
        _title(ax, title)
        return ax
    minutes = frame["downtime_minutes_per_year"].to_numpy(float)
    total = float(att["downtime_minutes_per_year"].sum()) or float(minutes.sum()) or 1.0
    shares = minutes / total
    # One unit for every bar and label, from the largest bar.
    unit, size = minutes_unit(minutes)
    values = minutes / size
    y = np.arange(len(frame))[::-1]
    lo = frame["ci_low"].to_numpy(float) / size if "ci_low" in frame else np.full(len(frame), np.nan)
    hi = frame["ci_high"].to_numpy(float) / size if "ci_high" in frame else np.full(len(frame), np.nan)
    err = None
    if np.isfinite(lo).all() and np.isfinite(hi).all():
        err = np.vstack([np.clip(values - lo, 0, None), np.clip(hi - values, 0, None)])
    colours = [PALETTE["primary"] if i == 0 else PALETTE["secondary"] for i in range(len(frame))]
    ax.barh(y, values, color=colours, height=0.62, xerr=err,
            error_kw={"ecolor": PALETTE["muted"], "elinewidth": 0.9, "capsize": 2})
    ax.set_yticks(y, [str(v) for v in frame["label"]], fontsize=8.5)
    xmax = float(np.nanmax(np.concatenate([values, hi[np.isfinite(hi)]]))) if values.size else 1.0
    ends = np.where(np.isfinite(hi), np.maximum(hi, values), values) if err is not None else values
    for yi, v, e, share in zip(y, values, ends, shares):
        ax.text(e + xmax * 0.01, yi, f" {in_unit(v * size, unit)}/y · {_share(share)}", va="center", fontsize=7.5,
                color=PALETTE["text"])
    ax.set_xlim(0, xmax * 1.35 if xmax > 0 else 1)
    ax.set_xlabel(f"downtime, {_UNIT_WORDS[unit]} per year (mean, 95 % CI)", fontsize=9)
    _title(ax, title)
    _tidy(ax, grid="x")
    return ax


# --- 4. tornado -----------------------------------------------------------------------------------


def tornado(sensitivity: pd.DataFrame, ax: Axes | None = None, *, top: int = 12) -> Axes:
    """Tornado chart of a :func:`hasim.studies.sensitivity.sensitivity` table: the change in downtime
    (minutes per year, variant minus baseline) when each parameter is lowered / raised.
    """
    df = sensitivity
    if "note" in df.columns:
        df = df[df["downtime_delta_low"].notna() | df["downtime_delta_high"].notna()]
    df = df.head(top)
    ax = _axes(ax, (7.2, 0.9 + 0.34 * max(len(df), 1)))
    if not len(df):
        ax.text(0.5, 0.5, "no parameter to vary", transform=ax.transAxes, ha="center", color=PALETTE["muted"])
        ax.set_yticks([])
        return ax
    y = np.arange(len(df))[::-1].astype(float)
    low = df["downtime_delta_low"].to_numpy(float)
    high = df["downtime_delta_high"].to_numpy(float)
    h = 0.38
    for vals, offset, colour, label, col in (
            (low, h / 2, PALETTE["secondary"], "lowered (×0.5, or −1 replica)", "downtime_delta_low_ci"),
            (high, -h / 2, PALETTE["accent"], "raised (×2, or +1 replica)", "downtime_delta_high_ci")):
        half = df[col].to_numpy(float) if col in df.columns else np.full(len(df), np.nan)
        # Faded: the paired CI includes zero (not distinguishable from no effect at this replica count).
        significant = np.isfinite(half) & (np.abs(vals) > half)
        alphas = np.where(significant | ~np.isfinite(half), 1.0, 0.4)
        bars = ax.barh(y + offset, np.nan_to_num(vals), height=h, color=colour, label=label)
        for bar, alpha in zip(bars, alphas):
            bar.set_alpha(float(alpha))
        ok = np.isfinite(half) & np.isfinite(vals)
        if ok.any():
            ax.errorbar(vals[ok], (y + offset)[ok], xerr=half[ok], fmt="none", ecolor=PALETTE["text"],
                        elinewidth=0.7, capsize=1.5, alpha=0.8)
    labels = []
    for r in df.itertuples():
        labels.append(f"{r.parameter}  ({_value_text(r.low_value, r.unit)} / {_value_text(r.high_value, r.unit)})")
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color=PALETTE["text"], linewidth=0.9)
    reach = []
    for vals, col in ((low, "downtime_delta_low_ci"), (high, "downtime_delta_high_ci")):
        half = df[col].to_numpy(float) if col in df.columns else np.zeros(len(df))
        reach.append(np.abs(vals) + np.nan_to_num(half))
    reach = np.concatenate(reach)
    span = float(np.nanmax(reach)) if np.isfinite(reach).any() else 1.0
    span = span if np.isfinite(span) and span > 0 else 1.0
    ax.set_xlim(-span * 1.15, span * 1.15)
    base = df.attrs.get("baseline_downtime")
    ax.set_xlabel("change in downtime, minutes per year" + (f" (baseline {_fmt_minutes(base)}/y)" if base else ""),
                  fontsize=9)
    ax.legend(fontsize=7.5, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False,
              borderaxespad=0.2)
    ax.text(1.0, 1.01, "faded: within its 95 % CI of zero", transform=ax.transAxes, ha="right", va="bottom",
            fontsize=7, color=PALETTE["muted"])
    ax.set_title("Sensitivity: change in downtime when one parameter changes", loc="left", fontsize=10.5,
                 fontweight="bold", color=PALETTE["text"], pad=18)
    ax.set_ylim(-0.6, len(df) - 0.4)
    _tidy(ax, grid="x")
    return ax


def _value_text(value, unit) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if unit == "h":
        return format_duration(float(value))
    return f"{value:g}"


# --- 5. comparison ---------------------------------------------------------------------------------


def comparison(table: pd.DataFrame, ax: Axes | None = None, *,
               measure: str = "downtime_minutes_per_year") -> Axes:
    """Bars of one measure per design (mean and 95 % CI) from :func:`hasim.studies.compare.compare`,
    annotated with the paired difference to the first design.
    """
    df = table[table["measure"] == measure]
    if not len(df):
        raise ValueError(f"no rows for measure {measure!r}; measures: {sorted(set(table['measure']))}")
    ax = _axes(ax, (7.2, 0.9 + 0.5 * len(df)))
    scale = 100.0 if "availability" in measure or measure.startswith("p_") else 1.0
    y = np.arange(len(df))[::-1]
    mean = df["mean"].to_numpy(float) * scale
    lo = df["ci_low"].to_numpy(float) * scale
    hi = df["ci_high"].to_numpy(float) * scale
    colours = [PALETTE["muted"]] + [PALETTE["primary"]] * (len(df) - 1)
    if "availability" in measure:
        # Bars of 99.99 % all look full: plot unavailability instead, which is what differs.
        mean, lo, hi = 100 - mean, 100 - hi, 100 - lo
        xlabel = f"{measure.replace('_', ' ')}: unavailability, % (lower is better)"
    else:
        label = df["label"].iloc[0] if "label" in df.columns else measure.replace("_", " ")
        unit = df["unit"].iloc[0] if "unit" in df.columns else ""
        xlabel = f"{label} ({unit})" if unit else label
    ax.barh(y, mean, color=colours, height=0.55,
            xerr=np.vstack([np.clip(mean - lo, 0, None), np.clip(hi - mean, 0, None)]),
            error_kw={"ecolor": PALETTE["text"], "elinewidth": 0.9, "capsize": 3})
    ax.set_yticks(y, list(df["design"]), fontsize=9)
    xmax = float(np.nanmax(hi)) if len(hi) else 1.0
    for yi, r, m, end in zip(y, df.itertuples(), mean, np.fmax(hi, mean)):
        text = f" {m:.4g}"
        if isinstance(r.diff, float) and math.isfinite(r.diff):
            d = r.diff * scale * (-1 if "availability" in measure else 1)
            half = (r.diff_ci_high - r.diff_ci_low) / 2 * scale
            text += f"   Δ {d:+.3g} ± {half:.2g}"
        ax.text(end + xmax * 0.015, yi, text, va="center", fontsize=8, color=PALETTE["text"])
    ax.set_xlim(0, xmax * 1.6 if xmax > 0 else 1)
    ax.set_xlabel(xlabel, fontsize=9)
    _title(ax, f"{xlabel.split(' (')[0].split(':')[0].capitalize()} by design (Δ vs the first, paired 95 % CI)")
    _tidy(ax, grid="x")
    return ax


# --- 6. sweep --------------------------------------------------------------------------------------


def sweep(frame: pd.DataFrame, ax: Axes | None = None, *, measure: str = "request_availability",
          slo: float | None = None, label: str | None = None, xlabel: str | None = None) -> Axes:
    """A measure (mean and 95 % CI band) against a swept parameter.

    ``frame`` is what :func:`hasim.studies.sensitivity.sweep` returns: columns
    ``value``, ``<measure>``, ``<measure>_ci_low``, ``<measure>_ci_high``
    (and ``parameter``, used as the default x label).
    """
    ax = _axes(ax, (6.0, 3.4))
    df = frame.sort_values("value")
    x = df["value"].to_numpy(float)
    percent = "availability" in measure
    scale = 100.0 if percent else 1.0
    y = df[measure].to_numpy(float) * scale
    lo_col, hi_col = f"{measure}_ci_low", f"{measure}_ci_high"
    line, = ax.plot(x, y, marker="o", markersize=4, color=PALETTE["primary"], linewidth=1.6, label=label)
    if lo_col in df and hi_col in df:
        ax.fill_between(x, df[lo_col].to_numpy(float) * scale, df[hi_col].to_numpy(float) * scale,
                        color=line.get_color(), alpha=0.18, linewidth=0)
    if slo is not None and percent:
        ax.axhline(slo, color=PALETTE["bad"], linestyle="--", linewidth=1.2)
        ax.text(x.min() if x.size else 0, slo, f" SLO {slo:g} %", color=PALETTE["bad"], fontsize=8, va="bottom")
    unit = df["unit"].iloc[0] if "unit" in df and len(df) else None
    if xlabel is None:
        xlabel = str(df["parameter"].iloc[0]) if "parameter" in df and len(df) else "value"
        if unit == "h":
            xlabel += " (hours)"
    if unit == "h" and x.size:
        ax.set_xticks(x, [format_duration(v) for v in x], fontsize=8)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(measure.replace("_", " ") + (" (%)" if percent else ""), fontsize=9)
    if percent:
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
    _tidy(ax, grid="both")
    return ax


# --- 7. architecture ---------------------------------------------------------------------------------


def _children(svc) -> list[tuple[str, str, str | None]]:
    """(child, kind, label) edges of a service: requires, cached, optional, targets, failover.requires."""
    out: list[tuple[str, str, str | None]] = []
    for i, t in enumerate(svc.targets):
        if svc.route == "weighted" and svc.weights:
            label = f"w={svc.weights[i]:g}"
        else:
            label = ["primary", "secondary", "third", "fourth"][i] if i < 4 else f"#{i + 1}"
        out.append((t, "target", label))
    for d in svc.requires:
        out.append((d, "requires", None))
    for c in svc.cached:
        out.append((c.service, "cached", f"cache {format_duration(c.ttl)}" if c.ttl else "cache"))
    for d in svc.optional:
        out.append((d, "optional", None))
    if svc.failover is not None:
        for d in svc.failover.requires:
            out.append((d, "failover", "promotes via"))
    return out


def _layers(sc) -> list[list[str]]:
    names = list(sc.services)
    kids = {n: [c for c, _, _ in _children(sc.services[n])] for n in names}
    parents: dict[str, list[str]] = {n: [] for n in names}
    for n in names:
        for c in kids[n]:
            parents[c].append(n)
    depth: dict[str, int] = {}
    for n in reversed(sc.topological_order()):  # parents before children
        depth[n] = max((depth[p] + 1 for p in parents[n] if p in depth), default=0)
    # Nodes with no parents sit right above their shallowest child (the entry stays on top).
    for n in names:
        if not parents[n] and n != sc.entry and kids[n]:
            depth[n] = max(0, min(depth[c] for c in kids[n]) - 1)
    n_layers = max(depth.values()) + 1
    layers: list[list[str]] = [[] for _ in range(n_layers)]
    for n in names:
        layers[depth[n]].append(n)
    # Barycentre ordering, a few sweeps down and up.
    pos = {n: float(i) for layer in layers for i, n in enumerate(layer)}
    for _ in range(4):
        for rng, rel in ((range(1, n_layers), parents), (range(n_layers - 2, -1, -1), kids)):
            for li in rng:
                layer = layers[li]
                keyed = []
                for i, n in enumerate(layer):
                    ref = [pos[m] for m in rel[n] if m in pos and depth[m] != li]
                    keyed.append((sum(ref) / len(ref) if ref else pos[n], i, n))
                layers[li] = [n for _, _, n in sorted(keyed)]
                for i, n in enumerate(layers[li]):
                    pos[n] = i - (len(layers[li]) - 1) / 2
    return [layer for layer in layers if layer]


def architecture_size(scenario) -> tuple[float, float]:
    """A figure size (inches) that fits :func:`architecture` of ``scenario`` at its font sizes."""
    layers = _layers(scenario)
    width = max(len(layer) for layer in layers)
    return max(6.0, 2.55 * width + 0.6), 1.55 * len(layers) + 1.0


def _region(sc, svc) -> str | None:
    roots = {sc.zone_chain(z)[-1] for z in svc.zones}
    return roots.pop() if len(roots) == 1 else ("multi-region" if roots else None)


def _service_lines(svc) -> tuple[str, str, str, str]:
    if svc.is_router:
        kind = f"router · {svc.route}"
        if svc.has_instances:
            kind += f" · {svc.replicas}× own"
    elif svc.mode == "active":
        kind = f"{svc.replicas}× active" + (f" · needs {svc.min_healthy}" if svc.min_healthy > 1 else "")
    elif svc.mode == "standby":
        kind = f"{svc.replicas}× {svc.standby} standby"
    else:
        kind = f"{svc.replicas}× quorum"
    if svc.shards > 1:
        kind = f"{svc.shards} shards × " + kind
    timing = ""
    if svc.has_instances:
        timing = f"MTBF {format_duration(svc.failure.mean_hours)} · MTTR {format_duration(svc.repair.mean_hours)}"
    extra = []
    if svc.failover is not None and (svc.failover.detection or svc.failover.promotion):
        extra.append(f"failover {format_duration(svc.failover.detection + svc.failover.promotion)}")
    if svc.health_check is not None:
        extra.append(f"probe {format_duration(svc.health_check.interval)}×{svc.health_check.unhealthy_threshold}")
    if svc.dns is not None and svc.dns.ttl:
        extra.append(f"TTL {format_duration(svc.dns.ttl)}")
    if svc.retry:
        extra.append("retry")
    zones = ", ".join(svc.zones)
    return kind, zones, timing, " · ".join(extra)


def architecture(scenario: Scenario, ax: Axes | None = None, *, availability: dict[str, float] | None = None) -> Axes:
    """The design as a diagram: services as boxes in layers by dependency depth from the entry,
    arrows for ``requires`` (solid), ``cached`` (dashed), ``optional`` (dotted), router
    ``targets`` (labelled with their role) and ``failover.requires`` (dash-dot); box colours
    group services by region (outermost zone), and each box lists replicas, mode, zones and
    its main timings.

    ``availability`` (service -> request availability) adds a figure to each box.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

    sc = scenario
    layers = _layers(sc)
    bw, bh, dx, dy = 2.25, 1.12, 2.7, 1.85
    ax = _axes(ax, architecture_size(scenario))
    regions = sorted({r for s in sc.services.values() for r in [_region(sc, s)] if r and r != "multi-region"})
    region_style = {r: (_REGION_FILLS[i % 8], _REGION_EDGES[i % 8]) for i, r in enumerate(regions)}
    centre: dict[str, tuple[float, float]] = {}
    for li, layer in enumerate(layers):
        for i, name in enumerate(layer):
            centre[name] = ((i - (len(layer) - 1) / 2) * dx, -li * dy)
    for name, (x, y) in centre.items():
        svc = sc.services[name]
        region = _region(sc, svc)
        if svc.is_router:
            fill, edge = PALETTE["router"], PALETTE["router_edge"]
        elif region in region_style:
            fill, edge = region_style[region]
        else:
            fill, edge = "#f5f7fa", "#607080"
        box = FancyBboxPatch((x - bw / 2, y - bh / 2), bw, bh, boxstyle="round,pad=0.02,rounding_size=0.12",
                             facecolor=fill, edgecolor=edge, linewidth=2.4 if name == sc.entry else 1.1, zorder=3)
        ax.add_patch(box)
        kind, zones, timing, extra = _service_lines(svc)
        title = name + ("  ◀ entry" if name == sc.entry else "")
        if availability and name in availability:
            extra = (extra + " · " if extra else "") + f"A={100 * availability[name]:.4g} %"
        lines = [(title, 8.5, "bold", PALETTE["text"], "normal"), (kind, 7.3, "normal", PALETTE["text"], "normal"),
                 (zones or "no zone", 6.6, "normal", edge if zones else PALETTE["muted"], "italic")]
        lines += [(text, 6.3, "normal", PALETTE["muted"], "normal") for text in (timing, extra) if text]
        step = bh / (len(lines) + 0.6)
        top = y + step * (len(lines) - 1) / 2
        for i, (text, size, weight, colour, style) in enumerate(lines):
            ax.text(x, top - i * step, text, ha="center", va="center", fontsize=size, fontweight=weight,
                    color=colour, style=style, zorder=4)
    styles = {
        "requires": {"linestyle": "-", "color": "#37474f", "lw": 1.1},
        "cached": {"linestyle": (0, (4, 3)), "color": "#00838f", "lw": 1.2},
        "optional": {"linestyle": (0, (1, 2)), "color": "#8a97a5", "lw": 1.2},
        "target": {"linestyle": "-", "color": PALETTE["router_edge"], "lw": 1.4},
        "failover": {"linestyle": (0, (5, 2, 1, 2)), "color": "#8d6e63", "lw": 1.0},
    }
    used = set()
    for name, svc in sc.services.items():
        x0, y0 = centre[name]
        for child, kind, label in _children(svc):
            x1, y1 = centre[child]
            st = styles[kind]
            used.add(kind)
            same_row = abs(y1 - y0) < 1e-9
            start = (x0 + (bw / 2 if x1 > x0 else -bw / 2), y0) if same_row else (x0, y0 - bh / 2)
            end = (x1 - (bw / 2 if x1 > x0 else -bw / 2), y1) if same_row else (x1, y1 + bh / 2)
            skip = not same_row and (y0 - y1) > dy * 1.5
            arrow = FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=10, linewidth=st["lw"],
                                    linestyle=st["linestyle"], color=st["color"], zorder=2,
                                    connectionstyle=f"arc3,rad={0.18 if skip else 0.0}", shrinkA=1, shrinkB=1)
            ax.add_patch(arrow)
            if label:
                t = 0.42
                lx, ly = start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t
                ax.text(lx, ly, label, fontsize=6.5, ha="center", va="center", color=st["color"], zorder=5,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"})
    xs = [c[0] for c in centre.values()]
    ys = [c[1] for c in centre.values()]
    ax.set_xlim(min(xs) - bw / 2 - 0.2, max(xs) + bw / 2 + 0.2)
    ax.set_ylim(min(ys) - bh / 2 - 0.25, max(ys) + bh / 2 + 0.15)
    ax.set_axis_off()
    names = {"requires": "requires", "cached": "cached (serve stale)", "optional": "optional",
             "target": "router target", "failover": "failover needs"}
    handles = [Line2D([], [], color=styles[k]["color"], linestyle=styles[k]["linestyle"], lw=1.4, label=names[k])
               for k in names if k in used]
    handles += [Patch(facecolor=f, edgecolor=e, label=f"in {r}") for r, (f, e) in region_style.items()]
    if handles:
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=min(len(handles), 5),
                  fontsize=7, frameon=False)
    _title(ax, f"Architecture: {sc.name}")
    return ax


# --- 8. outage timeline ------------------------------------------------------------------------------


def _weighted_quantile(values: np.ndarray, weights: np.ndarray | None, q: float) -> float:
    """The ``q`` quantile of ``values`` where value i counts ``weights[i]`` times.

    With equal weights the median is the usual one (the mean of the two middle values of an even
    count), so that unweighted outage tables give what ``Series.median`` gives.
    """
    x = np.asarray(values, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = np.isfinite(x) & np.isfinite(w) & (w > 0)
    x, w = x[keep], w[keep]
    if not x.size:
        return math.nan
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    cum = np.cumsum(w)
    target = q * cum[-1]
    i = int(np.searchsorted(cum, target * (1 - 1e-12)))
    i = min(i, x.size - 1)
    if math.isclose(cum[i], target, rel_tol=1e-9) and i + 1 < x.size:
        return float(0.5 * (x[i] + x[i + 1]))
    return float(x[i])


def representative_outage(results) -> dict | None:
    """The outage a reader should look at: among the recorded outages of the cause that costs
    the most downtime, the one whose duration is closest to that cause's median.

    When ``results.outages`` has a ``weight`` column (each recorded row stands for ``weight``
    outages of its replica, of which only a sample is kept), the median and quartiles are weighted.

    Returns ``{"replica", "start_h", "duration_h", "cause", "median_duration_h", "q1_h", "q3_h",
    "count", "outages", "is_top"}`` (``count``: recorded rows of that cause; ``outages``: the
    outages they stand for, the sum of their weights; ``is_top``: the cause is the largest driver,
    false when that cause has no outage record and the next one with a record was used), or None
    without outages.
    """
    out = results.outages
    if out is None or not len(out):
        return None
    att = results.attribution
    top = att["cause"].iloc[0] if len(att) else None
    cause = None
    for c in att["cause"] if len(att) else []:
        if (out["cause"] == c).any():
            cause = c
            break
    pool = out[out["cause"] == cause] if cause is not None else out
    weights = pool["weight"].to_numpy(float) if "weight" in pool.columns else None
    durations = pool["duration_h"].to_numpy(float)
    median = _weighted_quantile(durations, weights, 0.5)
    idx = (pool["duration_h"] - median).abs().idxmin()
    row = pool.loc[idx].to_dict()
    row["median_duration_h"] = median
    row["q1_h"] = _weighted_quantile(durations, weights, 0.25)
    row["q3_h"] = _weighted_quantile(durations, weights, 0.75)
    row["count"] = int(len(pool))
    row["outages"] = float(weights.sum()) if weights is not None else float(len(pool))
    row["is_top"] = cause is not None and cause == top
    return row


def _time_unit(hours: float) -> tuple[float, str]:
    if hours < 2 / 60:
        return 3600.0, "seconds"
    if hours < 3:
        return 60.0, "minutes"
    return 1.0, "hours"


def _at(hours: float) -> str:
    """A time since the outage started: '0 s', '45 s', '1.5 min', '2.25 h'."""
    s = hours * 3600.0
    if s < 99.5:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.1f} min"
    return f"{hours:.2f} h"


def _find_trace(scenario, outage):
    """The simulated trace of an outage like ``outage`` (same cause, duration near its median)."""
    from hasim.sim.trace import find_outage

    target = outage.get("median_duration_h", outage.get("duration_h"))
    if target is None or not math.isfinite(float(target)) or not float(target) > 0:
        return None
    try:
        return find_outage(scenario, str(outage["cause"]), float(target))
    except ValueError:        # a cause label this scenario does not have
        return None


#: Vertical step (points) between two rows of staggered milestone numbers.
_STAGGER = 13.0


def _stagger(ax, marks) -> int:
    """Raise milestone numbers that would overlap an earlier one by a row; return the rows used.

    Overlap is measured on the drawn text (after a layout pass), padded by the circle around it.
    """
    if not marks:
        return 0
    fig = ax.figure
    fig.draw_without_rendering()         # the layout and the text sizes as they will be drawn
    placed = []
    rows = 0
    for a in sorted(marks, key=lambda m: m.xy[0]):
        level = 0
        while True:
            a.xyann = (0.0, 4.0 + level * _STAGGER)
            box = a.get_window_extent().expanded(1.0, 1.0).padded(3.0 * fig.dpi / 72.0)
            if not any(box.overlaps(p) for p in placed) or level > 12:
                break
            level += 1
        placed.append(box)
        rows = max(rows, level + 1)
    return rows


def _list_lines(ax, lines: list[tuple[str, str]], width_chars: int) -> list:
    """Lines of text under the x label, left-aligned with the axes: ``(text, colour)`` each.

    Long lines wrap with a hanging indent.  Returns the text artists (one per wrapped line).
    """
    import textwrap

    artists = []
    k = 0
    for text, colour in lines:
        parts = textwrap.wrap(text, width=width_chars, subsequent_indent="      ") or [""]
        for part in parts:
            artists.append(ax.annotate(part, xy=(0.0, 0.0), xycoords=("axes fraction", ax.xaxis.label),
                                       xytext=(0.0, -4.0 - 11.0 * k), textcoords="offset points", ha="left",
                                       va="top", fontsize=7.8, color=colour, annotation_clip=False))
            k += 1
    return artists


def outage_timeline_size(trace=None, width: float = 7.2) -> tuple[float, float]:
    """A figure size (inches) that fits :func:`outage_timeline` of ``trace`` with its milestone list."""
    n = 3
    if trace is not None:
        from hasim.sim.trace import milestones

        n = len(milestones(trace)) + 2
    return width, 2.5 + 0.17 * n


def outage_timeline(results=None, scenario: Scenario | None = None, ax: Axes | None = None, *,
                    outage: dict | None = None, trace=None,
                    events: Sequence[tuple[float, str]] | None = None) -> Axes:
    """The simulated served fraction of the entry through one representative outage, with what
    happened when (numbered on the chart, listed under it).

    Parameters
    ----------
    results : Results, optional
        The outage looked for is ``outage`` or :func:`representative_outage` of ``results``.
    scenario : Scenario, optional
        The design to simulate; defaults to the scenario the results came from.
    outage : dict, optional
        ``{"cause", "duration_h"}`` (a row of ``results.outages``), optionally with
        ``"median_duration_h"``, the duration looked for (default ``duration_h``).
    trace : OutageTrace, optional
        The outage to draw (:func:`hasim.sim.trace.find_outage`).  Without it one is found by
        simulating the scenario with the SimPy reference engine until an outage of that cause
        lasts about the target duration (deterministic, a few seconds at most).
    events : list of (hours, label), optional
        Without a trace: milestones to draw, relative to the outage start, over a band that only
        says the service was degraded (the level is unknown).

    The red area is the service lost, the integral of ``1 - s(t)``; the title gives it in
    request-minutes (request-seconds, request-hours: the time unit of the axis).
    """
    if scenario is None and results is not None:
        labels = getattr(results, "labels", None)
        scenario = getattr(labels, "scenario", None)
    if outage is None and trace is None and results is not None:
        outage = representative_outage(results)
    if trace is None and not events and scenario is not None and outage is not None:
        trace = _find_trace(scenario, outage)
    if trace is not None:
        return _trace_timeline(trace, scenario, ax, outage)
    ax = _axes(ax, (7.2, 2.9))
    if outage is None and not events:
        ax.text(0.5, 0.5, "no outage in the simulated histories", transform=ax.transAxes, ha="center",
                color=PALETTE["muted"])
        ax.set_axis_off()
        _title(ax, "Timeline of a representative outage")
        return ax
    # No trace: only the duration is known, not the level.
    duration = float(outage["duration_h"]) if outage else max(t for t, _ in events)
    cause = str(outage.get("cause", "")) if outage else ""
    scale, unit = _time_unit(duration)
    d = duration * scale
    pad = max(d * 0.18, 1e-6)
    ax.plot([-pad, 0, 0], [1, 1, 0.5], color=PALETTE["primary"], linewidth=2)
    ax.plot([d, d, d + pad], [0.5, 1, 1], color=PALETTE["primary"], linewidth=2)
    ax.fill_between([0, d], 0.0, 1.0, color=PALETTE["bad"], alpha=0.12, linewidth=0, hatch="///",
                    edgecolor=PALETTE["bad"])
    ax.text(d / 2, 0.5, "served < 100 %\n(level not recorded)", ha="center", va="center", fontsize=8,
            color=PALETTE["bad"])
    marks = [(float(t), str(label)) for t, label in (events or []) if 0 <= float(t) <= duration]
    marks.append((duration, "recovered: 100 % served"))
    _milestones(ax, marks, scale, unit, f"Outage: {cause}, {format_duration(duration)}", d, pad, [])
    return ax


def _milestones(ax, marks, scale, unit, head, d, pad, extra_lines) -> tuple[list, list]:
    """Numbered markers for ``marks`` [(hours, text)], the list under the chart, axes and title."""
    numbers = []
    for i, (t, _) in enumerate(marks):
        x = t * scale
        ax.axvline(x, color=PALETTE["muted"], linestyle=":", linewidth=0.9, zorder=1)
        numbers.append(ax.annotate(str(i + 1), xy=(x, 1.0), xycoords=("data", "axes fraction"), xytext=(0, 4),
                                   textcoords="offset points", ha="center", va="bottom", fontsize=7,
                                   fontweight="bold", color=PALETTE["primary"], annotation_clip=False,
                                   bbox={"boxstyle": "circle,pad=0.2", "facecolor": "white",
                                         "edgecolor": PALETTE["primary"], "linewidth": 0.8}))
    ax.set_xlim(-pad, d + pad)
    ax.set_ylim(-0.03, 1.06)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1], ["0 %", "25 %", "50 %", "75 %", "100 %"])
    ax.set_ylabel("served", fontsize=9)
    ax.set_xlabel(f"{unit} since the outage started", fontsize=9)
    # About 17 characters an inch at 7.8 pt; the list starts at the axes' left edge.
    width = ax.figure.get_size_inches()[0] * 0.9
    lines = [(f"{i + 1}   {_at(t)}   {text}", PALETTE["text"]) for i, (t, text) in enumerate(marks)]
    listed = _list_lines(ax, lines + extra_lines, max(40, int(width * 17)))
    _tidy(ax, grid="y")
    rows = _stagger(ax, numbers)
    ax.set_title(head, loc="left", fontsize=10, fontweight="bold", color=PALETTE["text"],
                 pad=8 + _STAGGER * max(rows, 1))
    return numbers, listed


def _trace_timeline(tr, scenario, ax, outage) -> Axes:
    from hasim.sim.trace import milestones

    marks = milestones(tr, scenario)
    d_h = tr.duration_h
    if not marks or not math.isclose(marks[-1][0], d_h, abs_tol=1e-9):
        marks.append((d_h, "100 % served again"))
    else:
        marks[-1] = (marks[-1][0], marks[-1][1] + ": the outage is over")
    ax = _axes(ax, outage_timeline_size(tr))
    scale, unit = _time_unit(d_h)
    d = d_h * scale
    pad = max(d * 0.06, 1e-6)
    xs = np.concatenate([[-pad, 0.0], tr.times_h * scale, [d, d + pad]])
    ys = np.concatenate([[1.0, 1.0], tr.served, [1.0, 1.0]])
    ax.plot(xs, ys, color=PALETTE["primary"], linewidth=1.8, zorder=3)
    ax.fill_between(xs, ys, 1.0, color=PALETTE["bad"], alpha=0.18, linewidth=0, zorder=2)
    # The lost service of the drawn line itself (trapezoids; jumps and the padding add nothing).
    lost = float(np.sum(np.diff(xs) * (1.0 - 0.5 * (ys[1:] + ys[:-1]))))
    # Plateaus long enough to carry their level as text.
    t, s = tr.times_h, tr.served
    start = 0
    for j in range(1, len(t) + 1):
        if j < len(t) and math.isclose(s[j], s[start], rel_tol=0.0, abs_tol=1e-6):
            continue
        t0, t1 = t[start], t[j - 1]
        if t1 - t0 > 0.12 * d_h and s[start] < 1.0:
            level = float(s[start])
            above = level < 0.35
            ax.annotate(f"{100 * level:.3g} % served", xy=((t0 + t1) / 2 * scale, level),
                        xytext=(0, 4 if above else -4), textcoords="offset points", ha="center",
                        va="bottom" if above else "top", fontsize=7.5, color=PALETTE["bad"], zorder=4)
        start = j
    head = (f"Outage: {tr.cause}, {_at(d_h)} · {lost:.3g} request-{unit} lost")
    note = [(f"Simulated (SimPy reference engine, replica {tr.replica}, seed {tr.seed}); red: requests not served, "
             f"{lost:.3g} request-{unit} in all.", PALETTE["muted"])]
    back = _recovery_after(tr)
    if back is not None:
        note.append((f"After the outage: {back[1]} at {_at(back[0])}.", PALETTE["muted"]))
    _milestones(ax, marks, scale, unit, head, d, pad, note)
    return ax


def _recovery_after(tr) -> tuple[float, str] | None:
    """When the root cause itself recovered, if that was after the outage ended."""
    ev = tr.events
    first = ev[ev["event"].isin(["down", "failed"])]
    if not len(first):
        return None
    comp = first["component"].iloc[0]
    back = ev[(ev["component"] == comp) & ev["event"].isin(["up", "repaired"]) & (ev["time_h"] > tr.duration_h)]
    if not len(back):
        return None
    verb = "is back" if comp.startswith("zone ") else "is repaired"
    return float(back["time_h"].iloc[0]), f"{comp} {verb}"
