"""``simulate()``: run a scenario's replicas and collect :class:`~hasim.results.summary.Results`.

The numba kernel is imported inside :func:`simulate`, so ``import hasim``
compiles nothing.  Replicas run in chunks (a progress bar or callback is
updated after each chunk); replica ``i`` always draws from the random stream
``(seed, i)``, so neither the chunk size nor the thread count changes a result.

The same holds on a Dask cluster (``client=``): each chunk is a task
(:func:`hasim.sim.cluster.run_chunk`) and its rows are placed by index, so a Dask
run is bit-identical to a local one.  With ``precision=`` the run grows in
batches of replicas ``0 .. n - 1`` until the 95 % interval of the
unavailability is tight enough, so it equals a fixed run of the ``n`` it
stopped at.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import time
from typing import Callable

import numpy as np

from hasim.sim.compile import compile_scenario
from hasim.units import parse_duration
from hasim.sim.kernel._output import SimOutput, new_output
from hasim.sim.settings import MASK64 as _MASK64
from hasim.sim.settings import keep_windows as _keep_windows
from hasim.sim.settings import n_windows
from hasim.model.scenario import Scenario
from hasim.results.estimate import DEFAULT_SLO, MIN_OUTAGES, relative_half_width
from hasim.results.summary import Results
from hasim.model.structure import labels

__all__ = ["simulate", "n_windows", "progress_bar", "kernel_needs_compiling"]

def _chunk_size(replicas: int, progress: bool = False) -> int:
    """Replicas per kernel call: large enough to keep every thread busy; with a progress display,
    small enough that it moves about 50 times in a run (the chunking never changes a result)."""
    if progress:
        import numba

        return int(min(4096, max(8 * numba.get_num_threads(), replicas // 50)))
    return int(min(4096, max(256, replicas // 20)))


#: What a cold compile of the simulation kernel costs (measured: 105 s on a CI runner, about 4 min on
#: a busy 2-core machine).
_COMPILE_MINUTES = "2-4"


def kernel_needs_compiling() -> bool:
    """Whether the next simulation in this process compiles the numba kernel (minutes) rather than
    loading it from numba's on-disk cache (a second) or finding it already loaded.

    Best effort: a cache index whose source stamp no longer matches counts as a compile (numba
    recompiles then); a numba whose cache layout is not the expected one counts as cached.
    """
    from hasim.sim import kernel as _kernel
    from hasim.sim.kernel._jit import CACHE, JIT_DISABLED

    dispatcher = _kernel.simulate_replicas
    if JIT_DISABLED or dispatcher.signatures:
        return False
    if not CACHE:
        return True
    try:
        index = dispatcher._cache._cache_file._load_index()  # {} when missing or stale
    except Exception:  # noqa: BLE001 - another numba version: do not guess
        return False
    return not index


def _compile_notice() -> str:
    from hasim.sim.kernel._jit import CACHE

    if not CACHE:
        return (f"hasim: compiling the numba kernel (about {_COMPILE_MINUTES} minutes; HASIM_NUMBA_CACHE=0, "
                "so every process compiles it again)")
    return (f"hasim: compiling the numba kernel (first run on this machine, about {_COMPILE_MINUTES} minutes); "
            "later runs load it from the cache")


def _say(message: str) -> None:
    """A line on stderr that does not tear a progress bar (tqdm clears and redraws it)."""
    from tqdm.auto import tqdm

    tqdm.write(message, file=sys.stderr)
    sys.stderr.flush()


def _bar_size() -> dict:
    """The size to give a bar: nothing (tqdm measures the terminal) unless the terminal reports
    0 x 0, as a pseudo-terminal without a size does; tqdm then reads -1 rows and draws nothing at
    all, so fall back to $COLUMNS / $LINES or 80 x 24."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):  # not a terminal (a notebook, a pipe): tqdm decides
        return {}
    if size.columns > 0 and size.lines > 0:
        return {}
    fallback = shutil.get_terminal_size((80, 24))
    return {"ncols": fallback.columns, "nrows": fallback.lines}


def progress_bar(total: int, desc: str, unit: str = "replica"):
    """The tqdm bar hasim shows on stderr (erased when done), sized even on a terminal without a width."""
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr, desc=desc, leave=False, mininterval=0.2, **_bar_size())


