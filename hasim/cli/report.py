"""``hasim report`` and the report of ``hasim run --report``: one HTML review page per run."""

from __future__ import annotations

import sys

from hasim.cli.common import (EXIT_ERROR, EXIT_INVALID, EXIT_OK, _command_line, _dask_client, _load_all,
                              _run_options, _show_progress, _source_text, _window_fits)
from hasim.cli.tables import _describe_client, format_results


def _write_run_report(result, scenario, source: str, target, args, *, compute_sensitivity: bool = True,
                      sensitivity_replicas: int | None = None, experiments=None):
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
                        sensitivity_replicas=sensitivity_replicas, experiments=experiments)


def _run_experiments(sc, files, engine: str):
    """The ``--chaos`` experiments on ``sc``, or None (problems printed) if one is invalid."""
    from hasim.errors import ScenarioError
    from hasim.studies.chaos import chaos

    done, ok = [], True
    for f in files:
        try:
            done.append(chaos(sc, f, engine=engine))
        except ScenarioError as exc:
            for line in (exc.with_source(f) if exc.source is None else exc).lines():
                print(line, file=sys.stderr)
            ok = False
    return done if ok else None


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
    experiments = _run_experiments(sc, args.chaos, args.engine) if args.chaos else []
    if experiments is None:
        return EXIT_INVALID
    try:
        with _dask_client(args.dask, "hasim report") as client:
            if client is not None:
                scale["client"] = client
            where = _describe_client(client)
            result = simulate(sc, replicas=args.replicas, seed=args.seed, horizon=horizon, engine=args.engine,
                              progress=_show_progress(args), compile_notice=not args.quiet, **scale)
        _write_run_report(result, sc, path, target, args, compute_sensitivity=not args.no_sensitivity,
                          sensitivity_replicas=args.sensitivity_replicas, experiments=experiments)
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
