"""The chart of load: how utilisation is spread over time, service by service (exact).

Private: :mod:`hasim.present.plot` is the public namespace.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from hasim.analytic.load import utilisation_law
from hasim.model.structure import reach
from hasim.present._style import PALETTE, _axes, _tidy, _title

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

#: Right end of the utilisation axis: beyond it (and with no instance left) a curve is drawn at the edge.
_U_MAX = 2.0


def utilisation(scenario, ax: Axes | None = None, *, services: list[str] | None = None) -> Axes:
    """Share of time each pool spends at or above a utilisation, exact and steady state.

    Utilisation is the load offered to a shard over the capacity of its available instances:
    above 100 % the excess is shed (or, with ``overload``, the pool may collapse, which this
    static picture does not show).

    Parameters
    ----------
    scenario : Scenario
        A design with at least one ``capacity``.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure of a sensible size otherwise.
    services : list of str, optional
        The pools to draw (default: every pool with a capacity the entry depends on).

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``, or the axes of the new figure.
    """
    used = reach(scenario)
    names = services if services is not None else [n for n in scenario.topological_order()
                                                   if scenario.services[n].capacity is not None and n in used]
    ax = _axes(ax, (7.2, 3.4))
    if not names:
        ax.text(0.5, 0.5, "no pool declares a capacity", transform=ax.transAxes, ha="center",
                color=PALETTE["muted"])
        ax.set_yticks([])
        _title(ax, "Utilisation over time")
        return ax
    colours = [PALETTE["primary"], PALETTE["accent"], PALETTE["secondary"], PALETTE["good"], PALETTE["warn"]]
    floor = 1.0
    for i, name in enumerate(names):
        law = utilisation_law(scenario, name)
        u = np.array([min(x, _U_MAX) if math.isfinite(x) else _U_MAX for x, _ in law])
        p = np.array([q for _, q in law])
        above = 1.0 - np.concatenate([[0.0], np.cumsum(p)[:-1]])  # P(U >= u_j)
        xs = np.concatenate([[0.0], u])
        ys = np.concatenate([[1.0], above])
        positive = ys[ys > 0]
        floor = min(floor, float(positive.min()) if positive.size else 1.0)
        ax.step(xs, ys, where="post", color=colours[i % len(colours)], lw=1.6, label=name)
    ax.axvline(1.0, color=PALETTE["bad"], lw=0.9, ls="--")
    ax.text(1.01, 0.98, "sheds above 100 %", transform=ax.get_xaxis_transform(), fontsize=7.5,
            color=PALETTE["bad"], va="top")
    ax.set_yscale("log")
    ax.set_ylim(max(floor * 0.3, 1e-9), 1.5)
    ax.set_xlim(0, _U_MAX * 1.02)
    ticks = np.arange(0.0, _U_MAX + 1e-9, 0.25)
    ax.set_xticks(ticks, [f"{t:.0%}" if t < _U_MAX else f"≥{t:.0%}" for t in ticks])
    ax.set_xlabel("utilisation of the available instances", fontsize=9)
    ax.set_ylabel("share of time at or above", fontsize=9)
    ax.legend(fontsize=8, frameon=False, loc="lower left")
    _title(ax, "Utilisation over time (exact, every hour of the day)")
    _tidy(ax, grid="y")
    return ax
