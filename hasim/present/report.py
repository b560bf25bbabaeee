"""The architecture-review report: one self-contained HTML file.

:func:`render_report` turns a simulation into a page a review board reads in a
browser or on paper: the verdict against the SLO, the SLA tiers, the spread of
yearly downtime, what drives it, what each parameter is worth, the
architecture, one representative outage, every assumption and how to
reproduce the run.  Charts are inline SVG, the CSS is inline, there is no
script and nothing is fetched from the network, so the file opens from disk
or from an e-mail attachment.

The page comes from the Jinja2 template ``hasim/present/templates/report.html.j2``;
:func:`render_comparison_report` uses ``compare.html.j2`` for ``hasim compare``.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from pathlib import Path

from hasim._version import __version__
from hasim.text import duration as format_duration
from hasim.present._report_format import _MINUTES_PER_YEAR, _delta, _markup, _pct, _svg
from hasim.present._report_sections import (_architecture_context, _assumptions_context, _distribution_context,
                                            _drivers_context, _experiments_context, _load_context, _reproducibility_context,
                                            _sensitivity_context,
                                            _tiers_context, _timeline_context, _verdict_context, verdict)

__all__ = ["render_report", "write_report", "render_comparison_report", "write_comparison_report", "verdict",
           "SECTIONS"]


#: The report's sections, in order: (id, title).  The ids are stable anchors.
SECTIONS = (
    ("verdict", "Verdict"),
    ("tiers", "SLA tiers"),
    ("distribution", "Downtime distribution"),
    ("drivers", "What drives the downtime"),
    ("load", "Load and overload"),
    ("sensitivity", "Sensitivity"),
    ("architecture", "Architecture"),
    ("timeline", "A representative outage"),
    ("experiments", "Fault experiments"),
    ("assumptions", "Assumptions"),
    ("reproducibility", "Reproducibility"),
)


# --- formatting ---------------------------------------------------------------------------------


# --- the verdict ------------------------------------------------------------------------------------


# --- charts ---------------------------------------------------------------------------------------------


# --- sections ----------------------------------------------------------------------------------------------


def _environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(loader=PackageLoader("hasim.present", "templates"), autoescape=select_autoescape(["j2", "html"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


# --- public API ---------------------------------------------------------------------------------------------


def render_report(results, scenario, *, analysis=None, sensitivity=None, command: str | None = None,
                  source_text: str | None = None, compute_sensitivity: bool = True,
                  sensitivity_replicas: int | None = None, title: str | None = None, experiments=None) -> str:
    """The review report of ``results`` (a run of ``scenario``) as one HTML string.

    Parameters
    ----------
    results : Results
        What :func:`hasim.sim.engine.simulate` returned for ``scenario``.
    scenario : Scenario
        The design that was run.
    analysis : Analysis, optional
        The exact solver's answer, shown next to the simulated one.  Computed
        with :func:`hasim.analyze` when not given (``False`` skips it); left out
        if the solver cannot handle the design.
    sensitivity : DataFrame, optional
        A :func:`hasim.studies.sensitivity.sensitivity` table.  Computed when not given
        and ``compute_sensitivity`` is true, with ``sensitivity_replicas``
        replicas per variant (default ``max(200, scenario.replicas // 4)``).
    command : str, optional
        The command line to print under "Reproducibility".
    source_text : str, optional
        The scenario file's text (default: ``hasim.dump(scenario)``).
    title : str, optional
        Page title (default "Availability review: <name>").
    experiments : list of ChaosResult, optional
        Fault experiments on this design (:func:`hasim.chaos`), shown under "Fault experiments"
        with their timelines, measures and expectations.
    """
    if analysis is None:
        from hasim.analytic.analysis import analyze

        try:
            analysis = analyze(scenario)
        except Exception:  # noqa: BLE001 - the cross-check is optional; the simulation stands alone
            analysis = None
    elif analysis is False:
        analysis = None
    engine = results.to_dict().get("engine", "numba")
    sens = _sensitivity_context(results, scenario, sensitivity, compute_sensitivity, sensitivity_replicas, engine)
    assumptions = _assumptions_context(results, scenario, source_text)
    ctx = {
        "title": title or f"Availability review: {scenario.name}",
        "scenario": scenario,
        "description": scenario.description.strip(),
        "sections": SECTIONS,
        "version": __version__,
        "replicas": results.to_dict()["replicas"],
        "horizon": format_duration(results.to_dict()["horizon_hours"]),
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d"),
        "verdict": _verdict_context(results, scenario, analysis),
        "tiers": _tiers_context(results),
        "distribution": _distribution_context(results),
        "drivers": _drivers_context(results),
        "load": _load_context(results, scenario, analysis),
        "sensitivity": sens,
        "architecture": _architecture_context(results, scenario, analysis),
        "timeline": _timeline_context(results, scenario),
        "experiments": _experiments_context(experiments),
        "assumptions": assumptions,
        "reproducibility": _reproducibility_context(results, scenario, command, assumptions["text"], sens),
    }
    for key in ("histogram", "windows"):
        ctx["distribution"][key] = _markup(ctx["distribution"][key])
    for key in ("causes_chart", "stages_chart"):
        ctx["drivers"][key] = _markup(ctx["drivers"][key])
    if ctx["load"]["chart"]:
        ctx["load"]["chart"] = _markup(ctx["load"]["chart"])
    if sens.get("chart"):
        sens["chart"] = _markup(sens["chart"])
    ctx["architecture"]["chart"] = _markup(ctx["architecture"]["chart"])
    ctx["timeline"]["chart"] = _markup(ctx["timeline"]["chart"])
    for item in ctx["experiments"]["items"]:
        item["chart"] = _markup(item["chart"])
    return _environment().get_template("report.html.j2").render(**ctx)


def _atomic_write(path: str | os.PathLike, text: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_report(results, scenario, path: str | os.PathLike, *, analysis=None, sensitivity=None,
                 command: str | None = None, **kwargs) -> Path:
    """Write :func:`render_report` to ``path`` (parent folders created, written atomically); return the path."""
    return _atomic_write(path, render_report(results, scenario, analysis=analysis, sensitivity=sensitivity,
                                             command=command, **kwargs))


def render_comparison_report(comparison, *, command: str | None = None, title: str | None = None) -> str:
    """A one-page HTML report of a :class:`hasim.studies.compare.Comparison` (``hasim compare --report``)."""
    from hasim.present import plot

    t = comparison.table
    measures = []
    for measure in dict.fromkeys(t["measure"]):
        sub = t[t["measure"] == measure]
        label, unit = sub["label"].iloc[0], sub["unit"].iloc[0]
        cells = []
        for r in sub.itertuples():
            if unit == "%":
                fmt = (lambda x: _pct(min(max(x, 0.0), 1.0))) if "availability" in measure \
                    else (lambda x: f"{100 * max(x, 0.0):.2f} %")
                dfmt = ((lambda x: f"{_delta(x * _MINUTES_PER_YEAR)} min/y") if "availability" in measure
                        else (lambda x: f"{100 * x:+.2f} pp"))
            else:
                fmt = (lambda x: f"{max(x, 0.0):.3g}")
                dfmt = (lambda x: f"{x:+.3g}")
            diff = None
            if math.isfinite(r.diff):
                diff = f"{dfmt(r.diff)} [{dfmt(r.diff_ci_low)}, {dfmt(r.diff_ci_high)}]"
            cells.append({"design": r.design, "mean": fmt(r.mean),
                          "ci": f"{fmt(r.ci_low)} – {fmt(r.ci_high)}", "diff": diff, "verdict": r.verdict})
        measures.append({"label": label, "unit": unit, "cells": cells})
    info = comparison.results[0].to_dict()
    charts = [
        _markup(_svg(lambda ax, m=m: plot.comparison(t, ax=ax, measure=m), (7.4, 0.9 + 0.5 * len(comparison.designs)),
                     f"cmp{i}"))
        for i, m in enumerate(("downtime_minutes_per_year", "p_window_breach"))
    ]
    archs = []
    for i, sc in enumerate(comparison.scenarios):
        if sc is None:
            continue
        figsize = plot.architecture_size(sc)
        archs.append({"name": comparison.designs[i], "description": sc.description.strip(),
                      "chart": _markup(_svg(lambda ax, sc=sc: plot.architecture(sc, ax=ax), figsize, f"arch{i}"))})
    ctx = {
        "title": title or "Design comparison: " + " vs ".join(comparison.designs),
        "designs": comparison.designs, "reference": comparison.designs[0],
        "sentences": comparison.sentences(), "measures": measures, "charts": charts, "archs": archs,
        "paired": comparison.paired, "replicas": info["replicas"], "seed": info["seed"],
        "horizon": format_duration(info["horizon_hours"]), "engine": info["engine"],
        "version": __version__, "command": command or "not recorded (built from Python)",
        "generated": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    return _environment().get_template("compare.html.j2").render(**ctx)


def write_comparison_report(comparison, path: str | os.PathLike, *, command: str | None = None) -> Path:
    """Write :func:`render_comparison_report` to ``path``; return the path."""
    return _atomic_write(path, render_comparison_report(comparison, command=command))
