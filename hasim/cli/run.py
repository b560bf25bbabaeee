"""``hasim run``: simulate scenarios, one after the other or as a batch into ``--out-dir``."""

from __future__ import annotations

import json
import sys

from hasim.text import percent, percents
from hasim.text import plural as _plural
from hasim.cli.common import (EXIT_ERROR, EXIT_INVALID, EXIT_OK, _dask_client, _has_parquet, _run_options,
                              _show_progress, _table_out_ok, _worse)
from hasim.cli.report import _write_run_report
from hasim.cli.tables import _describe_client, format_results


def _run(args) -> int:
    prog = "hasim run"
    if getattr(args, "rare_event", False):
        return _run_rare(args, prog)
    if not _table_out_ok(args.out, prog):
        return EXIT_INVALID
    if args.resume and not args.out_dir:
        print(f"{prog}: --resume needs --out-dir (the folder whose results it checks)", file=sys.stderr)
        return EXIT_INVALID
    options = _run_options(args, prog)
    if options is None:
        return EXIT_INVALID
    horizon, scale = options
    if args.table_format == "parquet" and not _has_parquet():
        print(f"{prog}: --table-format parquet needs pyarrow (pip install pyarrow), or use csv", file=sys.stderr)
        return EXIT_INVALID
    from hasim.studies.batch import run_batch

    status, documents, missed = EXIT_OK, [], []
    tally: dict[str, list[str]] = {"ok": [], "skipped": [], "invalid": [], "failed": []}
    multiple = len(args.files) > 1
    with _dask_client(args.dask, prog) as client:
        where = _describe_client(client)
        outcomes = run_batch(args.files, args.out_dir, replicas=args.replicas, seed=args.seed, horizon=horizon,
                             engine=args.engine, client=client, resume=args.resume, table_format=args.table_format,
                             progress=_show_progress(args), compile_notice=not args.quiet, **scale)
        for outcome in outcomes:
            path = outcome.file
            tally[outcome.status].append(path)
            if outcome.status in ("invalid", "failed"):
                for line in outcome.messages:
                    print(line, file=sys.stderr)
                status = _worse(status, EXIT_INVALID if outcome.status == "invalid" else EXIT_ERROR)
                continue
            if outcome.status == "skipped":
                if not args.quiet:
                    print(f"{path}: up to date in {args.out_dir} (same scenario and options), skipped",
                          file=sys.stderr)
            elif not args.quiet:
                for written in outcome.written:
                    print(f"wrote {written}", file=sys.stderr)
            slo = outcome.slo
            if slo is not None and slo["status"] != "met":  # the gate passes proven designs only
                missed.append((path, slo))
            result, sc = outcome.result, outcome.scenario
            if result is None:  # skipped: the stored result stands for it
                if args.json:
                    documents.append(outcome.document)
                elif not args.quiet:
                    print(_stored_headline(outcome.document))
                continue
            if args.out:
                try:
                    for written in write_tables(result, args.out, multiple=multiple):
                        if not args.quiet:
                            print(f"wrote {written}", file=sys.stderr)
                except OSError as exc:
                    print(f"{path}: cannot write {args.out}: {exc}", file=sys.stderr)
                    status = _worse(status, EXIT_ERROR)
            if args.report:
                try:
                    target = _report_path(args.report, sc.name, multiple=multiple)
                    _write_run_report(result, sc, path, target, args)
                except (OSError, NotImplementedError) as exc:
                    print(f"{path}: report: {exc}", file=sys.stderr)
                    status = _worse(status, EXIT_ERROR)
                else:
                    if not args.quiet:
                        print(f"wrote {target}", file=sys.stderr)
            if args.json:
                documents.append(outcome.document if args.out_dir else result.to_dict())
            else:
                print(format_results(result, quiet=args.quiet, where=where))
    if args.json and documents:
        single = len(documents) == 1 and len(args.files) == 1
        print(json.dumps(documents[0] if single else documents, indent=2, allow_nan=False))
    if args.fail_under_slo and missed:
        for path, slo in missed:
            print(f"{path}: {_gate_line(slo)}", file=sys.stderr)
        status = _worse(status, EXIT_ERROR)
    if multiple and not args.quiet:
        print(_batch_tally(tally, missed if args.fail_under_slo else []), file=sys.stderr)
    return status


