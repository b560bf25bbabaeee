"""The ``hasim`` command line.

Exit codes: 0 success, 2 invalid input (a scenario or an option), 1 anything else.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Sequence

from ._version import __version__

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits with 2 already; keep its wording short
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="hasim", description="Monte Carlo availability simulation for IT architectures.")
    p.add_argument("--version", action="version", version=f"hasim {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    v = sub.add_parser("validate", help="check scenario files", description="Check scenario files and report "
                       "every problem as 'FILE: key.path: message'.")
    v.add_argument("files", nargs="+", metavar="FILE")
    v.add_argument("-q", "--quiet", action="store_true", help="print only problems")

    a = sub.add_parser("analyze", help="exact steady-state availability",
                       description="Compute the steady-state availability of each scenario exactly (first order "
                                   "for delays), its SLA tiers, single points of failure and minimal cut sets.")
    a.add_argument("files", nargs="+", metavar="FILE")
    a.add_argument("--json", action="store_true", help="print one JSON object per file (a list for several)")
    a.add_argument("--cut-sets", type=int, default=10, metavar="N", help="cut sets to list (default 10)")
    a.add_argument("-q", "--quiet", action="store_true", help="only the headline figures")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hasim`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        return {"validate": _validate, "analyze": _analyze}[args.command](args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK


def _load_all(files: Sequence[str]):
    """Load every file; yield (file, scenario or None), printing problems to stderr."""
    from .errors import ScenarioError
    from .io import load

    for path in files:
        try:
            yield path, load(path)
        except ScenarioError as exc:
            for line in exc.lines():
                print(line, file=sys.stderr)
            yield path, None


def _validate(args) -> int:
    status = EXIT_OK
    for path, sc in _load_all(args.files):
        if sc is None:
            status = EXIT_INVALID
        elif not args.quiet:
            print(f"{path}: ok ({len(sc.services)} services, {len(sc.zones)} zones, entry {sc.entry!r})")
    return status


def _analyze(args) -> int:
    from .analytic import analyze

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


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not JSON serialisable: {value!r}")


# --- text formatting -------------------------------------------------------------------------


def percent(a: float, digits: int | None = None) -> str:
    """99.9871 % style, with enough digits to show two significant figures of 1 - a."""
    if digits is None:
        digits = 4 if a >= 1.0 or a <= 0.99 else min(9, max(4, math.ceil(-math.log10(1.0 - a)) - 1))
    return f"{100 * a:.{digits}f} %"


def minutes(m: float) -> str:
    """A downtime in the unit a reader expects: seconds, minutes, hours or days."""
    if m < 1:
        return f"{m * 60:.1f} s"
    if m < 120:
        return f"{m:.1f} min"
    if m < 48 * 60:
        return f"{m / 60:.2f} h"
    return f"{m / 1440:.2f} d"


def table(rows: list[list[str]], header: list[str], indent: str = "  ") -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = lambda r: indent + "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                                       for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([fmt(header), indent + "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])


def format_analysis(result, cut_sets: int = 10, quiet: bool = False) -> str:
    """The text report of ``hasim analyze``."""
    from .analytic import nines

    r = result
    lines = [f"{r.scenario}: entry {r.entry!r} — steady state, "
             + ("exact" if r.exact else "first order in the delays (exact: false)")]
    lines.append("")
    n = nines(r.request_availability)
    lines.append(f"  request availability  {percent(r.request_availability)}   "
                 f"{'inf' if math.isinf(n) else f'{n:.2f}'} nines   "
                 f"{minutes(r.downtime_minutes_per_year)}/year down")
    lines.append(f"  time availability     {percent(r.time_availability)}   "
                 f"(fully up; {minutes((1 - r.time_availability) * 525600)}/year degraded or down)")
    if r.slo is not None:
        margin = r.slo_margin_minutes_per_year
        allowed = (1 - r.slo / 100) * 525600
        verdict = "met" if margin >= 0 else "NOT met"
        lines.append(f"  SLO {r.slo:g} %           {verdict}: {minutes(r.downtime_minutes_per_year)} of "
                     f"{minutes(allowed)} allowed per year (margin {'+' if margin >= 0 else '-'}"
                     f"{minutes(abs(margin))})")
    if quiet:
        return "\n".join(lines)
    lines.append("")
    lines.append(table([[f"{t['tier']:g} %", minutes(t["allowed_minutes_per_year"]),
                         minutes(r.downtime_minutes_per_year), "yes" if t["met"] else "no"] for t in r.tiers],
                       ["SLA tier", "allowed/year", "this design", "met"]))
    if r.delay_terms:
        lines.append("")
        lines.append(table([[f"{t.service}: {t.stage}", f"{t.events_per_year:.3g}",
                             f"{t.hours_per_event * 60:.3g}",
                             f"{t.request_unavailability * 525600:+.3g}"] for t in r.delay_terms],
                           ["delay terms (first order)", "events/yr", "min lost/event", "min/yr at entry"]))
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
    if r.optional:
        lines.append("")
        lines.append(table([[f"{o['service']} (for {o['used_by']})", percent(o["request_availability"])]
                            for o in r.optional], ["optional dependencies (not counted)", "request"]))
    if r.notes:
        lines.append("")
        lines.extend(f"  note: {note}" for note in r.notes)
    return "\n".join(lines)
