"""``hasim chaos SCENARIO EXPERIMENT...``: fault experiments in simulation, expectations as CI gates."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from hasim.cli.common import EXIT_ERROR, EXIT_INVALID, EXIT_OK, _load_all, _worse
from hasim.cli.tables import _json_default
from hasim.text import minutes, plural

#: Most change points of the entry's timeline printed.
_TIMELINE_POINTS = 10


def _chaos(args) -> int:
    from hasim.errors import ScenarioError
    from hasim.model.chaos import load_experiment
    from hasim.studies.chaos import chaos

    loaded = list(_load_all([args.scenario]))
    sc = loaded[0][1]
    if sc is None:
        return EXIT_INVALID
    status, dumps = EXIT_OK, []
    for path in args.experiments:
        try:
            exp = load_experiment(path)
            result = chaos(sc, exp, engine=args.engine, replicas=args.replicas, seed=args.seed)
        except ScenarioError as exc:
            for line in (exc.with_source(path) if exc.source is None else exc).lines():
                print(line, file=sys.stderr)
            status = _worse(status, EXIT_INVALID)
            continue
        if args.plot:
            target = _plot_path(args.plot, exp.name, len(args.experiments))
            _write_plot(result, target)
        if args.json:
            dumps.append(result.to_dict())
        else:
            print(format_chaos(result, quiet=args.quiet))
        if result.passed is False:
            status = _worse(status, EXIT_ERROR)
    if args.json and dumps:
        print(json.dumps(dumps[0] if len(args.experiments) == 1 else dumps, indent=2, default=_json_default))
    return status


def _plot_path(plot: str, name: str, n: int) -> Path:
    p = Path(plot)
    if n > 1 or p.is_dir():
        p = (p if p.suffix == "" else p.parent / p.stem) / f"{name}.png"
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def _write_plot(result, target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hasim.present.plot import chaos_timeline

    ax = chaos_timeline(result)
    ax.figure.savefig(target, dpi=110, bbox_inches="tight")
    plt.close(ax.figure)


def _hours(h: float) -> str:
    """A time of the experiment: three figures between 1 and 100 minutes, where intervals live."""
    if math.isinf(h):
        return "not recovered"
    m = h * 60.0
    return f"{m:.3g} min" if 1.0 <= m < 100.0 else minutes(m)


def _measure_line(label: str, row, unit: str) -> str:
    if unit == "share":
        mean = f"{row['mean']:.1%}"
        ci = "exact" if row["exact"] else f"[{row['ci_low']:.1%}, {row['ci_high']:.1%}]"
        tail = f"lowest {row['worst']:.1%}"
    elif row["unrecovered"]:
        k = int(row["unrecovered"])
        return (f"  {label:<20} {'n/a':>10}  {k} replica{'s' if k > 1 else ''} still out at the end of the "
                f"experiment; median {_hours(row['p50'])}")
    else:
        mean = _hours(row["mean"])
        if row["exact"]:
            ci = "exact (every replica)"
        else:
            ci = f"[{_hours(row['ci_low'])}, {_hours(row['ci_high'])}]"
        tail = f"p95 {_hours(row['p95'])}, worst {_hours(row['worst'])}"
    return f"  {label:<20} {mean:>10}  {ci:<26} {tail}"


def format_chaos(result, quiet: bool = False) -> str:
    """The text report of one experiment (what ``hasim chaos`` prints)."""
    exp = result.experiment
    plan = result.plan
    lines = []
    bg = "with the scenario's own failures" if exp.background else "no background failures"
    verdict = {None: "", True: ": PASSED", False: ": FAILED"}[result.passed]
    lines.append(f"{exp.name} on {plan.original.name} ({result.engine}, {plural(result.replicas, 'replica')}, "
                 f"{bg}){verdict}")
    if not quiet:
        if exp.description:
            lines.append(f"  {exp.description.strip()}")
        for f in plan.faults:
            lines.append(f"  fault: {f.label}")
        m = result.measures()
        shown = [("time_to_detect", "time to detect"), ("time_to_recover", "time to recover"),
                 ("time_to_full_health", "time to full health"), ("lost", "requests lost")]
        if any(s.replication is not None for s in plan.original.services.values()):
            shown.append(("writes_lost", "writes lost"))
        for key, label in shown:
            lines.append(_measure_line(label, m.loc[key], "h"))
        lines.append(_measure_line("lowest served", m.loc["min_served"], "share")
                     + f" (per {minutes(exp.resolution * 60)} step)")
        stages = result.lost_by_stage()
        if len(stages):
            parts = ", ".join(f"{r.stage} {r.share:.0%}" for r in stages.itertuples())
            lines.append(f"  lost by stage: {parts}")
        lines.append(f"  timeline of {plan.original.entry} (mean served): {_change_points(result)}")
    for r in result.expectations().itertuples():
        share = r.expectation.endswith("min_served")
        stated = f"{r.stated:.1%}" if share else minutes(r.stated * 60.0)
        worst = f"{r.measured:.1%}" if share else _hours(r.measured)
        missed = (f"missed in {r.missed:.1%} of replicas [{r.missed_ci_low:.1%}, {r.missed_ci_high:.1%}]"
                  if r.missed > 0 else f"held in every replica (missed in at most {r.missed_ci_high:.1%})")
        tol = f", tolerance {r.tolerance:.0%}" if r.tolerance > 0 else ""
        mark = "ok  " if r.passed else "FAIL"
        lines.append(f"  {mark} {r.expectation} {stated}: {missed}; worst {worst}{tol}")
    if not result.complete:
        lines.append("  note: some replica had more outages than were kept; recovery times may be short")
    return "\n".join(lines)


def _change_points(result) -> str:
    """``0s 100% · 5m 0% · 6m30s 98%``: the steps where the entry's mean served fraction moves."""
    from hasim.text import duration

    tl = result.timeline()
    e = tl[tl["service"] == result.plan.original.entry]
    pts = []
    last = None
    for t, s in zip(e["time_h"], e["served"]):
        if last is None or abs(s - last) >= 0.01 or (s == 1.0) != (last == 1.0):
            pts.append((t, s))
            last = s
    if len(pts) > _TIMELINE_POINTS:
        pts = pts[: _TIMELINE_POINTS - 1] + [pts[-1]]
        shown = [f"{duration(t) if t > 0 else '0s'} {s:.0%}" for t, s in pts]
        shown.insert(-1, "...")
    else:
        shown = [f"{duration(t) if t > 0 else '0s'} {s:.0%}" for t, s in pts]
    return " · ".join(shown)
