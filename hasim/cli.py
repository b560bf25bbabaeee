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
    r = sub.add_parser("run", help="simulate scenarios (Monte Carlo)",
                       description="Simulate each scenario's replicas and print availability with 95 % "
                                   "confidence intervals, SLA tiers, monthly breach odds and top causes.")
    r.add_argument("files", nargs="+", metavar="FILE")
    r.add_argument("--replicas", type=_positive_int, metavar="N", help="override the scenario's replicas")
    r.add_argument("--seed", type=_non_negative_int, metavar="S", help="override the scenario's seed")
    r.add_argument("--horizon", metavar="D", help="override the horizon, e.g. 10y")
    r.add_argument("--engine", default="numba", choices=["numba", "simpy"], help="simulator (default numba)")
    r.add_argument("--json", action="store_true", help="print the results as JSON (a list for several files)")
    r.add_argument("--out", metavar="PATH", help="write summary, replicas and windows tables next to PATH "
                                                  "(.parquet or .csv: PATH.summary.parquet, ...)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar, only the headline")
    r.add_argument("--report", metavar="PATH", help="also write the HTML review report of each run (for several "
                                                     "files PATH is a folder, or gets the scenario name appended)")
    _add_report_parsers(sub)
    return p


def _add_report_parsers(sub) -> None:
    rp = sub.add_parser("report", help="write an HTML architecture-review report",
                        description="Simulate a scenario and write one self-contained HTML page for a design "
                                    "review: verdict against the SLO, SLA tiers, downtime distribution, what "
                                    "drives the downtime, sensitivity, architecture diagram, a representative "
                                    "outage, assumptions and how to reproduce the run.")
    rp.add_argument("file", metavar="FILE")
    rp.add_argument("--out", metavar="PATH", help="where to write the page (default reports/<scenario name>.html)")
    rp.add_argument("--replicas", type=_positive_int, metavar="N", help="override the scenario's replicas")
    rp.add_argument("--seed", type=_non_negative_int, metavar="S", help="override the scenario's seed")
    rp.add_argument("--horizon", metavar="D", help="override the horizon, e.g. 10y")
    rp.add_argument("--engine", default="numba", choices=["numba", "simpy"], help="simulator (default numba)")
    rp.add_argument("--sensitivity-replicas", type=_positive_int, metavar="N",
                    help="replicas per sensitivity variant (default max(200, replicas // 4))")
    rp.add_argument("--no-sensitivity", action="store_true", help="skip the sensitivity runs (faster)")
    rp.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")

    c = sub.add_parser("compare", help="compare designs with common random numbers",
                       description="Simulate two or more designs with the same seed, replicas and horizon and print "
                                   "each measure side by side with its difference to the first design and a "
                                   "paired 95 % confidence interval.")
    c.add_argument("files", nargs="+", metavar="FILE", help="the designs; the first is the reference")
    c.add_argument("--replicas", type=_positive_int, metavar="N", help="replicas of every run (default: the "
                                                                        "first design's)")
    c.add_argument("--seed", type=_non_negative_int, metavar="S", help="seed of every run (default: the first "
                                                                       "design's)")
    c.add_argument("--horizon", metavar="D", help="horizon of every run, e.g. 10y")
    c.add_argument("--engine", default="numba", choices=["numba", "simpy"], help="simulator (default numba)")
    c.add_argument("--report", metavar="PATH", help="also write an HTML comparison report")
    c.add_argument("--json", action="store_true", help="print the comparison as JSON")
    c.add_argument("-q", "--quiet", action="store_true", help="only the summary sentences")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hasim`` console script; returns the exit code."""
    args = _parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return {"validate": _validate, "analyze": _analyze, "run": _run, "report": _report,
                "compare": _compare}[args.command](args)
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


def _run(args) -> int:
    from .engine import simulate

    if args.out and not args.out.endswith((".parquet", ".csv")):
        print(f"hasim run: --out: expected a path ending in .parquet or .csv, got {args.out!r}", file=sys.stderr)
        return EXIT_INVALID
    horizon = None
    if args.horizon is not None:
        from .durations import parse_duration

        try:
            horizon = parse_duration(args.horizon)
            if horizon <= 0:
                raise ValueError
        except ValueError:
            print(f"hasim run: --horizon: expected a positive duration like '10y', got {args.horizon!r}",
                  file=sys.stderr)
            return EXIT_INVALID
    status, documents = EXIT_OK, []
    for path, sc in _load_all(args.files):
        if sc is None:
            status = EXIT_INVALID
            continue
        try:
            result = simulate(sc, replicas=args.replicas, seed=args.seed, horizon=horizon, engine=args.engine,
                              progress=not args.quiet and sys.stderr.isatty())
        except NotImplementedError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            status = EXIT_INVALID if status == EXIT_INVALID else EXIT_ERROR
            continue
        if args.out:
            for written in write_tables(result, args.out, multiple=len(args.files) > 1):
                if not args.quiet:
                    print(f"wrote {written}", file=sys.stderr)
        if args.report:
            try:
                target = _report_path(args.report, sc.name, multiple=len(args.files) > 1)
                _write_run_report(result, sc, path, target, args)
            except (OSError, NotImplementedError) as exc:
                print(f"{path}: report: {exc}", file=sys.stderr)
                status = EXIT_INVALID if status == EXIT_INVALID else EXIT_ERROR
            else:
                if not args.quiet:
                    print(f"wrote {target}", file=sys.stderr)
        if args.json:
            documents.append(result.to_dict())
        else:
            print(format_results(result, quiet=args.quiet))
    if args.json and documents:
        single = len(documents) == 1 and len(args.files) == 1
        print(json.dumps(documents[0] if single else documents, indent=2, allow_nan=False))
    return status


# --- reports and comparisons ---------------------------------------------------------------------


def _command_line(args) -> str:
    import shlex

    return "hasim " + shlex.join(args.argv)


def _horizon_option(text: str | None, prog: str):
    """The --horizon value in hours; raises ValueError with the message to print."""
    if text is None:
        return None
    from .durations import parse_duration

    try:
        hours = parse_duration(text)
        if hours <= 0:
            raise ValueError
    except ValueError:
        raise ValueError(f"{prog}: --horizon: expected a positive duration like '10y', got {text!r}") from None
    return hours


def _report_path(option: str, name: str, multiple: bool):
    """Where ``run --report PATH`` writes the report of scenario ``name``."""
    from pathlib import Path

    path = Path(option)
    if path.is_dir() or option.endswith(("/", "\\")) or (multiple and path.suffix.lower() not in (".html", ".htm")):
        return path / f"{name}.html"
    if multiple:
        return path.with_name(f"{path.stem}.{name}{path.suffix}")
    return path


def _source_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return None


def _write_run_report(result, scenario, source: str, target, args, *, compute_sensitivity: bool = True,
                      sensitivity_replicas: int | None = None):
    from .report import write_report

    return write_report(result, scenario, target, command=_command_line(args), source_text=_source_text(source),
                        compute_sensitivity=compute_sensitivity, sensitivity_replicas=sensitivity_replicas)


def _report(args) -> int:
    from .engine import simulate

    try:
        horizon = _horizon_option(args.horizon, "hasim report")
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    (path, sc), = list(_load_all([args.file]))
    if sc is None:
        return EXIT_INVALID
    from pathlib import Path

    target = Path(args.out) if args.out else Path("reports") / f"{sc.name}.html"
    if target.is_dir():
        target = target / f"{sc.name}.html"
    try:
        result = simulate(sc, replicas=args.replicas, seed=args.seed, horizon=horizon, engine=args.engine,
                          progress=not args.quiet and sys.stderr.isatty())
        _write_run_report(result, sc, path, target, args, compute_sensitivity=not args.no_sensitivity,
                          sensitivity_replicas=args.sensitivity_replicas)
    except (NotImplementedError, ValueError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"hasim report: cannot write {target}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if not args.quiet:
        print(format_results(result, quiet=True))
        print(f"wrote {target}")
    return EXIT_OK


def _compare(args) -> int:
    from .compare import run_comparison

    if len(args.files) < 2:
        print("hasim compare: expected at least two scenario files", file=sys.stderr)
        return EXIT_INVALID
    try:
        horizon = _horizon_option(args.horizon, "hasim compare")
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return EXIT_INVALID
    loaded = list(_load_all(args.files))
    if any(sc is None for _, sc in loaded):
        return EXIT_INVALID
    try:
        comparison = run_comparison([sc for _, sc in loaded], replicas=args.replicas, seed=args.seed,
                                    horizon=horizon, engine=args.engine)
    except (NotImplementedError, ValueError) as exc:
        print(f"hasim compare: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.report:
        from .report import write_comparison_report

        try:
            written = write_comparison_report(comparison, args.report, command=_command_line(args))
        except OSError as exc:
            print(f"hasim compare: cannot write {args.report}: {exc}", file=sys.stderr)
            return EXIT_ERROR
        if not args.quiet:
            print(f"wrote {written}", file=sys.stderr)
    if args.json:
        print(json.dumps(comparison.to_dict(), indent=2, allow_nan=False))
    else:
        print(format_comparison(comparison, quiet=args.quiet))
    return EXIT_OK


def format_comparison(comparison, quiet: bool = False) -> str:
    """The text table of ``hasim compare``: each measure per design, then its difference to the first."""
    c = comparison
    first = c.results[0].to_dict()
    lines = [f"compare: {len(c.designs)} designs, {first['replicas']} replicas x "
             f"{first['horizon_hours'] / 8760:g} y, seed {first['seed']} "
             + ("(common random numbers; differences vs " if c.paired else "(independent runs; differences vs ")
             + f"{c.designs[0]!r} with 95 % CI)", ""]
    if not quiet:
        def value(measure: str, x: float) -> str:
            if measure.endswith("availability"):
                return percent(x)
            if measure == "downtime_minutes_per_year":
                return minutes(max(x, 0.0))
            if measure == "p_window_breach":
                return f"{100 * x:.2f} %"
            return f"{x:.3g}"

        def delta(measure: str, x: float) -> str:
            if measure.endswith("availability") or measure == "p_window_breach":
                return f"{100 * x:+.3g} pp"
            if measure == "downtime_minutes_per_year":
                return f"{x:+.3g} min"
            return f"{x:+.3g}"

        rows = []
        t = c.table
        for measure in dict.fromkeys(t["measure"]):
            sub = t[t["measure"] == measure]
            label = sub["label"].iloc[0] + ("/year" if measure == "downtime_minutes_per_year" else "")
            label = "outages/year" if measure == "outages_per_year" else label
            rows.append([label] + [value(measure, r.mean) for r in sub.itertuples()])
            diffs = ["" if not math.isfinite(r.diff) else
                     f"{delta(measure, r.diff)} [{delta(measure, r.diff_ci_low)}, {delta(measure, r.diff_ci_high)}]"
                     + {"better": " better", "worse": " worse"}.get(r.verdict, "")
                     for r in sub.itertuples()]
            rows.append(["  difference"] + diffs)
        lines.append(table(rows, ["measure"] + list(c.designs)))
        lines.append("")
    lines.extend(f"  {s}" for s in c.sentences())
    return "\n".join(lines)


def write_tables(result, out: str, multiple: bool = False) -> list[str]:
    """Write summary, replicas and windows next to ``out`` (by its extension); return the paths."""
    from pathlib import Path

    path = Path(out)
    suffix = path.suffix
    stem = path.with_suffix("")
    if multiple:
        stem = stem.with_name(f"{stem.name}.{result.scenario}")
    written = []
    for table_name in ("summary", "replicas", "windows"):
        frame = getattr(result, table_name)
        target = stem.with_name(f"{stem.name}.{table_name}{suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        if suffix == ".parquet":
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        tmp.replace(target)  # atomic: a crash never leaves a half-written table
        written.append(str(target))
    return written


def format_results(result, quiet: bool = False) -> str:
    """The text summary of ``hasim run``."""
    from .analytic import nines

    r = result
    ra, ta = r.metric("request_availability"), r.metric("time_availability")
    down = r.metric("downtime_minutes_per_year")
    years = r.horizon / 8760.0
    lines = [f"{r.scenario}: {r.n_replicas} replicas x {years:g} y, seed {r.seed}, {r.engine} engine, "
             f"{r.elapsed_seconds:.2f} s ({r.events / 1e6:.3g} M events)", ""]
    n = nines(ra["mean"])
    lines.append(f"  request availability  {percent(ra['mean'])}  [{percent(ra['ci95'][0])}, "
                 f"{percent(ra['ci95'][1])}]  {'inf' if math.isinf(n) else f'{n:.2f}'} nines")
    lines.append(f"  time availability     {percent(ta['mean'])}  [{percent(ta['ci95'][0])}, "
                 f"{percent(ta['ci95'][1])}]")
    lines.append(f"  downtime              {minutes(down['mean'])}/year  [{minutes(max(down['ci95'][0], 0))}, "
                 f"{minutes(down['ci95'][1])}]")
    if r.slo is not None:
        target = r.slo / 100
        lo, hi = ra["ci95"]
        verdict = ("met" if lo >= target else "NOT met" if hi < target else
                   "too close to call (the CI straddles the target)")
        lines.append(f"  SLO {r.slo:g} %           {verdict}")
    breach = r.metric("p_window_breach")
    per_year = r.metric("breach_windows_per_year")
    lines.append(f"  P(a {r.window:g} h window misses {r.slo_used:g} %)  {100 * breach['mean']:.2f} %  "
                 f"[{100 * breach['ci95'][0]:.2f}, {100 * breach['ci95'][1]:.2f}]   "
                 f"{per_year['mean']:.3g} breach windows/year")
    outages = r.metric("outages_per_year")
    lines.append(f"  outages               {outages['mean']:.3g}/year, mean "
                 f"{r.metric('mean_outage_minutes')['mean'] or 0:.3g} min")
    if quiet:
        return "\n".join(lines)
    lines.append("")
    lines.append(table([[f"{t['tier']:g} %", minutes(t["allowed_minutes_per_year"]), minutes(down["mean"]),
                         t["verdict"]] for t in r.tiers], ["SLA tier", "allowed/year", "this design", "verdict"]))
    stages = getattr(r, "stages", None)
    if stages is not None and len(stages):
        lines.append("")
        shown = stages[stages["downtime_minutes_per_year"] > 0]
        lines.append(table([[row.stage, f"{row.downtime_minutes_per_year:.3g}",
                             f"[{row.ci_low:.3g}, {row.ci_high:.3g}]", f"{100 * row.share:.1f} %"]
                            for row in shown.itertuples()], ["stage", "min/year", "95 % CI", "share"]))
    att = r.attribution.head(8)
    if len(att):
        lines.append("")
        lines.append(table([[row.cause, f"{row.downtime_minutes_per_year:.3g}",
                             f"[{row.ci_low:.3g}, {row.ci_high:.3g}]", f"{100 * row.share:.1f} %"]
                            for row in att.itertuples()],
                           ["top causes", "min/year", "95 % CI", "share"]))
    return "\n".join(lines)


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
        # One row per (service, stage); the JSON keeps every term with its description.
        grouped: dict[tuple[str, str], list[float]] = {}
        for t in r.delay_terms:
            row = grouped.setdefault((t.service, t.stage), [0.0, 0.0])
            row[0] += t.events_per_year
            row[1] += t.request_unavailability * 525600
        lines.append("")
        lines.append(table([[f"{svc}: {stage}", f"{events:.3g}", f"{(mins / events if events else 0):.3g}",
                             f"{mins:+.3g}"] for (svc, stage), (events, mins) in grouped.items()],
                           ["delay terms (first order)", "events/yr", "min/event at entry", "min/yr at entry"]))
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
