"""Sweeps: simulate a design over a grid of parameter values, with common random numbers.

>>> hasim.sweep(design, {"services.api.replicas": [2, 3, 4],
...                      "services.db.failover.detection": ["10s", "30s", "60s"]})  # doctest: +SKIP

runs the 9 combinations of the full grid (``zip=True`` pairs the lists
instead) and returns a tidy DataFrame: one row per combination, the set values
as columns (named by their paths), then every measure of the summary with its
95 % confidence interval (``<measure>``, ``<measure>_ci_low``,
``<measure>_ci_high``).  Every combination is validated before anything runs,
and every run uses the same seed, so replica ``i`` of every combination draws
from the same random stream ``(seed, i)``: differences between rows are far
less noisy than between independent runs, and a combination that appears
twice gives the same row twice.

The older one-parameter form ``sweep(design, path, values)`` is kept (it
returns ``parameter, path, value, unit`` and the measures; see
:func:`sweep`).
"""

from __future__ import annotations

import itertools
import math
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from hasim.units import parse_duration
from hasim.errors import Problem, ScenarioError
from hasim.model.scenario import Scenario

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["sweep", "sweep_points", "run_points", "MEASURES", "default_replicas"]

#: Every measure of a sweep row, in summary order.
MEASURES = ("request_availability", "time_availability", "degraded_fraction", "down_fraction",
            "downtime_minutes_per_year", "outages_per_year", "mean_outage_minutes", "longest_outage_minutes",
            "p_window_breach", "breach_windows_per_year")
#: The measures of the one-parameter form (its historical columns come first).
_LEGACY_MEASURES = ("request_availability", "time_availability", "downtime_minutes_per_year", "p_window_breach")
_zip = zip


