"""``hasim validate`` and ``hasim analyze``: checks and exact solutions, no simulation."""

from __future__ import annotations

import json
import sys

from hasim.text import minutes, nines_text, percent
from hasim.text import plural as _plural
from hasim.text import rate as _rate
from hasim.cli.common import EXIT_ERROR, EXIT_INVALID, EXIT_OK, _load_all
from hasim.cli.tables import _json_default, table


def _validate(args) -> int:
    from hasim.model.lint import check_file

    status = EXIT_OK
    for path, sc in _load_all(args.files):
        if sc is None:
            status = EXIT_INVALID
            continue
        for problem in check_file(path, sc):  # warnings (hasim.model.lint) do not change the exit status
            print(f"warning: {path}: {problem}", file=sys.stderr)
        if not args.quiet:
            print(f"{path}: ok ({_plural(len(sc.services), 'service')}, {_plural(len(sc.zones), 'zone')}, "
                  f"entry {sc.entry!r})")
    return status


def _analyze(args) -> int:
    from hasim.analytic.analysis import analyze

    status, results = EXIT_OK, []
    for path, sc in _load_all(args.files):
        if sc is None:
            status = EXIT_INVALID
            continue
        try:
            result = analyze(sc)
        except ValueError as exc:  # the model is valid but beyond the exact solver
            print(f"{path}: {exc}", file=sys.stderr)
            status = max(status, EXIT_ERROR) if status != EXIT_INVALID else status
            continue
        if args.json:
            results.append(result.to_dict())
        else:
            print(format_analysis(result, cut_sets=args.cut_sets, quiet=args.quiet))
    if args.json and results:
        print(json.dumps(results[0] if len(results) == 1 and len(args.files) == 1 else results, indent=2,
                         default=_json_default))
    return status


def _utilisation(u: float) -> str:
    return "no instance left" if u == float("inf") else f"{u:.0%}"


def format_analysis(result, cut_sets: int = 10, quiet: bool = False) -> str:
    """The text report of ``hasim analyze``.

    Parameters
    ----------
    result : Analysis
        :func:`hasim.analytic.analysis.analyze` of one scenario.
    cut_sets : int
        Minimal cut sets to list (``--cut-sets``).
    quiet : bool
        Only the headline figures.

    Returns
    -------
    str
        The lines, without a trailing newline.
    """
    r = result
    lines = [f"{r.scenario}: entry {r.entry!r} — steady state, "
             + ("exact" if r.exact else "first order in the delays (exact: false)")]
    lines.append("")
    lines.append(f"  request availability  {percent(r.request_availability)}   "
                 f"{nines_text(r.request_availability)}   "
                 f"{minutes(r.downtime_minutes_per_year)}/year down")
    lines.append(f"  time availability     {percent(r.time_availability)}   "
                 f"(fully up; {minutes((1 - r.time_availability) * 525600)}/year degraded or down)")
    if r.slo is not None:
        margin = r.slo_margin_minutes_per_year
        allowed = (1 - r.slo / 100) * 525600
        met = r.meets(r.slo / 100)
        if met is None:  # a bound on the wrong side: only a simulation decides
            side = {"lower": "at most", "upper": "at least", "none": "about"}[r.bound]
            lines.append(f"  SLO {r.slo:g} %           not decided: {side} {minutes(r.downtime_minutes_per_year)} of "
                         f"{minutes(allowed)} allowed per year, and this answer is "
                         + ("a lower bound" if r.bound == "lower" else "an upper bound" if r.bound == "upper"
                            else "no bound") + " (see the notes): simulate it")
        else:
            verdict = "met" if met else "NOT met"
            hedge = {"point": "", "lower": " (by a lower bound)", "upper": " (by an upper bound)"}[r.bound]
            lines.append(f"  SLO {r.slo:g} %           {verdict}{hedge}: {minutes(r.downtime_minutes_per_year)} "
                         f"of {minutes(allowed)} allowed per year (margin {'+' if margin >= 0 else '-'}"
                         f"{minutes(abs(margin))})")
    if quiet:
        return "\n".join(lines)
    lines.append("")
    lines.append(table([[f"{t['tier']:g} %", minutes(t["allowed_minutes_per_year"]),
                         minutes(r.downtime_minutes_per_year),
                         "?" if t["met"] is None else "yes" if t["met"] else "no"] for t in r.tiers],
                       ["SLA tier", "allowed/year", "this design", "met"]))
    if r.delay_terms:
        # One row per (service, stage); the JSON keeps every term with its description.
        grouped: dict[tuple[str, str], list[float]] = {}
        for t in r.delay_terms:
            row = grouped.setdefault((t.service, t.stage), [0.0, 0.0])
            row[0] += t.events_per_year
            row[1] += t.request_unavailability * 525600
        lines.append("")
        lines.append(table([[f"{svc}: {stage}", _rate(events), minutes(mins / events if events else 0),
                             ("-" if mins < 0 else "+") + minutes(abs(mins))]
                            for (svc, stage), (events, mins) in grouped.items()],
                           ["delay terms (first order)", "events/yr", "per event at entry", "per year at entry"]))
    spofs = [c for c in r.cut_sets if c.order == 1]
    lines.append("")
    if spofs:
        lines.append("  single points of failure: " + ", ".join(c.components[0] for c in spofs))
    else:
        lines.append("  single points of failure: none")
    if r.cut_sets and cut_sets > 0:
        rows = [[" + ".join(c.components) + (f"  (x{c.count})" if c.count > 1 else ""), str(c.order),
                 f"{c.probability:.2e}", f"{100 * c.share:.1f} %"] for c in r.cut_sets[:cut_sets]]
        lines.append(table(rows, ["minimal cut sets (take the entry down)", "order", "P(all failed)",
                                  "share"]))
        if len(r.cut_sets) > cut_sets:
            lines.append(f"  ... {len(r.cut_sets) - cut_sets} more (--cut-sets N)")
    lines.append("")
    lines.append(table([[s["service"], percent(s["request_availability"]), percent(s["time_availability"])]
                        for s in r.services], ["service, with its dependencies (no delays)", "request", "time"]))
    if r.load:
        lines.append("")
        lines.append(table([[s["service"], f"{s['load_rps']:,.0f}", f"{s['capacity_rps']:,.0f}",
                             f"{s['needed']:.2f} of {s['replicas']}", _utilisation(s["utilisation"]),
                             _utilisation(s["utilisation_p999"]), f"{s['overload_probability'] * 8760:.2g} h"]
                            for s in r.load],
                           ["load (req/s)", "offered", "per instance", "instances needed", "utilisation",
                            "p99.9", "short/year"]))
    if r.zone_loss:
        lines.append("")
        lines.append(table([[z["zone"], "yes" if z["survives"] else "NO", percent(z["served"]),
                             ", ".join(z["short"]) or "-"] for z in r.zone_loss],
                           ["static stability: lose one zone", "survives", "entry serves", "short of capacity"]))
    if r.optional:
        lines.append("")
        lines.append(table([[f"{o['service']} (for {o['used_by']})", percent(o["request_availability"])]
                            for o in r.optional], ["optional dependencies (not counted)", "request"]))
    if r.notes:
        lines.append("")
        lines.extend(f"  note: {note}" for note in r.notes)
    return "\n".join(lines)
