"""One representative outage, step by step: choosing it and drawing its timeline.

Private: :mod:`hasim.present.plot` is the public namespace for these functions.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np

from hasim.text import duration as format_duration
from hasim.present._style import PALETTE, _axes, _tidy, _title

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from hasim.model.scenario import Scenario


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
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure of a sensible size otherwise.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, or the axes of the new figure.

    Notes
    -----
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
