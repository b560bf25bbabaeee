"""``hasim compare``: designs side by side, with common random numbers and paired intervals."""

from __future__ import annotations

import json
import math
import sys

from hasim.text import minutes, percent
from hasim.cli.common import EXIT_ERROR, EXIT_INVALID, EXIT_OK, _command_line, _horizon_option, _load_all
from hasim.cli.tables import table


def _compare(args) -> int:
    from hasim.studies.compare import run_comparison

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
        from hasim.present.report import write_comparison_report

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
    """The text table of ``hasim compare``: each measure per design, then its difference to the first.

    Parameters
    ----------
    comparison : Comparison
        :func:`hasim.studies.compare.run_comparison` of the designs.
    quiet : bool
        Only the summary sentences (and the header).

    Returns
    -------
    str
        The lines, without a trailing newline.
    """
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
