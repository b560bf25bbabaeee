"""The ``hasim`` command line.

Exit codes: 0 success, 2 invalid input (a scenario or an option), 1 anything else, including
``run --fail-under-slo`` for a design whose SLO is not shown to be met (not met, too close to call,
or insufficient evidence).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from contextlib import contextmanager
from typing import Sequence

from hasim.text import interval_digits, minutes, nines_text, percent, percents
from hasim.text import plural as _plural
from hasim.text import rate as _rate
from hasim._version import __version__
from hasim.units import format_duration

EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2
#: What the --help of every command says about exit codes.
_EXIT_CODES = "exit codes: 0 success, 1 failure, 2 invalid input (a scenario file or an option)"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse exits with 2 already; keep its wording short
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="hasim", description="Monte Carlo availability simulation for IT architectures.",
                epilog=_EXIT_CODES + "; 'hasim run --fail-under-slo' exits 1 unless every SLO verdict is 'met'")
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
                                   "confidence intervals, SLA tiers, monthly breach odds and top causes.",
                       epilog="SLO verdicts: 'met' (the whole 95 % interval at or above the slo, from at least "
                              "3 observed outages), 'NOT met' (all below), 'too close to call' (the interval "
                              "straddles the slo), 'insufficient evidence' (fewer than 3 outages: the run prints "
                              "how many replicas would decide). " + _EXIT_CODES.replace("%", "%%")
                              + "; with --fail-under-slo, 1 also when any verdict is not 'met'.")
    r.add_argument("files", nargs="+", metavar="FILE")
    _add_run_options(r)
    r.add_argument("--json", action="store_true", help="print the results as JSON (a list for several files)")
    r.add_argument("--out", metavar="PATH", help="write summary, replicas and windows tables next to PATH "
                                                  "(.parquet or .csv: PATH.summary.parquet, ...)")
    r.add_argument("-q", "--quiet", action="store_true", help="no progress bar, only the headline")
    r.add_argument("--report", metavar="PATH", help="also write the HTML review report of each run (for several "
                                                     "files PATH is a folder, or gets the scenario name appended)")
    r.add_argument("--out-dir", metavar="DIR", help="batch mode: write each scenario's results to DIR as soon as "
                                                     "it finishes, atomically (NAME.result.json and "
                                                     "NAME.{summary,replicas,windows,attribution}.csv, NAME the "
                                                     "file's stem); a failing scenario is reported and the others "
                                                     "go on")
    r.add_argument("--table-format", choices=["csv", "parquet"], default="csv",
                   help="format of the --out-dir tables (default csv)")
    r.add_argument("--resume", action="store_true", help="with --out-dir: skip scenarios whose results in DIR "
                                                          "are for the same scenario content and options")
    r.add_argument("--fail-under-slo", action="store_true",
                   help="exit 1 unless every design with an slo is shown to meet it (for CI pipelines): a verdict "
                        "of NOT met, too close to call or insufficient evidence fails, naming the design")
    _add_scale_options(r)
    _add_sweep_parser(sub)
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
    _add_run_options(rp)
    rp.add_argument("--sensitivity-replicas", type=_positive_int, metavar="N",
                    help="replicas per sensitivity variant (default max(200, replicas // 4))")
    rp.add_argument("--no-sensitivity", action="store_true", help="skip the sensitivity runs (faster)")
    rp.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    _add_scale_options(rp)

    c = sub.add_parser("compare", help="compare designs with common random numbers",
                       description="Simulate two or more designs with the same seed, replicas and horizon and print "
                                   "each measure side by side with its difference to the first design and a "
                                   "paired 95 % confidence interval.")
    c.add_argument("files", nargs="+", metavar="FILE", help="the designs; the first is the reference")
    _add_run_options(c, replicas="replicas of every run (default: the first design's)",
                     seed="seed of every run (default: the first design's)",
                     horizon="horizon of every run, e.g. 10y")
    c.add_argument("--report", metavar="PATH", help="also write an HTML comparison report")
    c.add_argument("--json", action="store_true", help="print the comparison as JSON")
    c.add_argument("-q", "--quiet", action="store_true", help="only the summary sentences")


def _add_run_options(parser, *, replicas: str = "override the scenario's replicas",
                     seed: str = "override the scenario's seed",
                     horizon: str = "override the horizon, e.g. 10y") -> None:
    """--replicas, --seed, --horizon and --engine: the options of every command that simulates."""
    parser.add_argument("--replicas", type=_positive_int, metavar="N", help=replicas)
    parser.add_argument("--seed", type=_non_negative_int, metavar="S", help=seed)
    parser.add_argument("--horizon", metavar="D", help=horizon)
    parser.add_argument("--engine", default="numba", choices=["numba", "simpy"], help="simulator (default numba)")


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
                "compare": _compare, "sweep": _sweep}[args.command](args)
    except _Exit as exc:
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK


def _load_all(files: Sequence[str]):
    """Load every file; yield (file, scenario or None), printing problems to stderr."""
    from hasim.errors import ScenarioError
    from hasim.model.io import load

    for path in files:
        try:
            yield path, load(path)
        except ScenarioError as exc:
            for line in exc.lines():
                print(line, file=sys.stderr)
            yield path, None


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


def _run(args) -> int:
    prog = "hasim run"
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


def _show_progress(args) -> bool:
    """A progress bar on stderr: only for a person watching a terminal, and never with --quiet."""
    return not args.quiet and sys.stderr.isatty()


def _describe_client(client) -> str | None:
    """``Dask tcp://10.0.0.5:8786, 4 workers, 8 threads`` for a run header (None without Dask)."""
    if client is None:
        return None
    try:
        address = client.scheduler.address
        threads = client.nthreads()
    except Exception:  # noqa: BLE001 - a header must not fail a run that worked
        return "Dask"
    return (f"Dask {address}, {_plural(len(threads), 'worker')}, "
            f"{_plural(sum(threads.values()), 'thread')}")