def _gate_line(slo: dict) -> str:
    """Why ``--fail-under-slo`` fails a design: its verdict and the estimate behind it."""
    mean, lo, hi = percents(slo["mean"], *slo["ci95"])
    estimate = f"request availability {mean}"
    if slo["status"] == "not-met":
        return f"SLO {slo['slo']:g} % missed: {estimate} [{lo}, {hi}]"
    if slo["status"] == "too-close":
        return (f"SLO {slo['slo']:g} % not shown to be met, too close to call: {estimate} "
                f"[{lo}, {hi}] straddles it" + (f"; {slo['advice']}" if slo.get("advice") else ""))
    return (f"SLO {slo['slo']:g} % not shown to be met, insufficient evidence: {slo['reason']}"
            + (f"; {slo['advice']}" if slo.get("advice") else ""))


def _stored_headline(document: dict) -> str:
    """One line for a result read back from ``--out-dir`` (``--resume``)."""
    ra = document["metrics"]["request_availability"]
    lo, hi = ra["ci95"]
    interval = ("no outage observed" if document.get("outages") == 0 or lo == hi
                else "[{1}, {2}]".format(*percents(ra["mean"], lo, hi)))
    return (f"{document['scenario']}: {_plural(document['replicas'], 'replica')} x "
            f"{document['horizon_hours'] / 8760:g} y, seed {document['seed']} (stored)  request availability "
            f"{percent(ra['mean'])} {interval}")


def _batch_tally(tally: dict[str, list[str]], missed: list) -> str:
    """The last line of a batch: how many scenarios ran, were skipped, invalid or failed."""
    parts = [f"{len(tally['ok'])} ran"]
    if tally["skipped"]:
        parts.append(f"{len(tally['skipped'])} up to date (skipped)")
    for kind in ("invalid", "failed"):
        if tally[kind]:
            parts.append(f"{len(tally[kind])} {kind}: " + ", ".join(tally[kind]))
    failed = [p for p, v in missed if v["status"] == "not-met"]
    unproven = [p for p, v in missed if v["status"] != "not-met"]
    if failed:
        parts.append(f"{len(failed)} missed the SLO: " + ", ".join(failed))
    if unproven:
        parts.append(f"{len(unproven)} not shown to meet the SLO (too close or insufficient evidence): "
                     + ", ".join(unproven))
    total = sum(len(v) for v in tally.values())
    return f"hasim run: {total} scenarios: " + "; ".join(parts)


def write_tables(result, out: str, multiple: bool = False) -> list[str]:
    """Write summary, replicas and windows next to ``out`` (by its extension).

    Parameters
    ----------
    result : Results
        One simulation.
    out : str
        ``PATH.parquet`` or ``PATH.csv``: the tables go to ``PATH.summary.parquet``, ...
    multiple : bool
        Several scenarios share ``out``: the scenario name goes into each file name.

    Returns
    -------
    list of str
        The paths written.
    """
    from pathlib import Path

    from hasim.studies.batch import write_frame

    path = Path(out)
    suffix = path.suffix
    stem = path.with_suffix("")
    if multiple:
        stem = stem.with_name(f"{stem.name}.{result.scenario}")
    written = []
    for table_name in ("summary", "replicas", "windows"):
        frame = getattr(result, table_name)
        target = stem.with_name(f"{stem.name}.{table_name}{suffix}")
        write_frame(frame, target)  # atomic: a crash never leaves a half-written table
        written.append(str(target))
    return written