def _dask_chunk_size(replicas: int, threads: int) -> int:
    """About 8 tasks per worker thread, 256..16384 replicas each."""
    return int(min(16384, max(256, math.ceil(replicas / (8 * max(1, threads))))))


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
    keep_outages: int = 16,
    client=None,
    precision: float | None = None,
    max_replicas: int | None = None,
    compile_notice: bool | Callable[[str], None] | None = None,
    warmup: float | str | None = None,
    method: str = "plain",
) -> Results:
    """Simulate ``scenario`` and return :class:`~hasim.results.summary.Results`.

    Parameters
    ----------
    scenario : Scenario
        The design.
    replicas, seed, horizon
        Override the scenario's ``replicas``, ``seed`` and ``horizon``
        (a duration: hours or a string such as ``"10y"``).  With
        ``precision``, ``replicas`` is the size of the first batch.
    engine : {'numba', 'simpy'}
        The simulator: the numba kernel, or the readable SimPy reference
        engine (about 300x slower, same semantics, independent code).  The
        SimPy engine runs locally only: with ``client`` or ``precision`` it
        raises ``ValueError``.
    progress : bool or callable
        ``True`` shows a tqdm bar on stderr; a callable is called as
        ``progress(done, total)`` after every chunk (with ``precision``,
        ``total`` is the size the run is currently growing to).
    chunk_size : int, optional
        Replicas per kernel call, or per Dask task with ``client`` (default
        256..4096 locally; with ``client`` about 8 tasks per worker thread,
        256..16384 replicas each).  Does not change results.
    keep_windows : int, optional
        Window availabilities stored per replica for ``Results.windows``
        (default: all windows, capped so that the run keeps at most 4 million
        values).  Breach statistics always use every window.
    keep_outages : int
        Outage records kept per replica for ``Results.outages`` (default 16): a
        uniform sample of each replica's outages, weighted in ``Results.outages``
        by how many outages each row stands for.  Memory: 32 bytes per record.
    client : distributed.Client, optional
        Run the replicas on a Dask cluster (numba engine): each chunk of
        replicas ``[lo, hi)`` is one task (:func:`hasim.sim.cluster.run_chunk`,
        submitted with ``retries=3`` under a key derived from its inputs)
        and its rows are placed by index.  The scenario is sent once per run
        and compiled on a worker.  Replica ``i`` draws from the stream
        ``(seed, i)``, so the result is bit-identical to a local run with
        the same seed whatever the number of workers or the chunk size, and
        a worker lost mid-run only costs the recomputation of its chunks.
        See :func:`hasim.sim.cluster.connect`.
    precision : float, optional
        Target for the 95 % confidence half-width of the unavailability
        ``u = 1 - request availability``, relative to its mean (``0.05``:
        within 5 %).  Replicas run in batches: first ``replicas`` (or the
        scenario's count), then the run grows, to the size the current
        spread predicts plus 10 %, at least 1.25x and at most 4x the current
        size, until the 95 % interval of ``u`` (the one every output prints)
        is within ``precision * mean(u)`` either side on average *and* rests on
        at least :data:`~hasim.results.estimate.MIN_OUTAGES` outages, or
        ``max_replicas`` is reached.  The replicas are always ``0 .. n - 1``,
        so a run that stops at ``n`` replicas equals a fixed run of ``n``
        replicas bit for bit.  While no replica has lost anything the run
        grows 4x per batch: "zero unavailability" is never a reason to stop,
        and a run that reaches the cap without a loss says so
        (``stop_reason="zero_unavailability"``, not reached).
        ``Results.precision_target``, ``precision_reached``, ``stop_reason``
        and ``relative_half_width`` record the outcome.
    max_replicas : int, optional
        Cap on the replicas of a ``precision`` run (default 100x the first
        batch, at most 10 million, at least the first batch).  Ignored
        without ``precision``.
    warmup : float or str, optional
        Simulate every replica for this long (hours or a duration such as
        ``"10y"``) before the measured ``horizon`` starts, so that the figures
        are those of a design that has been running, not of one whose every
        part is new: with wear-in failure laws (Weibull shape < 1) a 1-year run
        from new shows about 20 % more unavailability than the long run
        (new parts fail early), with wear-out laws less.
        Default 0 (measure from new).  ``Results.warmup`` and the JSON
        ``"start"`` say which a result is.
    method : {'plain', 'splitting'}
        ``"splitting"`` estimates the unavailability of a design beyond five
        nines by importance splitting (RESTART, :func:`hasim.sim.rare.simulate_splitting`)
        and returns a :class:`~hasim.results.rare.RareEventResults`: a series
        of active k-of-n pools with exponential, Weibull, fixed or uniform
        laws (anything else is a ValueError naming it), numba engine, no
        ``precision``, ``client`` or ``warmup``.
    compile_notice : bool or callable, optional
        Say so on stderr (or call it with the sentence) when this run has to
        compile the numba kernel, which takes minutes once per machine.
        Default: only with ``progress=True``.  ``Results.compile_seconds``
        and ``Results.kernel_compiled`` tell afterwards what it cost.

    Raises
    ------
    ValueError
        For an unknown engine, non-positive replicas, horizon, precision or
        max_replicas, or ``client`` / ``precision`` with the SimPy engine.
    """
    if method not in ("plain", "splitting"):
        raise ValueError(f"unknown method {method!r}: expected 'plain' or 'splitting'")
    if method == "splitting":
        given = [name for name, v in (("engine='simpy'", engine == "simpy"), ("precision", precision is not None),
                                      ("client", client is not None), ("warmup", warmup not in (None, 0)))
                 if v]
        if given:
            raise ValueError(f"method='splitting' runs on the numba engine alone, without {', '.join(given)}")
        from hasim.sim.rare import simulate_splitting

        return simulate_splitting(scenario, replicas=replicas, seed=seed, horizon=horizon)
    if engine not in ("numba", "simpy"):
        raise ValueError(f"unknown engine {engine!r} (available: 'numba', 'simpy')")
    sc = scenario
    if precision is not None:
        precision = float(precision)
        if not (precision > 0 and math.isfinite(precision)):
            raise ValueError(f"precision must be a positive relative half-width such as 0.05, got {precision!r}")
    if engine == "simpy":
        if client is not None:
            raise ValueError("client= (Dask) runs the numba engine only; use engine='numba' "
                             "(the SimPy reference engine runs locally)")
        if precision is not None:
            raise ValueError("precision= needs engine='numba' (the SimPy reference engine runs a fixed count)")
        return _simulate_simpy(sc, replicas, seed, horizon, progress, keep_windows, keep_outages, warmup)
    replicas = sc.replicas if replicas is None else int(replicas)
    seed = sc.seed if seed is None else int(seed)
    horizon = sc.horizon if horizon is None else parse_duration(horizon)
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    if not horizon > 0:
        raise ValueError("horizon must be positive")
    warmup = warmup_hours(warmup)
    if precision is not None:
        cap = max(replicas, min(100 * replicas, 10_000_000)) if max_replicas is None else int(max_replicas)
        if cap < replicas:
            raise ValueError(f"max_replicas ({cap}) must be at least the first batch ({replicas} replicas)")
    compiled = compile_scenario(sc)
    m = compiled.model
    window = float(sc.window)
    windows = n_windows(horizon, window)
    slo = sc.slo if sc.slo is not None else DEFAULT_SLO
    threshold = slo / 100.0
    keep_o = max(0, int(keep_outages))
    seed64 = seed & _MASK64
    args = (float(horizon), window, int(windows), float(threshold), warmup)

    runner, compiled_now, compile_seconds = _make_runner(sc, m, seed64, args, keep_o, chunk_size, client, progress,
                                                         compile_notice)
    bar = progress_bar(replicas, sc.name) if progress is True else None
    tally = _Tally(replicas, bar, progress)
    info = None
    started = time.perf_counter()
    try:
        if precision is None:
            out = runner.run(0, replicas, _keep_windows(keep_windows, windows, replicas), tally.advance)
        else:
            out, info = _run_to_precision(runner, replicas, cap, precision, keep_windows, windows, tally.advance,
                                           tally.grow)
    finally:
        if bar is not None:
            bar.close()
        runner.close()
    elapsed = time.perf_counter() - started
    n = int(out.ra.shape[0])
    result = Results(labels=labels(sc), out=out, engine=engine, replicas=n, seed=seed,
                     horizon=float(horizon), window=window, n_windows=windows, slo=sc.slo,
                     elapsed_seconds=elapsed, compile_seconds=compile_seconds, precision=info, warmup=warmup)
    result.kernel_compiled = compiled_now
    return result