def _on(where: str | None) -> str:
    return f" on {where}" if where else ""


def _sweep_time(attrs: dict) -> str:
    """The sweep header's time: simulation and kernel compilation apart."""
    elapsed = attrs.get("elapsed_seconds", math.nan)
    compile_s = attrs.get("compile_seconds") or 0.0
    text = f"simulated in {_seconds(elapsed - compile_s)}"
    if compile_s > 0:
        text += f" (+ {_seconds(compile_s)} compiling the numba kernel, once per machine)"
    return text


def _worse(status: int, new: int) -> int:
    """Combine exit codes: invalid input (2) outranks a failure (1), which outranks success."""
    if EXIT_INVALID in (status, new):
        return EXIT_INVALID
    return max(status, new)


def _stored_headline(document: dict) -> str:
    """One line for a result read back from ``--out-dir`` (``--resume``)."""
    ra = document["metrics"]["request_availability"]
    lo, hi = ra["ci95"]
    interval = ("no outage observed" if document.get("outages") == 0 or lo == hi
                else "[{1}, {2}]".format(*percents(ra["mean"], lo, hi)))
    return (f"{document['scenario']}: {_plural(document['replicas'], 'replica')} x "
            f"{document['horizon_hours'] / 8760:g} y, seed {document['seed']} (stored)  request availability "
            f"{percent(ra['mean'])} {interval}")


def _has_parquet() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


# --- scale-out options: precision targets and Dask -------------------------------------------------


def _precision(text: str) -> float:
    """``--precision``: ``5%`` or ``0.05`` -> 0.05 (a relative CI half-width in (0, 1))."""
    raw = text.strip()
    try:
        value = float(raw[:-1].strip()) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a relative precision like '5%' or 0.05, got {text!r}") from None
    if not 0.0 < value < 1.0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a relative precision between 0 and 100 % (like '5%' or 0.05), "
                                         f"got {text!r}")
    return value


