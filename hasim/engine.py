"""``simulate()``: run a scenario's replicas and collect :class:`~hasim.results.Results`.

The numba kernel is imported inside :func:`simulate`, so ``import hasim``
compiles nothing.  Replicas run in chunks (a progress bar or callback is
updated after each chunk); replica ``i`` always draws from the random stream
``(seed, i)``, so neither the chunk size nor the thread count changes a result.
"""

from __future__ import annotations

import math
import sys
import time
from typing import Callable, NamedTuple

import numpy as np

from .compile import compile_scenario
from .durations import parse_duration
from .model import Scenario
from .results import DEFAULT_SLO, Results

__all__ = ["simulate", "n_windows"]

_MASK64 = (1 << 64) - 1
#: Window availabilities kept per run for ``Results.windows`` (breach counts use every window).
_MAX_WINDOW_VALUES = 4_000_000


def n_windows(horizon: float, window: float) -> int:
    """Windows of length ``window`` covering ``horizon`` (the last may be partial)."""
    n = max(1, math.ceil(horizon / window))
    while n > 1 and (n - 1) * window >= horizon:
        n -= 1
    while n * window < horizon:
        n += 1
    return n


def _chunk_size(replicas: int) -> int:
    return int(min(4096, max(256, replicas // 20)))


def simulate(
    scenario: Scenario,
    replicas: int | None = None,
    seed: int | None = None,
    horizon: float | str | None = None,
    engine: str = "numba",
    progress: bool | Callable[[int, int], None] = False,
    *,
    chunk_size: int | None = None,
    keep_windows: int | None = None,
    keep_outages: int = 8,
) -> Results:
    """Simulate ``scenario`` and return :class:`~hasim.results.Results`.

    Parameters
    ----------
    scenario : Scenario
        The design.
    replicas, seed, horizon
        Override the scenario's ``replicas``, ``seed`` and ``horizon``
        (a duration: hours or a string such as ``"10y"``).
    engine : {'numba', 'simpy'}
        The simulator: the numba kernel, or the readable SimPy reference
        engine (about 300x slower, same semantics, independent code).
    progress : bool or callable
        ``True`` shows a tqdm bar on stderr; a callable is called as
        ``progress(done, total)`` after every chunk.
    chunk_size : int, optional
        Replicas per kernel call (default 256..4096); does not change results.
    keep_windows : int, optional
        Window availabilities stored per replica for ``Results.windows``
        (default: all windows, capped so that the run keeps at most 4 million
        values).  Breach statistics always use every window.
    keep_outages : int
        Outage records kept per replica for ``Results.outages`` (the first ones).
    """
    if engine not in ("numba", "simpy"):
        raise ValueError(f"unknown engine {engine!r} (available: 'numba', 'simpy')")
    sc = scenario
    if engine == "simpy":
        return _simulate_simpy(sc, replicas, seed, horizon, progress, keep_windows, keep_outages)
    replicas = sc.replicas if replicas is None else int(replicas)
    seed = sc.seed if seed is None else int(seed)
    horizon = sc.horizon if horizon is None else parse_duration(horizon)
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    if not horizon > 0:
        raise ValueError("horizon must be positive")
    compiled = compile_scenario(sc)
    m = compiled.model
    window = float(sc.window)
    windows = n_windows(horizon, window)
    slo = sc.slo if sc.slo is not None else DEFAULT_SLO
    threshold = slo / 100.0
    if keep_windows is None:
        keep_windows = min(windows, max(1, _MAX_WINDOW_VALUES // replicas))
    keep_windows = max(0, min(int(keep_windows), windows))
    chunk = _chunk_size(replicas) if chunk_size is None else max(1, int(chunk_size))

    from . import _kernel  # lazy: importing hasim compiles nothing

    out = _kernel.new_output(replicas, m.n_causes, m.n_services, keep_windows, max(0, int(keep_outages)))
    seed64 = np.uint64(seed & _MASK64)
    args = (float(horizon), window, np.int64(windows), float(threshold))

    # Compile (or load from the cache) outside the timed region: zero replicas.
    started = time.perf_counter()
    _kernel.simulate_replicas(m, seed64, np.int64(0), np.int64(0), *args, _rows(out, 0, 0))
    compile_seconds = time.perf_counter() - started

    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=replicas, unit="replica", file=sys.stderr, desc=sc.name, leave=False)
    started = time.perf_counter()
    for lo in range(0, replicas, chunk):
        hi = min(lo + chunk, replicas)
        _kernel.simulate_replicas(m, seed64, np.int64(lo), np.int64(hi - lo), *args, _rows(out, lo, hi))
        if bar is not None:
            bar.update(hi - lo)
        elif callable(progress):
            progress(hi, replicas)
    elapsed = time.perf_counter() - started
    if bar is not None:
        bar.close()
    return Results(compiled=compiled, out=out, engine=engine, replicas=replicas, seed=seed,
                   horizon=float(horizon), window=window, n_windows=windows, slo=sc.slo,
                   elapsed_seconds=elapsed, compile_seconds=compile_seconds)


class _Labels(NamedTuple):
    """What :class:`Results` needs of a compiled model, derived from the scenario alone."""

    scenario: Scenario
    services: list
    causes: list
    cause_kinds: list
    model: object


class _Reach(NamedTuple):
    svc_reach: np.ndarray


def _labels(sc: Scenario) -> _Labels:
    from ._output import cause_labels

    order = sc.topological_order()
    reach, todo = set(), [sc.entry]
    while todo:
        name = todo.pop()
        if name not in reach:
            reach.add(name)
            svc = sc.services[name]
            todo.extend(svc.dependencies + list(svc.targets))
    causes, kinds = cause_labels(sc)
    return _Labels(sc, order, causes, kinds, _Reach(np.array([int(s in reach) for s in order], dtype=np.int64)))


def _simulate_simpy(sc, replicas, seed, horizon, progress, keep_windows, keep_outages) -> Results:
    from .reference import simulate_reference

    callback = progress if callable(progress) else None
    out, info = simulate_reference(sc, replicas=replicas, seed=seed, horizon=horizon, keep_windows=keep_windows,
                                   keep_outages=keep_outages, progress=callback)
    return Results(compiled=_labels(sc), out=out, engine="simpy", replicas=info["replicas"], seed=info["seed"],
                   horizon=float(info["horizon"]), window=float(info["window"]), n_windows=info["n_windows"],
                   slo=sc.slo, elapsed_seconds=info["elapsed_seconds"])


def _rows(out, lo: int, hi: int):
    """Rows ``lo:hi`` of every output array (views: C-contiguous, written in place)."""
    return type(out)(*(a[lo:hi] for a in out))