def _make_runner(sc, m, seed64: int, args: tuple, keep_o: int, chunk_size, client, progress, compile_notice):
    """(runner, whether the kernel compiled now, compile seconds): a Dask runner for ``client``, else a
    local one, with the kernel compiled (or loaded from the cache) here, outside the timed region."""
    compiled_now = False
    if client is not None:
        runner = _DaskRunner(client, sc, seed64, args, keep_o, chunk_size, m)
        compile_seconds = math.nan  # the kernel loads on the workers
    else:
        from hasim.sim import kernel as _kernel  # lazy: importing hasim compiles nothing

        runner = _LocalRunner(m, seed64, args, keep_o, chunk_size, shown=bool(progress))
        compiled_now = kernel_needs_compiling()
        if compile_notice is None:
            compile_notice = progress is True
        if compiled_now and compile_notice:
            # Said before the minutes of silence, whether or not stderr is a terminal (a CI log too).
            (compile_notice if callable(compile_notice) else _say)(_compile_notice())
        # Compile (or load from the cache) outside the timed region: zero replicas.
        started = time.perf_counter()
        _kernel.simulate_replicas(m, np.uint64(seed64), np.int64(0), np.int64(0), *_kargs(args),
                                  _rows(_kernel.new_output(0, m.n_causes, m.n_services, 0, 0, m.n_alerts), 0, 0))
        compile_seconds = time.perf_counter() - started
    return runner, compiled_now, compile_seconds