def _report_path(option: str, name: str, multiple: bool):
    """Where ``run --report PATH`` writes the report of scenario ``name``."""
    from pathlib import Path

    path = Path(option)
    if path.is_dir() or option.endswith(("/", "\\")) or (multiple and path.suffix.lower() not in (".html", ".htm")):
        return path / f"{name}.html"
    if multiple:
        return path.with_name(f"{path.stem}.{name}{path.suffix}")
    return path


def _run_rare(args, prog: str) -> int:
    """``hasim run --rare-event``: importance splitting for each file (:func:`hasim.sim.rare.simulate_splitting`)."""
    from hasim.model.io import load
    from hasim.errors import ScenarioError
    from hasim.sim.engine import simulate

    clash = [flag for flag, given in (("--out-dir", args.out_dir), ("--precision", args.precision),
                                      ("--dask", args.dask), ("--warmup", args.warmup), ("--out", args.out),
                                      ("--report", args.report), ("--engine simpy", args.engine == "simpy"))
             if given]
    if clash:
        print(f"{prog}: --rare-event runs on its own: drop {', '.join(clash)}", file=sys.stderr)
        return EXIT_INVALID
    options = _run_options(args, prog)
    if options is None:
        return EXIT_INVALID
    horizon, _ = options
    status, documents = EXIT_OK, []
    for path in args.files:
        try:
            sc = load(path)
            result = simulate(sc, replicas=args.replicas, seed=args.seed, horizon=horizon, method="splitting")
        except ScenarioError as exc:
            print("\n".join(exc.lines()), file=sys.stderr)
            status = _worse(status, EXIT_INVALID)
            continue
        except ValueError as exc:
            print(f"{path}: --rare-event: {exc}", file=sys.stderr)
            status = _worse(status, EXIT_INVALID)
            continue
        if args.json:
            documents.append(result.to_dict())
            continue
        print(format_rare(result, quiet=args.quiet))
        v = result.slo_verdict() if result.slo is not None else None
        if args.fail_under_slo and v is not None and v["status"] != "met":
            status = _worse(status, EXIT_ERROR)
    if args.json:
        print(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2, allow_nan=False))
    return status


def format_rare(r, quiet: bool = False) -> str:
    """The text summary of a rare-event run."""
    from hasim.text import minutes, nines_text, rate
    from hasim.cli.tables import verdict_text

    years = r.horizon / 8760.0
    ra, ta = r.metric("request_availability"), r.metric("time_availability")
    down, out = r.metric("downtime_minutes_per_year"), r.metric("outages_per_year")
    lines = [f"{r.scenario}: {_plural(r.n_replicas, 'replica')} x {years:g} y, seed {r.seed}, importance splitting "
             f"(RESTART, retrials {r.splits[1:]} per level), simulated in {r.elapsed_seconds:.2f} s "
             f"({r.events / 1e6:.3g} M events)", ""]
    for label, m in (("request availability", ra), ("time availability   ", ta)):
        if None in m["ci95"]:
            lines.append(f"  {label}  {percent(m['mean'])}  (no interval)")
        else:
            mean, lo, hi = percents(m["mean"], *m["ci95"])
            lines.append(f"  {label}  {mean}  [{lo}, {hi}]" + (f"  {nines_text(m['mean'])}" if m is ra else ""))
    if None not in down["ci95"]:
        lines.append(f"  downtime              {minutes(down['mean'])}/year  [{minutes(down['ci95'][0])}, "
                     f"{minutes(down['ci95'][1])}]")
    lines.append(f"  outages               {rate(out['mean'])}/year  ({_plural(r.total_outages, 'visit')} to the "
                 "outage over all trials)")
    if r.slo is not None:
        words, advice = verdict_text(r.slo_verdict(), r.n_replicas, years)
        lines.append(f"  {f'SLO {r.slo:g} %':<20}  {words}")
    return "\n".join(lines)
