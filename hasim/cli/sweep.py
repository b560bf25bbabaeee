"""``hasim sweep``: one design over a grid of parameter values, with common random numbers."""

from __future__ import annotations

import json
import math
import sys

from hasim.text import minutes, percents
from hasim.cli.common import (EXIT_ERROR, EXIT_INVALID, EXIT_OK, _dask_client, _has_parquet, _load_all,
                              _run_options, _show_progress, _table_out_ok, _window_fits)
from hasim.cli.tables import _describe_client, _on, _seconds, table


def _sweep(args) -> int:
    from hasim.errors import ScenarioError
    from hasim.studies.sweep import run_points, sweep_points

    prog = "hasim sweep"
    if not _table_out_ok(args.out, prog):
        return EXIT_INVALID
    if args.out and args.out.endswith(".parquet") and not _has_parquet():
        print(f"{prog}: --out: writing .parquet needs pyarrow (pip install pyarrow); or use .csv", file=sys.stderr)
        return EXIT_INVALID
    options = _run_options(args, prog)
    if options is None:
        return EXIT_INVALID
    horizon, scale = options
    grid: dict[str, list] = {}
    for path, values in args.sets:
        if path in grid:
            print(f"{prog}: --set: {path} given twice; list all its values in one --set", file=sys.stderr)
            return EXIT_INVALID
        grid[path] = values
    (path, sc), = list(_load_all([args.file]))
    if sc is None or not _window_fits(path, sc, horizon):
        return EXIT_INVALID
    try:
        paths, points = sweep_points(sc, grid, zip=args.zip, source=path)
    except ScenarioError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        return EXIT_INVALID
    bar = None
    if _show_progress(args):
        from hasim.sim.engine import progress_bar

        bar = progress_bar(len(points), sc.name, unit="point")
    try:
        with _dask_client(args.dask, prog) as client:
            where = _describe_client(client)
            frame = run_points(sc, paths, points, replicas=args.replicas, seed=args.seed, zip=args.zip,
                               engine=args.engine, horizon=horizon, client=client,
                               progress=(lambda done, total: bar.update(1)) if bar is not None else None,
                               compile_notice=not args.quiet, **scale)
        if where:
            frame.attrs["cluster"] = where
    except (NotImplementedError, ValueError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        if bar is not None:
            bar.close()
    status = EXIT_OK
    if args.out:
        from hasim.studies.batch import write_frame

        try:
            write_frame(frame, args.out)
        except (OSError, ImportError, ValueError) as exc:
            print(f"{prog}: cannot write {args.out}: {exc}", file=sys.stderr)
            status = EXIT_ERROR
        else:
            if not args.quiet:
                print(f"wrote {args.out}", file=sys.stderr)
    if args.json:
        print(json.dumps(sweep_document(frame), indent=2, allow_nan=False))
    else:
        print(format_sweep(frame, quiet=args.quiet))
    return status


def sweep_document(frame) -> dict:
    """The ``hasim sweep --json`` object: the settings (``frame.attrs``) and ``rows``, one object per row.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`hasim.studies.sweep.run_points` of the grid.

    Returns
    -------
    dict
        JSON-ready: numpy scalars as Python numbers, NaN and infinities as None.
    """
    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if hasattr(value, "item"):  # numpy scalars
            return clean(value.item())
        return value

    doc = {k: clean(v) if not isinstance(v, list) else v for k, v in frame.attrs.items()}
    doc["rows"] = [{k: clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
    return doc


def format_sweep(frame, quiet: bool = False) -> str:
    """The text table of ``hasim sweep``: one row per combination, the set values first.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`hasim.studies.sweep.run_points` of the grid.
    quiet : bool
        No header, only the table.

    Returns
    -------
    str
        The lines, without a trailing newline.
    """
    a = frame.attrs
    paths = list(a.get("columns", a.get("paths", [])))
    n = len(frame)
    lines = []
    if not quiet:
        reps = sorted(set(int(x) for x in frame["replicas"])) if n else []
        reps_text = f"{reps[0]}" if len(reps) == 1 else (f"{reps[0]}-{reps[-1]}" if reps else "0")
        shape = (" (paired lists)" if a.get("zip") else
                 " (" + " x ".join(str(frame[p].nunique()) for p in paths) + " grid)" if len(paths) > 1 else "")
        years = "" if "horizon" in a.get("paths", []) else f" x {a.get('horizon_hours', 0) / 8760:g} y"
        lines += [f"{a.get('scenario')}: sweep of {n} point{'s' if n != 1 else ''}{shape}, {reps_text} replicas"
                  f"{years} each, seed {a.get('seed')} (common random numbers), "
                  f"{a.get('engine')} engine{_on(a.get('cluster'))}, {_sweep_time(a)}", ""]
    slos = sorted(set(float(x) for x in frame["slo"] if x == x)) if n else []
    varying_reps = n and frame["replicas"].nunique() > 1
    header = paths + (["replicas"] if varying_reps else []) + [
        "request availability [95 % CI]", "downtime/year [95 % CI]", "P(window breach)"]
    if slos:
        header.append(f"SLO {slos[0]:g} %" if len(slos) == 1 else "SLO")
    if "precision_reached" in frame.columns:
        header.append("precision")
    rows = []
    for rec in frame.to_dict(orient="records"):
        row = [str(rec[p]) for p in paths]
        if varying_reps:
            row.append(str(rec["replicas"]))
        ra, lo, hi = percents(*(rec[k] for k in ("request_availability", "request_availability_ci_low",
                                                 "request_availability_ci_high")))
        row.append(f"{ra} [{lo}, {hi}]")
        row.append(f"{minutes(max(rec['downtime_minutes_per_year'], 0))} "
                   f"[{minutes(max(rec['downtime_minutes_per_year_ci_low'], 0))}, "
                   f"{minutes(max(rec['downtime_minutes_per_year_ci_high'], 0))}]")
        row.append(f"{100 * rec['p_window_breach']:.2f} %")
        if slos:
            verdict = {"missed": "NOT met", "uncertain": "too close",
                       "insufficient-evidence": "insufficient evidence"}.get(rec["slo_verdict"], rec["slo_verdict"])
            if rec["slo"] != rec["slo"]:
                verdict = "-"
            row.append(verdict if len(slos) == 1 else f"{rec['slo']:g} %: {verdict}")
        if "precision_reached" in frame.columns:
            reached = rec.get("precision_reached")
            row.append("reached" if reached else (rec.get("stop_reason") or "not reached"))
        rows.append(row)
    lines.append(table(rows, header))
    return "\n".join(lines)


def _sweep_time(attrs: dict) -> str:
    """The sweep header's time: simulation and kernel compilation apart."""
    elapsed = attrs.get("elapsed_seconds", math.nan)
    compile_s = attrs.get("compile_seconds") or 0.0
    text = f"simulated in {_seconds(elapsed - compile_s)}"
    if compile_s > 0:
        text += f" (+ {_seconds(compile_s)} compiling the numba kernel, once per machine)"
    return text