def _add_scale_options(parser) -> None:
    parser.add_argument("--precision", type=_precision, metavar="P",
                        help="run replicas in batches until the 95 %% CI half-width of the unavailability is "
                             "within P of it: '5%%' or 0.05 (instead of a fixed count)")
    parser.add_argument("--max-replicas", type=_positive_int, metavar="N",
                        help="with --precision: stop at N replicas (reported if the precision is not reached)")
    parser.add_argument("--dask", metavar="SPEC",
                        help="run on Dask: 'local' or 'local:N' (a LocalCluster of N workers) or "
                             "'tcp://host:8786' (an existing scheduler); same numbers as a local run")


def _scale_options(args, prog: str) -> dict:
    """``precision`` / ``max_replicas`` keyword arguments of ``simulate``; ValueError for bad combinations."""
    if args.max_replicas is not None and args.precision is None:
        raise ValueError(f"{prog}: --max-replicas: only applies with --precision")
    out = {}
    if args.precision is not None:
        out["precision"] = args.precision
    if args.max_replicas is not None:
        out["max_replicas"] = args.max_replicas
    return out


def _run_options(args, prog: str):
    """``(horizon hours or None, scale keywords)`` of --horizon, --precision and --max-replicas, as
    ``run``, ``sweep`` and ``report`` take them; None after printing what is wrong."""
    try:
        return _horizon_option(args.horizon, prog), _scale_options(args, prog)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return None


def _table_out_ok(out: str | None, prog: str) -> bool:
    """Whether --out (if given) names a table file hasim writes; says why not otherwise."""
    if out and not out.endswith((".parquet", ".csv")):
        print(f"{prog}: --out: expected a path ending in .parquet or .csv, got {out!r}", file=sys.stderr)
        return False
    return True


