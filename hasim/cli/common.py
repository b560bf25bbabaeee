"""What every command shares: exit codes, loading scenarios, the run options' checks, Dask."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Sequence


EXIT_OK, EXIT_ERROR, EXIT_INVALID = 0, 1, 2


class _Exit(Exception):
    """Leave a command with an exit code (its message is already printed)."""

    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


def _worse(status: int, new: int) -> int:
    """Combine exit codes: invalid input (2) outranks a failure (1), which outranks success."""
    if EXIT_INVALID in (status, new):
        return EXIT_INVALID
    return max(status, new)


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


def _show_progress(args) -> bool:
    """A progress bar on stderr: only for a person watching a terminal, and never with --quiet."""
    return not args.quiet and sys.stderr.isatty()


def _has_parquet() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _table_out_ok(out: str | None, prog: str) -> bool:
    """Whether --out (if given) names a table file hasim writes; says why not otherwise."""
    if out and not out.endswith((".parquet", ".csv")):
        print(f"{prog}: --out: expected a path ending in .parquet or .csv, got {out!r}", file=sys.stderr)
        return False
    return True


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


def _window_fits(path: str, sc, horizon: float | None) -> bool:
    """Whether the SLO window fits in the --horizon override (the file's own horizon is checked
    when it is loaded); says why not otherwise."""
    from hasim.model.scenario import window_problem

    problem = horizon is not None and window_problem(horizon, sc.window, window_given="window" in sc.model_fields_set)
    if problem:
        print(f"{path}: --horizon: {problem}", file=sys.stderr)
    return not problem


def _scale_options(args, prog: str) -> dict:
    """``precision`` / ``max_replicas`` keyword arguments of ``simulate``; ValueError for bad combinations."""
    if args.max_replicas is not None and args.precision is None:
        raise ValueError(f"{prog}: --max-replicas: only applies with --precision")
    out = {}
    if args.precision is not None:
        out["precision"] = args.precision
    if args.max_replicas is not None:
        out["max_replicas"] = args.max_replicas
    if getattr(args, "warmup", None) is not None:
        from hasim.sim.engine import warmup_hours

        try:
            out["warmup"] = warmup_hours(args.warmup)
        except ValueError:
            raise ValueError(f"{prog}: --warmup: expected a duration like '10y' (0 or more), "
                             f"got {args.warmup!r}") from None
    return out


def _run_options(args, prog: str):
    """``(horizon hours or None, scale keywords)`` of --horizon, --precision and --max-replicas, as
    ``run``, ``sweep`` and ``report`` take them; None after printing what is wrong."""
    try:
        return _horizon_option(args.horizon, prog), _scale_options(args, prog)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return None


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


def _command_line(args) -> str:
    import shlex

    return "hasim " + shlex.join(args.argv)


def _source_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except OSError:
        return None
