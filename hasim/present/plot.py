"""Charts for notebooks and reports: one function per chart, each ``f(..., ax=None) -> Axes``.

Every function draws on ``ax`` when given and otherwise creates a figure of a
sensible size with the object-oriented API (no ``pyplot`` state is touched
besides creating that figure, ``plt.show`` is never called), so they work the
same in Jupyter, in scripts with the Agg backend and in :mod:`hasim.present.report`.

matplotlib is imported inside the functions: ``import hasim.plot`` stays cheap.

This module is the public namespace only; the charts live in private modules by subject
(:mod:`~hasim.present._measures`, :mod:`~hasim.present._architecture`, :mod:`~hasim.present._timeline`,
with the shared look in :mod:`~hasim.present._style`).

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
``utilisation``             share of time each pool spends above a utilisation (exact)
``chaos_timeline``          served fractions through a chaos experiment's faults (:func:`hasim.chaos`)
==========================  ====================================================
"""

from __future__ import annotations

from hasim.present._architecture import architecture, architecture_size
from hasim.present._chaos import chaos_timeline
from hasim.present._load import utilisation
from hasim.present._measures import attribution, comparison, downtime_distribution, sweep, tornado, window_breaches
from hasim.present._style import PALETTE
from hasim.present._timeline import outage_timeline, outage_timeline_size, representative_outage

# Not public, but hasim.present.report (and the tests) reach them as ``plot.<name>``: the report
# words values, windows and times exactly as the charts do, and draws the outage the chart picked.
from hasim.present._architecture import _children, _layers  # noqa: F401
from hasim.present._measures import _value_text  # noqa: F401
from hasim.present._style import window_name  # noqa: F401
from hasim.present._timeline import _at, _find_trace, _time_unit, _weighted_quantile  # noqa: F401

__all__ = [
    "downtime_distribution", "window_breaches", "attribution", "tornado", "comparison", "sweep",
    "architecture", "architecture_size", "outage_timeline", "outage_timeline_size", "representative_outage",
    "utilisation", "chaos_timeline", "PALETTE",
]