def default_replicas(scenario: Scenario, replicas: int | None = None) -> int:
    """Replicas per variant when none are given: a quarter of the scenario's, at least 200."""
    if replicas is not None:
        return int(replicas)
    return max(200, scenario.replicas // 4)


def sweep_points(scenario: Scenario, grid: Mapping[str, Sequence[Any]], *, zip: bool = False,
                 source: str | None = None) -> tuple[list[str], list[tuple[tuple, Scenario]]]:
    """Validate every combination of ``grid``; return the paths and ``(values, variant)`` per point.

    Parameters
    ----------
    scenario : Scenario
        The base design.
    grid : mapping of str to sequence
        Dotted key path (as in :meth:`Scenario.replace`) -> values.
    zip : bool
        Pair the lists (all of the same length) instead of taking their product.
    source : str, optional
        The scenario file, to prefix the error lines with.

    Returns
    -------
    paths, points
        ``points`` in grid order (the last path varies fastest).

    Raises
    ------
    ScenarioError
        Naming every invalid path or value (each distinct problem once), before
        anything is simulated.
    """
    if not isinstance(grid, Mapping) or not grid:
        raise ScenarioError([Problem("", "a sweep needs at least one path with values")], source)
    paths = list(grid)
    problems: list[Problem] = []
    lists = []
    for path in paths:
        values = grid[path]
        values = [values] if isinstance(values, (str, bytes)) or not isinstance(values, Iterable) else list(values)
        if not values:
            problems.append(Problem(path, "expected at least one value"))
        lists.append(values)
    if zip and not problems:
        n = len(lists[0])
        for path, values in _zip(paths[1:], lists[1:]):
            if len(values) != n:
                problems.append(Problem(path, f"zip needs lists of equal length: {len(values)} values here, "
                                              f"{n} for {paths[0]}"))
    if problems:
        raise ScenarioError(problems, source)
    seen: set[tuple[str, str]] = set()
    # Each value alone first: every bad path or value is named, even when another path stops replace().
    for path, values in _zip(paths, lists):
        for value in values:
            try:
                scenario.replace({path: value})
            except ScenarioError as exc:
                for p in exc.problems:
                    if (p.path, p.message) not in seen:
                        seen.add((p.path, p.message))
                        problems.append(p)
    if problems:
        raise ScenarioError(problems, source)
    combos = list(_zip(*lists)) if zip else list(itertools.product(*lists))
    points = []
    for combo in combos:
        try:
            variant = scenario.replace(dict(_zip(paths, combo)))
        except ScenarioError as exc:
            for p in exc.problems:
                message = p.message
                if len(paths) > 1 and p.path not in paths:
                    message += " (with " + ", ".join(f"{k}={v}" for k, v in _zip(paths, combo)) + ")"
                if (p.path, message) not in seen:
                    seen.add((p.path, message))
                    problems.append(Problem(p.path, message))
            continue
        points.append((combo, variant))
    if problems:
        raise ScenarioError(problems, source)
    return paths, points


def _number(x) -> float:
    return math.nan if x is None else float(x)


#: The alert measures a sweep row carries, by the column name they take (``alert.<rule>.<name>``).
_ALERT_COLUMNS = {"pages/year": "pages_per_year", "minutes to detect": "minutes_to_detect",
                  "downtime share paged": "downtime_share_paged", "missed/year": "missed_per_year",
                  "false pages/year": "false_pages_per_year"}


def _row(result) -> dict[str, Any]:
    """Every measure of ``result`` with its CI, plus the run facts that can differ between points."""
    row: dict[str, Any] = {"replicas": int(result.n_replicas), "seed": int(result.seed)}
    for m in MEASURES:
        est = result.metric(m)
        row[m] = _number(est["mean"])
        row[f"{m}_ci_low"], row[f"{m}_ci_high"] = (_number(v) for v in est["ci95"])
    row["outages"] = int(result.total_outages)  # the evidence every interval of the row rests on
    slo = result.slo
    row["slo"] = math.nan if slo is None else float(slo)
    # The one verdict rule (hasim.results.estimate.slo_verdict), without the solver's advice: a sweep row is a table cell.
    row["slo_verdict"] = None if slo is None else result.slo_verdict(advise=False)["verdict"]
    row["outages"] = int(result.total_outages)
    # With an rto: the incidents a year that outlast it (hasim.results.recovery), NaN without one.
    b = result.rto_breaches()
    row["rto_hours"] = math.nan if b is None else b["rto_hours"]
    per_year = {"mean": math.nan, "ci95": [math.nan, math.nan]} if b is None else b["per_year"]
    row["rto_breaches_per_year"] = _number(per_year["mean"])
    row["rto_breaches_per_year_ci_low"], row["rto_breaches_per_year_ci_high"] = (_number(v) for v in per_year["ci95"])
    # Each alert rule's pages a year, time to detect and share of the downtime paged for (hasim.model.alerts).
    alerts = getattr(result, "alerts", None)
    if alerts is not None:
        for a in alerts.itertuples():
            if a.measure in _ALERT_COLUMNS:
                key = f"alert.{a.rule}.{_ALERT_COLUMNS[a.measure]}"
                row[key], row[f"{key}_ci_low"], row[f"{key}_ci_high"] = (_number(v) for v in (a.value, a.ci_low,
                                                                                                 a.ci_high))
    for name in ("precision_reached", "stop_reason"):
        value = getattr(result, name, None)
        if value is not None and not callable(value):
            row[name] = value
    return row


def _run_points(points, *, replicas, seed, horizon, engine, precision, max_replicas, client, progress,
                compile_notice=None, timing=None):
    from hasim.sim.engine import simulate  # lazy: importing hasim compiles nothing

    extra = {k: v for k, v in (("precision", precision), ("max_replicas", max_replicas), ("client", client))
             if v is not None}
    rows, total = [], len(points)
    for done, (_, variant) in enumerate(points, 1):
        r = simulate(variant, replicas=replicas, seed=seed, horizon=horizon, engine=engine,
                     compile_notice=compile_notice, **extra)
        if timing is not None and r.kernel_compiled:
            timing["compile_seconds"] = timing.get("compile_seconds", 0.0) + r.compile_seconds
        rows.append(_row(r))
        if progress is not None:
            progress(done, total)
    return rows


def _as_given(value) -> str:
    """A swept value as text the way a user would write it (``3``, ``0.98``, ``true``)."""
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def _int_columns(frame):
    """Counts stay integers in every table format: ``seed`` (a uint64 seed above 2**63 too),
    ``replicas`` and ``outages`` would otherwise turn float the moment one row lacks them or a
    concat aligns them, and Parquet would store ``seed`` as a double that cannot hold every seed."""
    import pandas as pd

    for name in ("seed", "replicas", "outages"):
        if name in frame.columns and frame[name].notna().all():
            values = [int(v) for v in frame[name]]
            dtype = "uint64" if values and max(values) > 2**63 - 1 else "int64"
            frame[name] = pd.Series(values, index=frame.index, dtype=dtype)
    return frame


def _value_column(values: list) -> list:
    """The values of one swept path as a column: kept as given, as text when the types are mixed."""
    kinds = {type(v) for v in values}
    if kinds <= {int, float} or len(kinds) == 1:
        return values
    return [str(v) for v in values]


def sweep(scenario: Scenario, grid: Mapping[str, Sequence[Any]] | str, values: Sequence[Any] | None = None,
          replicas: int | None = None, seed: int | None = None, *, zip: bool = False, engine: str = "numba",
          horizon: float | str | None = None, label: str | None = None, precision: float | None = None,
          max_replicas: int | None = None, client=None, progress: Callable[[int, int], None] | None = None,
          source: str | None = None) -> pd.DataFrame:
    """Simulate ``scenario`` at every point of a parameter grid, with common random numbers.

    Parameters
    ----------
    scenario : Scenario
        The base design.
    grid : mapping of str to sequence, or str
        ``{"services.api.replicas": [2, 3, 4], "services.db.failover.detection":
        ["10s", "30s"]}``: dotted key paths (as in :meth:`Scenario.replace`) and
        their values.  A single path (``str``) with ``values`` is the older
        one-parameter form (see Returns).
    values : sequence, optional
        The values of the one-parameter form.
    replicas, seed, horizon
        Of every run.  ``seed`` defaults to the scenario's, the same for every
        point (common random numbers).  ``replicas`` defaults to the scenario's
        for a grid (so a point gives the numbers of ``hasim.simulate`` of that
        variant) and to ``max(200, scenario.replicas // 4)`` in the
        one-parameter form.
    zip : bool
        Pair the lists element by element instead of the full grid; the lists
        must have the same length.
    engine : str
        Passed to :func:`hasim.simulate`.
    label : str, optional
        The ``parameter`` column of the one-parameter form (default the path).
    precision, max_replicas, client
        Passed to :func:`hasim.simulate` when given (a relative CI precision
        target with its cap; a Dask client).
    progress : callable, optional
        ``progress(done, total)`` after each point.
    source : str, optional
        The scenario file, named in validation errors.

    Returns
    -------
    DataFrame
        For a grid: one row per combination, in grid order (last path fastest):
        one column per path with its value as given (named by the path;
        ``set.<path>`` for a top-level path that is also a result column:
        ``replicas``, ``seed``, ``slo``), ``replicas, seed`` of the run, then
        for each of :data:`MEASURES` ``<measure>, <measure>_ci_low,
        <measure>_ci_high`` (95 % CI), then ``slo`` and ``slo_verdict``
        (``met`` / ``missed`` / ``uncertain`` from the CI, or
        ``insufficient-evidence`` when the point saw fewer than
        :data:`hasim.results.summary.MIN_OUTAGES` outages: see
        :func:`hasim.results.estimate.slo_verdict`; None without an ``slo``), ``outages``
        (seen over all replicas), ``rto_hours`` and ``rto_breaches_per_year``
        with its ``_ci_low`` / ``_ci_high`` (incidents a year that outlast the
        point's ``rto``: :func:`hasim.results.recovery.rto_breaches`; NaN when
        the scenario states none), for each alert rule ``alert.<rule>.pages_per_year``,
        ``.minutes_to_detect``, ``.downtime_share_paged``, ``.missed_per_year`` and ``.false_pages_per_year`` with their
        ``_ci_low`` / ``_ci_high`` (:meth:`hasim.results.summary.Results.alerts`), and
        ``precision_reached`` / ``stop_reason`` when the engine reports them.  ``seed``, ``replicas`` and ``outages``
        are int64.  ``attrs`` keeps the scenario name, paths, seed, engine,
        ``zip``, the elapsed time and the part of it spent compiling the kernel.

        For the one-parameter form: ``parameter, path, value, unit`` (durations
        given as text come back in hours, ``unit`` ``"h"``), ``value_as_given``
        (the value as written: ``"5h"``), and the measures, as before.

    Raises
    ------
    ScenarioError
        If any path or value is invalid, or (``zip``) the lists differ in
        length; raised before anything is simulated.
    """

    if isinstance(grid, str):
        return _sweep_one(scenario, grid, values, replicas, seed, engine=engine, horizon=horizon, label=label,
                          precision=precision, max_replicas=max_replicas, client=client, progress=progress,
                          source=source)
    if values is not None:
        raise TypeError("values is only for the one-parameter form sweep(scenario, path, values)")
    paths, points = sweep_points(scenario, grid, zip=zip, source=source)
    return run_points(scenario, paths, points, replicas=replicas, seed=seed, zip=zip, engine=engine,
                      horizon=horizon, precision=precision, max_replicas=max_replicas, client=client,
                      progress=progress)


def run_points(scenario: Scenario, paths: Sequence[str], points: Sequence[tuple[tuple, Scenario]], *,
               replicas: int | None = None, seed: int | None = None, zip: bool = False, engine: str = "numba",
               horizon: float | str | None = None, precision: float | None = None, max_replicas: int | None = None,
               client=None, progress: Callable[[int, int], None] | None = None,
               compile_notice: bool | Callable[[str], None] | None = None) -> pd.DataFrame:
    """Simulate points validated by :func:`sweep_points`; the DataFrame of :func:`sweep` (grid form).

    Parameters are those of :func:`sweep`; ``paths`` and ``points`` are what
    :func:`sweep_points` returned (so a command line can report invalid
    values before it starts a cluster or a progress bar).  ``compile_notice``
    is passed to :func:`hasim.simulate`.  ``attrs["compile_seconds"]`` is the
    part of ``elapsed_seconds`` spent compiling the numba kernel (0 when it
    was cached).
    """
    import pandas as pd

    started = time.perf_counter()
    # Without an explicit seed each point runs with its own: the scenario's (common random numbers),
    # unless the sweep sets ``seed`` itself, which must then take effect.
    sweeps_seed = seed is None and "seed" in paths
    seed = scenario.seed if seed is None else int(seed)
    timing: dict = {}
    rows = _run_points(points, replicas=replicas, seed=None if sweeps_seed else seed, horizon=horizon,
                       engine=engine, precision=precision,
                       max_replicas=max_replicas, client=client, progress=progress, compile_notice=compile_notice,
                       timing=timing)
    measured = pd.DataFrame(rows)
    names = [f"set.{p}" if p in measured.columns else p for p in paths]
    frame = pd.DataFrame({name: _value_column([combo[i] for combo, _ in points]) for i, name in enumerate(names)})
    frame = _int_columns(pd.concat([frame, measured], axis=1))
    frame.attrs.update({"scenario": scenario.name, "paths": list(paths), "columns": names, "zip": bool(zip), "seed": seed,
                        "replicas": replicas, "engine": engine, "slo": scenario.slo,
                        "horizon_hours": scenario.horizon if horizon is None else parse_duration(horizon),
                        "elapsed_seconds": time.perf_counter() - started,
                        "compile_seconds": timing.get("compile_seconds", 0.0)})
    return frame


def _sweep_one(scenario, path, values, replicas, seed, *, engine, horizon, label, precision, max_replicas,
               client, progress, source):
    """The one-parameter form: ``parameter, path, value, unit`` and the measures."""
    import pandas as pd

    if values is None:
        raise TypeError("sweep(scenario, path, values): values missing")
    replicas = default_replicas(scenario, replicas)
    seed = scenario.seed if seed is None else int(seed)
    _, points = sweep_points(scenario, {path: list(values)}, source=source)
    rows = _run_points(points, replicas=replicas, seed=seed, horizon=horizon, engine=engine, precision=precision,
                       max_replicas=max_replicas, client=client, progress=progress)
    out = []
    for ((value,), _), measured in _zip(points, rows):
        unit = "count"
        if isinstance(value, str):
            number, unit = parse_duration(value), "h"
        else:
            number = float(value)
            if not path.endswith(("replicas", "min_healthy", "shards", "threshold")):
                unit = "h" if any(k in path for k in ("ttl", "interval", "detection", "promotion", "mtbf",
                                                      "mttr", "manual", "stale_for")) else "number"
        # ``value`` stays a number (hours for a duration: plots and the contract read it); the text
        # the user wrote ("5h") is kept beside it for tables.
        row = {"parameter": label or path, "path": path, "value": number, "unit": unit,
               "value_as_given": value if isinstance(value, str) else _as_given(value)}
        for m in _LEGACY_MEASURES:
            row[m] = measured[m]
            row[f"{m}_ci_low"], row[f"{m}_ci_high"] = measured[f"{m}_ci_low"], measured[f"{m}_ci_high"]
        row.update({k: v for k, v in measured.items() if k not in row})
        out.append(row)
    frame = _int_columns(pd.DataFrame(out))
    frame.attrs.update({"scenario": scenario.name, "replicas": replicas, "seed": seed, "engine": engine})
    return frame
