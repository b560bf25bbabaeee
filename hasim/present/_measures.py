"""The charts of a run's measures: downtime distribution, window breaches, attribution, tornado,
comparison and sweep.

Private: :mod:`hasim.present.plot` is the public namespace for these functions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np

from hasim.text import duration as format_duration
from hasim.text import in_unit, minutes_unit
from hasim.analytic.exact import TIERS
from hasim.results.estimate import MIN_OUTAGES
from hasim.units import HOURS_PER_YEAR
from hasim.present._style import PALETTE, _TIER_COLOURS, _axes, _tidy, _title, window_name

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.axes import Axes


_MINUTES_PER_YEAR = HOURS_PER_YEAR * 60.0


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
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure of a sensible size otherwise.
    slo : float, optional
        Highlighted tier (default: the scenario's ``slo``).
    tiers : sequence of float
        The SLA tiers (percent) drawn as lines at their allowed downtime.
    bins : int
        Histogram bins.
    log : bool, optional
        Logarithmic downtime axis; by default when the values span more than
        two decades.  Replicas with no downtime at all are then counted in the
        text box, not in a bar.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, or the axes of the new figure.
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
    seen = getattr(results, "total_outages", None)
    if seen is not None and seen < MIN_OUTAGES:
        what += f": only {seen} outage{'s' if seen != 1 else ''}, indicative"
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

    Parameters
    ----------
    results : Results
        A simulation (``results.windows``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure of a sensible size otherwise.
    slo : float, optional
        The SLO (percent) whose allowance is marked (default: the scenario's ``slo``).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, or the axes of the new figure.
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

    Parameters
    ----------
    results : Results
        A simulation (``results.attribution``, ``results.stages``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure of a sensible size otherwise.
    by : {"cause", "stage", "kind"}
        What a bar stands for.
    top : int
        Bars to show, largest first.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, or the axes of the new figure.
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

    Parameters
    ----------
    sensitivity : pandas.DataFrame
        One row per parameter, in the table's order (``sensitivity()`` sorts by effect).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure of a sensible size otherwise.
    top : int
        Parameters to show.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, or the axes of the new figure.
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

    Parameters
    ----------
    table : pandas.DataFrame
        The long comparison table (one row per measure and design).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure of a sensible size otherwise.
    measure : str
        The measure to draw; ValueError when the table does not have it.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, or the axes of the new figure.
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
    (and ``parameter``, used as the default x label; with ``outages``, the
    points resting on fewer than :data:`~hasim.results.estimate.MIN_OUTAGES`
    outages are drawn hollow and named in a legend).

    Parameters
    ----------
    frame : pandas.DataFrame
        The sweep table.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure of a sensible size otherwise.
    measure : str
        The column to draw; availabilities are shown in percent.
    slo : float, optional
        A horizontal SLO line (percent), for availability measures.
    label : str, optional
        Legend label of the curve (to draw several sweeps on one axes).
    xlabel : str, optional
        The x axis label (default: the ``parameter`` column).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, or the axes of the new figure.
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
    if "outages" in df and len(df):
        # Points resting on fewer outages than a verdict needs are drawn hollow: their band is indicative.
        few = df["outages"].to_numpy(float) < MIN_OUTAGES
        if few.any():
            ax.plot(x[few], y[few], linestyle="none", marker="o", markersize=6, markerfacecolor="white",
                    markeredgecolor=line.get_color(), label=f"fewer than {MIN_OUTAGES} outages")
            ax.legend(fontsize=8, frameon=False)
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
