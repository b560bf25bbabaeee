"""Dask clusters for :func:`hasim.simulate`: :func:`connect` and the replica-chunk task.

``hasim.simulate(scenario, client=client)`` splits the replicas into chunks;
each chunk is one Dask task, :func:`run_chunk`, that runs the numba kernel for
replicas ``lo .. hi - 1`` on a worker and returns their output arrays.  Replica
``i`` always draws from the random stream ``(seed, i)`` and the driver places
every chunk's rows by index, so a Dask run is bit-identical to a local run
with the same seed, whatever the number of workers or the chunk size.  A chunk
is a pure function of its arguments: when a worker dies, Dask recomputes the
chunks it held (from their lineage) and ``retries=`` covers exceptions, so no
replica is lost or counted twice.

:func:`connect` turns a ``--dask`` spec into a client::

    with hasim.sim.cluster.connect("local:4") as client:
        res = hasim.simulate(scenario, client=client)

Importing this module does not import dask (only :func:`connect` and
:func:`hasim.simulate` with a client do) and compiles nothing.
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from typing import Iterator

import numpy as np

__all__ = ["connect", "parse_spec", "run_chunk", "compile_model"]

_SPEC_HELP = "expected 'local', 'local:N' (N worker processes) or a scheduler address such as 'tcp://host:8786'"
_ADDRESS = re.compile(r"^(tcp|tls|ucx|inproc|ws|wss)://[^\s/:]+(:\d+)?/?$")

#: One kernel call at a time per worker process: numba's threading layers (workqueue in
#: particular) must not be entered by several Python threads at once, and the kernel is
#: itself parallel over ``NUMBA_NUM_THREADS`` threads.
_KERNEL_LOCK = threading.Lock()


def parse_spec(spec: str) -> tuple[str, int | None]:
    """Parse a ``--dask`` spec.

    Returns
    -------
    ("local", n_workers)
        For ``"local"`` (``n_workers`` None: one per core) or ``"local:N"``.
    ("address", None)
        For a scheduler address such as ``"tcp://host:8786"``.

    Raises
    ------
    ValueError
        With the accepted forms, for anything else.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"dask spec: {_SPEC_HELP}, got {spec!r}")
    s = spec.strip()
    if s == "local":
        return "local", None
    if s.startswith("local:") or s.startswith("local["):
        n = s[len("local:"):] if s.startswith("local:") else s[len("local["):].rstrip("]")
        if not n.isdigit() or int(n) < 1:
            raise ValueError(f"dask spec {spec!r}: the worker count after 'local:' must be a positive integer")
        return "local", int(n)
    if "://" in s:
        if not _ADDRESS.match(s):
            raise ValueError(f"dask spec {spec!r}: not a scheduler address like 'tcp://host:8786'")
        return "address", None
    raise ValueError(f"dask spec {spec!r}: {_SPEC_HELP}")


@contextmanager
def connect(spec: str, *, timeout: float = 30.0) -> Iterator:
    """A ``dask.distributed.Client`` for a ``--dask`` spec, closed (with its cluster) on exit.

    Parameters
    ----------
    spec : str
        ``"local"``: a :class:`~distributed.LocalCluster` with one worker
        process per core; ``"local:N"`` (or ``"local[N]"``): ``N`` worker
        processes.  Local workers run one thread each and are started with
        ``NUMBA_NUM_THREADS=1``, so the workers together use one core each
        and numba's own threads do not oversubscribe the machine.
        ``"tcp://host:8786"`` (any ``scheme://host:port``): connect to an
        existing scheduler; its workers are left as they were configured
        (start them with ``--nthreads 1`` and ``NUMBA_NUM_THREADS=1``, or
        with one worker per machine and ``NUMBA_NUM_THREADS`` = its cores).
    timeout : float
        Seconds to wait for a remote scheduler.

    Yields
    ------
    distributed.Client

    Raises
    ------
    ValueError
        When ``spec`` is none of the above.
    """
    kind, n_workers = parse_spec(spec)
    from distributed import Client, LocalCluster

    if kind == "address":
        client = Client(spec.strip(), timeout=timeout)
        try:
            yield client
        finally:
            client.close()
        return
    n = n_workers or os.cpu_count() or 1
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0",
                           env={"NUMBA_NUM_THREADS": "1"})
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def compile_model(scenario):
    """The kernel model of ``scenario`` (a Dask task: compiled once per run, on a worker)."""
    from hasim.sim.compile import compile_scenario

    return compile_scenario(scenario).model


def run_chunk(model, seed: int, lo: int, hi: int, horizon: float, window: float, n_windows: int,
              threshold: float, keep_windows: int, keep_outages: int, warmup: float = 0.0) -> tuple[np.ndarray, ...]:
    """Replicas ``lo .. hi - 1`` of ``model``: the fields of a :class:`~hasim.sim.kernel._output.SimOutput`.

    A pure function of its arguments (the Dask task of :func:`hasim.simulate`
    with ``client=``): row ``r`` is replica ``lo + r``, drawn from the stream
    ``(seed, lo + r)``.
    """
    from hasim.sim import kernel as _kernel

    out = _kernel.new_output(hi - lo, model.n_causes, model.n_services, keep_windows, keep_outages,
                              model.n_alerts)
    with _KERNEL_LOCK:
        _kernel.simulate_replicas(model, np.uint64(seed), np.int64(lo), np.int64(hi - lo), float(horizon),
                                  float(window), np.int64(n_windows), float(threshold), float(warmup), out)
    return tuple(out)