class _Exit(Exception):
    """Leave a command with an exit code (its message is already printed)."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


@contextmanager
def _dask_client(spec: str | None, prog: str):
    """Yield a Dask client for ``--dask SPEC`` (None without it) from :func:`hasim.sim.cluster.connect`.

    Raises
    ------
    _Exit
        With 2 for a malformed SPEC, 1 when Dask is missing or the scheduler cannot be reached.
    """
    if spec is None:
        yield None
        return
    try:
        from hasim.sim.cluster import connect
    except ImportError as exc:
        print(f"{prog}: --dask: Dask support is not available ({exc}); pip install 'dask[distributed]'",
              file=sys.stderr)
        raise _Exit(EXIT_ERROR) from None
    try:
        manager = connect(spec)
        client = manager.__enter__()
    except ValueError as exc:
        print(f"{prog}: --dask: {exc}", file=sys.stderr)
        raise _Exit(EXIT_INVALID) from None
    except (OSError, TimeoutError) as exc:
        print(f"{prog}: --dask {spec}: cannot start or reach the cluster: {exc}", file=sys.stderr)
        raise _Exit(EXIT_ERROR) from None
    try:
        yield client
    except BaseException:
        if not manager.__exit__(*sys.exc_info()):
            raise
    else:
        manager.__exit__(None, None, None)


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


# --- sweeps ------------------------------------------------------------------------------------------


def _add_sweep_parser(sub) -> None:
    s = sub.add_parser("sweep", help="simulate a design over a grid of parameter values",
                       description="Simulate a scenario at every combination of the --set values (the full grid, "
                                   "or paired lists with --zip), all with the same seed (common random numbers), "
                                   "and print one row per combination with every measure and its 95 % confidence "
                                   "interval. Every combination is validated before anything runs.")
    s.add_argument("file", metavar="FILE")
    s.add_argument("--set", dest="sets", action="append", type=_set_option, required=True,
                   metavar="PATH=V1,V2,...", help="a dotted key path and its values, e.g. "
                                                  "services.api.replicas=2,3,4 or "
                                                  "services.db.failover.detection=10s,30s (repeatable)")
    s.add_argument("--zip", action="store_true", help="pair the --set lists element by element (equal lengths) "
                                                      "instead of the full grid")
    _add_run_options(s, replicas="replicas per combination (default: the scenario's)",
                     seed="seed of every combination (default: the scenario's)")
    s.add_argument("--out", metavar="PATH", help="write the table to PATH (.parquet or .csv), atomically")
    s.add_argument("--json", action="store_true", help="print the table as JSON (settings and one object per row)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar and no header, only the table")
    _add_scale_options(s)


def _set_option(text: str) -> tuple[str, list]:
    """``--set PATH=V1,V2``: the path and its values, each read as a YAML scalar (2, 0.98, true, 30s)."""
    import yaml

    path, sep, rest = text.partition("=")
    path = path.strip()
    if not sep or not path or any(not k for k in path.split(".")):
        raise argparse.ArgumentTypeError(f"expected PATH=V1,V2,... like services.api.replicas=2,3,4, got {text!r}")
    values = []
    for item in rest.split(","):
        item = item.strip()
        if not item:
            raise argparse.ArgumentTypeError(f"{path}: empty value in {text!r}")
        try:
            value = yaml.safe_load(item)
        except yaml.YAMLError:
            value = item
        values.append(item if value is None else value)
    return path, values


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
    """The ``hasim sweep --json`` object: the settings (``frame.attrs``) and ``rows``, one object per row."""
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
    """The text table of ``hasim sweep``: one row per combination, the set values first."""
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


# --- reports and comparisons ---------------------------------------------------------------------


def _command_line(args) -> str:
    import shlex

    return "hasim " + shlex.join(args.argv)


def _window_fits(path: str, sc, horizon: float | None) -> bool:
    """Whether the SLO window fits in the --horizon override (the file's own horizon is checked
    when it is loaded); says why not otherwise."""
    from hasim.model.scenario import window_problem

    problem = horizon is not None and window_problem(horizon, sc.window, window_given="window" in sc.model_fields_set)
    if problem:
        print(f"{path}: --horizon: {problem}", file=sys.stderr)
    return not problem


def _horizon_option(text: str | None, prog: str):
    """The --horizon value in hours; raises ValueError with the message to print."""
    if text is None:
        return None
    from hasim.units import parse_duration

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
    from hasim.present.report import write_report

    frame = None
    if compute_sensitivity and _show_progress(args):
        # Most of a report's time goes into the sensitivity runs: run them here, where a bar can show
        # them, with the settings the report would use.
        from hasim.sim.engine import progress_bar
        from hasim.studies.sensitivity import default_replicas, sensitivity

        bar = progress_bar(1, f"{scenario.name} sensitivity", unit="run")

        def advance(done: int, total: int) -> None:
            bar.total = total
            bar.update(done - bar.n)

        try:
            frame = sensitivity(scenario, replicas=default_replicas(scenario, sensitivity_replicas), seed=result.seed,
                                horizon=result.horizon, engine=result.engine, progress=advance)
        finally:
            bar.close()
    return write_report(result, scenario, target, command=_command_line(args), source_text=_source_text(source),
                        sensitivity=frame, compute_sensitivity=compute_sensitivity,
                        sensitivity_replicas=sensitivity_replicas)


def _report(args) -> int:
    from hasim.sim.engine import simulate

    options = _run_options(args, "hasim report")
    if options is None:
        return EXIT_INVALID
    horizon, scale = options
    (path, sc), = list(_load_all([args.file]))
    if sc is None or not _window_fits(path, sc, horizon):
        return EXIT_INVALID
    from pathlib import Path

    target = Path(args.out) if args.out else Path("reports") / f"{sc.name}.html"
    if target.is_dir():
        target = target / f"{sc.name}.html"
    try:
        with _dask_client(args.dask, "hasim report") as client:
            if client is not None:
                scale["client"] = client
            where = _describe_client(client)
            result = simulate(sc, replicas=args.replicas, seed=args.seed, horizon=horizon, engine=args.engine,
                              progress=_show_progress(args), compile_notice=not args.quiet, **scale)
        _write_run_report(result, sc, path, target, args, compute_sensitivity=not args.no_sensitivity,
                          sensitivity_replicas=args.sensitivity_replicas)
    except (NotImplementedError, ValueError) as exc:
        print(f"{path}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"hasim report: cannot write {target}: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if not args.quiet:
        print(format_results(result, quiet=True, where=where))
        print(f"wrote {target}")
    return EXIT_OK


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


def format_results(result, quiet: bool = False, where: str | None = None) -> str:
    """The text summary of ``hasim run`` (``where``: the Dask cluster it ran on, for the header)."""
    r = result
    ra, ta = r.metric("request_availability"), r.metric("time_availability")
    down = r.metric("downtime_minutes_per_year")
    years = r.horizon / 8760.0
    lines = [f"{r.scenario}: {_plural(r.n_replicas, 'replica')} x {years:g} y, seed {r.seed}, {r.engine} engine"
             f"{_on(where)}, {run_time(r)} ({r.events / 1e6:.3g} M events)", ""]
    seen = r.total_outages
    if seen == 0:
        # Every replica is at 100 %: the interval would have zero width and look certain. It is not.
        lines.append(f"  request availability  {percent(ra['mean'])}  no outage observed in "
                     f"{_plural(r.n_replicas, 'replica')} x {years:g} y (no interval, no nines)")
        lines.append(f"  time availability     {percent(ta['mean'])}")
        lines.append(f"  downtime              {minutes(down['mean'])}/year")
    else:
        for label, m, tail in (("request availability", ra, f"  {nines_text(ra['mean'])}"),
                               ("time availability   ", ta, "")):
            digits = interval_digits(m["mean"], *m["ci95"]) if None not in m["ci95"] else None
            lines.append(f"  {label}  {percent(m['mean'], digits)}  {_interval(m, lambda x: percent(x, digits))}"
                         f"{tail}")
        lines.append(f"  downtime              {minutes(down['mean'])}/year  "
                     f"{_interval(down, lambda x: minutes(max(x, 0)))}")
    if r.slo is not None:
        v = r.slo_verdict()
        words, advice = verdict_text(v, r.n_replicas, years)
        lines.append(f"  {f'SLO {r.slo:g} %':<20}  {words}")
        if advice:
            lines.append(f"  {'':<20}  {advice}")
    breach = r.metric("p_window_breach")
    per_year = r.metric("breach_windows_per_year")
    fraction = lambda x: f"{100 * x:.2f} %"  # noqa: E731
    lines.append(f"  P(a {r.window:g} h window misses {r.slo_used:g} %)  {fraction(breach['mean'])}  "
                 + (f"{_interval(breach, fraction)}   " if seen else "")
                 + f"{_rate(per_year['mean'])} breach windows/year")
    outages = r.metric("outages_per_year")
    lines.append(f"  outages               {_rate(outages['mean'])}/year"
                 + (f", mean {minutes(r.metric('mean_outage_minutes')['mean'] or 0)}" if seen else "")
                 + f" ({_plural(seen, 'outage')} in all)")
    info = getattr(r, "precision_info", None)
    if info:
        lines.append("  " + precision_sentence(info, r.n_replicas))
    if quiet:
        return "\n".join(lines)
    lines.append("")
    lines.append(table([[f"{t['tier']:g} %", minutes(t["allowed_minutes_per_year"]), minutes(down["mean"]),
                         t["verdict"].replace("-", " ")] for t in r.tiers],
                       ["SLA tier", "allowed/year", "this design", "verdict"]))
    stages = getattr(r, "stages", None)
    shown = stages[stages["downtime_minutes_per_year"] > 0] if stages is not None else []
    if len(shown):
        lines.append("")
        lines.append(table([[row.stage, minutes(row.downtime_minutes_per_year),
                             f"[{minutes(max(row.ci_low, 0))}, {minutes(row.ci_high)}]", f"{100 * row.share:.1f} %"]
                            for row in shown.itertuples()], ["stage", "per year", "95 % CI", "share"]))
    att = r.attribution.head(8)
    if len(att):
        lines.append("")
        lines.append(table([[row.cause, minutes(row.downtime_minutes_per_year),
                             f"[{minutes(max(row.ci_low, 0))}, {minutes(row.ci_high)}]", f"{100 * row.share:.1f} %"]
                            for row in att.itertuples()],
                           ["top causes", "per year", "95 % CI", "share"]))
    return "\n".join(lines)


def precision_sentence(info: dict, replicas: int) -> str:
    """One line on a ``--precision`` run: whether the target was reached, and why it stopped."""
    rel = info.get("relative_half_width")
    achieved = f"{100 * rel:.3g} %" if rel is not None else "undefined"
    head = f"precision target {100 * info['target']:g} %"
    if info.get("reached"):
        return f"{head}: reached with {replicas} replicas (CI half-width {achieved} of the unavailability)"
    if info.get("stop_reason") == "max_replicas":
        return (f"{head}: NOT reached, stopped at the --max-replicas cap of {info.get('max_replicas')} "
                f"(CI half-width {achieved} of the unavailability)")
    if info.get("stop_reason") == "zero_unavailability":
        return f"{head}: undefined, no downtime in {replicas} replicas (stopped after the first batch)"
    return f"{head}: NOT reached ({info.get('stop_reason')}, {replicas} replicas, half-width {achieved})"


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not JSON serialisable: {value!r}")


# --- text formatting -------------------------------------------------------------------------


def _interval(metric: dict, fmt) -> str:
    """``[lo, hi]`` of a metric's 95 % CI, or a plain word when it has no width (nothing varied)."""
    lo, hi = metric["ci95"]
    if lo is None or hi is None:
        return "(no interval)"
    if lo == hi:
        return "(no spread between replicas: no interval)"
    return f"[{fmt(lo)}, {fmt(hi)}]"


