"""The ``hasim`` command line: the argument parser and :func:`main`, which hands each command to its module.

Exit codes: 0 success, 2 invalid input (a scenario or an option), 1 anything else, including
``run --fail-under-slo`` for a design whose SLO is not shown to be met (not met, too close to call,
or insufficient evidence).
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Sequence

from hasim._version import __version__
from hasim.cli.analyze import _analyze, _validate
from hasim.cli.chaos import _chaos
from hasim.cli.common import EXIT_ERROR, EXIT_INVALID, EXIT_OK, _Exit
from hasim.cli.compare import _compare
from hasim.cli.report import _report
from hasim.cli.run import _run
from hasim.cli.sweep import _sweep
from hasim.results.estimate import MIN_OUTAGES


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
                              f"{MIN_OUTAGES} observed outages), 'NOT met' (all below), 'too close to call' (the "
                              f"interval straddles the slo), 'insufficient evidence' (fewer than {MIN_OUTAGES} "
                              "outages: the run prints how many replicas would decide). " + _EXIT_CODES.replace("%", "%%")
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
    r.add_argument("--rare-event", action="store_true",
                   help="estimate the unavailability by importance splitting (RESTART): for designs beyond five "
                        "nines built of active k-of-n pools, where plain Monte Carlo sees no outage")
    r.add_argument("--warmup", metavar="D",
                   help="simulate D (e.g. 10y) before the measured horizon, so the figures are those of a design "
                        "that has been running, not of one whose every part is new (default: from new)")
    _add_sweep_parser(sub)
    _add_report_parsers(sub)
    _add_chaos_parser(sub)
    return p


def _add_chaos_parser(sub) -> None:
    ch = sub.add_parser("chaos", help="run chaos experiments (fault injection) in simulation",
                        description="Inject each experiment file's faults (kill instances, take a zone or a "
                                    "service down, slow a dependency past its callers' timeouts, make a failover "
                                    "fail) into the scenario and print the time to detect, to recover and to "
                                    "full health with 95 %% confidence intervals over replicas, the requests lost "
                                    "by stage, the entry's timeline and every expectation the file states.",
                        epilog="exit codes: 0 every expectation held, 1 an expectation was missed (the line "
                               "says which, in what share of replicas), 2 invalid input (a scenario, an "
                               "experiment file or an option)")
    ch.add_argument("scenario", metavar="SCENARIO")
    ch.add_argument("experiments", nargs="+", metavar="EXPERIMENT", help="experiment files (YAML)")
    ch.add_argument("--replicas", type=_positive_int, metavar="N", help="override the experiment's replicas")
    ch.add_argument("--seed", type=_non_negative_int, metavar="S", help="override the seed")
    ch.add_argument("--engine", default="numba", choices=["numba", "simpy"], help="simulator (default numba)")
    ch.add_argument("--json", action="store_true", help="print the results as JSON (a list for several files)")
    ch.add_argument("--plot", metavar="PATH", help="write the timeline chart as PNG (for several experiments "
                                                   "PATH is a folder: PATH/NAME.png)")
    ch.add_argument("-q", "--quiet", action="store_true", help="only the verdict and the expectations")


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
    rp.add_argument("--chaos", nargs="+", metavar="EXPERIMENT", default=[],
                    help="also run these chaos experiment files on the design (same engine) and show them under "
                         "'Fault experiments'")
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


def _add_run_options(parser, *, replicas: str = "override the scenario's replicas",
                     seed: str = "override the scenario's seed",
                     horizon: str = "override the horizon, e.g. 10y") -> None:
    """--replicas, --seed, --horizon and --engine: the options of every command that simulates."""
    parser.add_argument("--replicas", type=_positive_int, metavar="N", help=replicas)
    parser.add_argument("--seed", type=_non_negative_int, metavar="S", help=seed)
    parser.add_argument("--horizon", metavar="D", help=horizon)
    parser.add_argument("--engine", default="numba", choices=["numba", "simpy"], help="simulator (default numba)")


def _add_scale_options(parser) -> None:
    parser.add_argument("--precision", type=_precision, metavar="P",
                        help="run replicas in batches until the 95 %% CI half-width of the unavailability is "
                             "within P of it: '5%%' or 0.05 (instead of a fixed count)")
    parser.add_argument("--max-replicas", type=_positive_int, metavar="N",
                        help="with --precision: stop at N replicas (reported if the precision is not reached)")
    parser.add_argument("--dask", metavar="SPEC",
                        help="run on Dask: 'local' or 'local:N' (a LocalCluster of N workers) or "
                             "'tcp://host:8786' (an existing scheduler); same numbers as a local run")


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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hasim`` console script.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after ``hasim`` (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit code: 0 success, 1 failure, 2 invalid input (argparse's own errors exit 2 too).
    """
    args = _parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return {"validate": _validate, "analyze": _analyze, "run": _run, "report": _report,
                "compare": _compare, "sweep": _sweep, "chaos": _chaos}[args.command](args)
    except _Exit as exc:
        return exc.code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        return EXIT_OK