class _Tally:
    """Replicas done so far, shown on a tqdm bar or passed to a ``progress(done, total)`` callback;
    ``grow`` raises the total when a precision target asks for more replicas."""

    def __init__(self, total: int, bar, progress):
        self.done, self.total, self.bar, self.progress = 0, total, bar, progress

    def advance(self, k: int) -> None:
        self.done += k
        if self.bar is not None:
            self.bar.update(k)
        elif callable(self.progress):
            self.progress(self.done, self.total)

    def grow(self, total: int) -> None:
        self.total = total
        if self.bar is not None:
            self.bar.total = total
            self.bar.refresh()


def _run_to_precision(runner, first: int, cap: int, precision: float, keep_windows, windows: int,
                      advance, grow):
    """Grow the run ``0 .. n - 1`` until the relative half-width of ``1 - ra`` meets ``precision``."""
    parts = []
    n = 0
    target = first
    batches = []
    while True:
        parts.append(runner.run(n, target, _keep_windows(keep_windows, windows, target), advance))
        n = target
        ra = np.concatenate([p.ra for p in parts])
        outages = int(sum(int(p.outages.sum()) for p in parts))
        mean, half, rel = relative_half_width(ra, outages)
        batches.append({"replicas": n, "unavailability": mean, "half_width": half if math.isfinite(half) else None,
                        "relative_half_width": rel if math.isfinite(rel) else None, "outages": outages})
        # Narrow is not enough: an interval on a few outages is narrow by luck as often as not, and a
        # run that has lost nothing yet has no precision at all (it grows, it does not succeed).
        if outages >= MIN_OUTAGES and rel <= precision:
            reason, reached = "precision_reached", True
            break
        if n >= cap:
            reason, reached = ("zero_unavailability" if mean == 0.0 else "max_replicas"), False
            break
        if outages < MIN_OUTAGES:
            # Grow towards the replicas that should show MIN_OUTAGES at the rate seen so far.
            predicted = 4 * n if outages == 0 else math.ceil(1.1 * n * MIN_OUTAGES / outages)
        else:
            predicted = math.ceil(1.1 * n * (rel / precision) ** 2)
        target = min(cap, 4 * n, max(predicted, n + max(1, n // 4)))
        grow(target)
    kw = _keep_windows(keep_windows, windows, n)
    out = SimOutput(*(np.concatenate([(a[:, :kw] if name == "win" else a) for a in arrays])
                      for name, arrays in zip(SimOutput._fields, zip(*parts))))
    info = {"target": precision, "reached": reached, "stop_reason": reason, "max_replicas": cap,
            "relative_half_width": batches[-1]["relative_half_width"], "batches": batches}
    return out, info


def _kargs(args):
    horizon, window, windows, threshold, warmup = args
    return horizon, window, np.int64(windows), threshold, float(warmup)


def warmup_hours(warmup) -> float:
    """``warmup`` in hours (0 for None); a negative or non-finite one is a ValueError."""
    try:
        hours = 0.0 if warmup is None else float(parse_duration(warmup))
    except (TypeError, ValueError):
        hours = math.nan
    if not (hours >= 0.0 and math.isfinite(hours)):
        raise ValueError(f"warmup must be a duration of 0 or more, got {warmup!r}")
    return hours


class _LocalRunner:
    """Replicas ``lo .. hi - 1`` in this process, in chunks of the numba kernel."""

    def __init__(self, m, seed64, args, keep_outages, chunk_size, shown: bool = False):
        self.m, self.seed, self.args = m, np.uint64(seed64), args
        self.keep_o, self.chunk_size, self.shown = keep_outages, chunk_size, shown

    def run(self, lo: int, hi: int, keep_windows: int, advance) -> SimOutput:
        from hasim.sim import kernel as _kernel

        m = self.m
        n = hi - lo
        chunk = _chunk_size(n, self.shown) if self.chunk_size is None else max(1, int(self.chunk_size))
        out = _kernel.new_output(n, m.n_causes, m.n_services, keep_windows, self.keep_o, m.n_alerts)
        for a in range(0, n, chunk):
            b = min(a + chunk, n)
            _kernel.simulate_replicas(m, self.seed, np.int64(lo + a), np.int64(b - a), *_kargs(self.args),
                                      _rows(out, a, b))
            advance(b - a)
        return out

    def close(self) -> None:
        pass


class _DaskRunner:
    """Replicas ``lo .. hi - 1`` as Dask tasks (:func:`hasim.sim.cluster.run_chunk`), placed by row."""

    def __init__(self, client, scenario, seed64, args, keep_outages, chunk_size, m):
        from dask.base import tokenize

        from hasim.sim.cluster import compile_model

        self.client, self.seed, self.args, self.keep_o, self.chunk_size, self.m = (
            client, seed64, args, keep_outages, chunk_size, m)
        # The scenario goes to the cluster once; one worker compiles it and the others fetch the
        # (small) compiled arrays.  A task rather than scatter: it has lineage, so the model is
        # recomputed if every worker that held it is lost.
        try:
            content = scenario.model_dump_json()
        except Exception:  # not serialisable: a key unique to this run (no reuse, still correct)
            import uuid

            content = uuid.uuid4().hex
        self.token = tokenize(content, seed64, args, keep_outages)
        self.model = client.submit(compile_model, scenario, key=f"hasim-model-{self.token}", retries=3)

    def run(self, lo: int, hi: int, keep_windows: int, advance) -> SimOutput:
        from distributed import as_completed

        from hasim.sim.cluster import run_chunk

        n = hi - lo
        if self.chunk_size is not None:
            chunk = max(1, int(self.chunk_size))
        else:
            threads = sum(self.client.nthreads().values()) or 1
            chunk = _dask_chunk_size(n, threads)
        horizon, window, windows, threshold, warmup = self.args
        rows = {}
        for a in range(lo, hi, chunk):
            b = min(a + chunk, hi)
            fut = self.client.submit(run_chunk, self.model, self.seed, a, b, horizon, window, windows, threshold,
                                     keep_windows, self.keep_o, warmup, key=f"hasim-chunk-{self.token}-{keep_windows}-{a}-{b}",
                                     retries=3)
            rows[fut.key] = (fut, a, b)
        m = self.m
        out = new_output(n, m.n_causes, m.n_services, keep_windows, self.keep_o, m.n_alerts)
        try:
            for fut, part in as_completed([f for f, _, _ in rows.values()], with_results=True):
                _, a, b = rows[fut.key]
                for dst, src in zip(_rows(out, a - lo, b - lo), part):
                    dst[...] = src
                fut.release()
                advance(b - a)
        finally:
            for fut, _, _ in rows.values():
                fut.release()
        return out

    def close(self) -> None:
        self.model.release()


def _simulate_simpy(sc, replicas, seed, horizon, progress, keep_windows, keep_outages, warmup) -> Results:
    from hasim.sim.reference.engine import simulate_reference  # lazy: it imports simpy (and numba, for the sample keys)

    callback, bar = (progress if callable(progress) else None), None
    if progress is True:  # the reference engine is ~300x slower: the run that most needs a bar
        n = sc.replicas if replicas is None else int(replicas)
        bar = progress_bar(n, f"{sc.name} (simpy)")
        callback = lambda done, total: bar.update(done - bar.n)  # noqa: E731
    try:
        out, info = simulate_reference(sc, replicas=replicas, seed=seed, horizon=horizon,
                                       keep_windows=keep_windows, keep_outages=keep_outages, progress=callback,
                                       warmup=warmup_hours(warmup))
    finally:
        if bar is not None:
            bar.close()
    return Results(labels=labels(sc), out=out, engine="simpy", replicas=info["replicas"], seed=info["seed"],
                   horizon=float(info["horizon"]), window=float(info["window"]), n_windows=info["n_windows"],
                   slo=sc.slo, elapsed_seconds=info["elapsed_seconds"], warmup=info["warmup"])


def _rows(out, lo: int, hi: int):
    """Rows ``lo:hi`` of every output array (views: C-contiguous, written in place)."""
    return type(out)(*(a[lo:hi] for a in out))