def _seconds(t: float) -> str:
    if t < 10:
        return f"{t:.2f} s"
    if t < 120:
        return f"{t:.0f} s"
    return f"{int(t // 60)} min {int(t % 60):02d} s"


def run_time(result) -> str:
    """``simulated in 0.61 s`` and, when the kernel had to be compiled or loaded, that time apart."""
    text = f"simulated in {_seconds(result.elapsed_seconds)}"
    compile_s = getattr(result, "compile_seconds", math.nan)
    if compile_s is None or not math.isfinite(compile_s):
        return text
    # Loading from the cache takes about a second; tens of seconds mean numba compiled after all
    # (a cache written for another CPU or numba), whatever the cache index promised.
    if getattr(result, "kernel_compiled", False) or compile_s >= 20.0:
        return text + f" (+ {_seconds(compile_s)} compiling the numba kernel, once per machine)"
    if compile_s >= 1.0:
        return text + f" (+ {_seconds(compile_s)} loading the numba kernel)"
    return text


def verdict_text(v: dict, replicas: int | None = None, years: float | None = None) -> tuple[str, str]:
    """(the verdict in words, a second line of advice or "") of :func:`hasim.results.summary.slo_verdict`."""
    status, advice = v["status"], v.get("advice") or ""
    if status == "met":
        return "met", ""
    if status == "not-met":
        return "NOT met", ""
    if status == "too-close":
        return "too close to call (the CI straddles the target)", advice
    where = f" in {_plural(replicas, 'replica')} x {years:g} y" if replicas is not None and years is not None else ""
    outages = v.get("outages")
    if outages is None or replicas is not None and replicas < 2:
        seen = v["reason"]
    else:
        seen = ("no outage" if not outages else _plural(outages, "outage")) + \
            f" observed{where}, at least {v['min_outages']} needed"
    return f"insufficient evidence ({seen})", advice


def table(rows: list[list[str]], header: list[str], indent: str = "  ") -> str:
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = lambda r: indent + "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                                       for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([fmt(header), indent + "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])


def format_analysis(result, cut_sets: int = 10, quiet: bool = False) -> str:
    """The text report of ``hasim analyze``."""
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
    if r.optional:
        lines.append("")
        lines.append(table([[f"{o['service']} (for {o['used_by']})", percent(o["request_availability"])]
                            for o in r.optional], ["optional dependencies (not counted)", "request"]))
    if r.notes:
        lines.append("")
        lines.extend(f"  note: {note}" for note in r.notes)
    return "\n".join(lines)
