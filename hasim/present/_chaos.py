"""The chart of a chaos experiment: served fractions over time around the faults.

Private: :mod:`hasim.present.plot` is the public namespace.
"""

from __future__ import annotations

import numpy as np

from hasim.present._style import PALETTE, _axes, _tidy, _title
from hasim.present._timeline import _time_unit

#: Services drawn besides the entry (the ones whose timelines move most).
_MAX_SERVICES = 5


def chaos_timeline(result, ax=None, *, services: list[str] | None = None):
    """The entry's served fraction through a chaos experiment, with its 95 % band over replicas,
    the services that moved, the faults and the stated expectations.

    Parameters
    ----------
    result : ChaosResult
        From :func:`hasim.chaos`.
    ax : matplotlib Axes, optional
        Drawn on when given; otherwise a new figure.
    services : list of str, optional
        Services drawn besides the entry (default: up to five whose mean served fraction dips most).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, (7.2, 3.4))
    tl = result.timeline()
    plan = result.plan
    exp = result.experiment
    entry = plan.original.entry
    scale, unit = _time_unit(exp.duration)
    res = exp.resolution
    if services is None:
        dips = (tl[tl.service != entry].groupby("service", sort=False)["served"].min().sort_values())
        services = [s for s, v in dips.items() if v < 0.999][:_MAX_SERVICES]
    colours = ["#5b8db8", "#8d6e63", "#6a1b9a", "#00838f", "#9e9d24"]
    for colour, name in zip(colours, services):
        g = tl[tl.service == name]
        t = np.append(g["time_h"].to_numpy(), g["time_h"].iloc[-1] + res) * scale
        ax.stairs(g["served"].to_numpy(), t, color=colour, linewidth=1.0, alpha=0.85, label=name)
    g = tl[tl.service == entry]
    t = np.append(g["time_h"].to_numpy(), g["time_h"].iloc[-1] + res) * scale
    lo = np.where(g["exact"], g["served"], g["ci_low"]).astype(float)
    hi = np.where(g["exact"], g["served"], g["ci_high"]).astype(float)
    ax.stairs(hi, t, baseline=lo, fill=True, color=PALETTE["primary"], alpha=0.18, linewidth=0)
    ax.stairs(g["served"].to_numpy(), t, color=PALETTE["primary"], linewidth=2.0, label=f"{entry} (entry)")
    for f in plan.faults:
        if f.at is None:
            continue
        x0 = f.at * scale
        ax.axvline(x0, color=PALETTE["bad"], linewidth=1.0, linestyle="--")
        if f.for_h is not None and f.kind != "kill":
            ax.axvspan(x0, min(f.at + f.for_h, exp.duration) * scale, color=PALETTE["bad"], alpha=0.06)
        ax.annotate(f.label, (x0, 0.45), xycoords=("data", "axes fraction"), xytext=(4, 0),
                    textcoords="offset points", fontsize=7.5, color=PALETTE["bad"], ha="left", va="center",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    ex = exp.expect
    if ex is not None:
        if ex.min_served is not None:
            ax.axhline(ex.min_served, color=PALETTE["warn"], linewidth=1.0, linestyle=":",
                       label=f"expected at least {ex.min_served:.0%}")
        if ex.recovers_within is not None:
            x = (plan.first_fault + ex.recovers_within) * scale
            ax.axvline(x, color=PALETTE["warn"], linewidth=1.0, linestyle=":", label="expected recovered by")
    ax.set_xlim(0, exp.duration * scale)
    ax.set_ylim(-0.03, 1.05)
    ax.yaxis.set_major_formatter(_percent_formatter())
    ax.set_xlabel(f"{unit} from the start of the experiment", fontsize=9, color=PALETTE["text"])
    ax.set_ylabel("served (mean of replicas)", fontsize=9, color=PALETTE["text"])
    _tidy(ax)
    _title(ax, f"{exp.name}: {entry} through the faults ({result.replicas} replicas, {result.engine})")
    ax.legend(fontsize=7.5, frameon=False, loc="lower right")
    return ax


def _percent_formatter():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)
