"""Events per second of the numba engine (hasim._kernel), warm JIT.

    python benchmarks/run_engine.py [--replicas N] [--quick]

1. The issue-3 case: a 2-of-3 active pool (MTBF 1000 h, MTTR 10 h,
   exponential), 10 years, 100 000 replicas, on one thread and on two
   (``numba.set_num_threads``), and the ratio.
2. Scaling: one active pool of 10 .. 10 000 instances (MTBF 1000 h, MTTR 10 h,
   min_healthy 1): nanoseconds per event.

Events are the kernel's own count of processed component events; elapsed time
excludes compilation (every configuration runs once to warm up first) and is the
best of three runs (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numba
import numpy as np

import hasim
from hasim import _kernel
from hasim.compile import compile_scenario
from hasim.engine import n_windows


def pool(n: int, k: int) -> hasim.Scenario:
    return hasim.Scenario(name=f"pool-{n}", entry="api", services={
        "api": {"replicas": n, "min_healthy": k, "failure": {"mtbf": "1000h"}, "repair": {"mttr": "10h"}}})


def run(sc: hasim.Scenario, replicas: int, horizon: float, repeat: int = 3) -> tuple[float, int]:
    """(best seconds of ``repeat`` kernel calls over ``replicas`` replicas, events); compiled first."""
    m = compile_scenario(sc).model
    window = 730.0
    nw = n_windows(horizon, window)
    out = _kernel.new_output(replicas, m.n_causes, m.n_services, 1, 1)
    args = (m, np.uint64(1), np.int64(0), np.int64(replicas), horizon, window, np.int64(nw), 0.999, out)
    warm = _kernel.new_output(1, m.n_causes, m.n_services, 1, 1)
    _kernel.simulate_replicas(*args[:3], np.int64(1), *args[4:8], warm)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        _kernel.simulate_replicas(*args)
        best = min(best, time.perf_counter() - start)
    return best, int(out.events.sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10x fewer replicas everywhere")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    replicas = args.replicas // scale
    horizon = 10 * 8760.0

    print(f"numba {numba.__version__}, {os.cpu_count()} CPUs, NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}")
    sc = pool(3, 2)
    rates = {}
    for threads in (1, 2):
        if threads > numba.config.NUMBA_NUM_THREADS:
            continue
        numba.set_num_threads(threads)
        secs, events = run(sc, replicas, horizon)
        rates[threads] = events / secs
        print(f"2-of-3 pool, 10 y x {replicas} replicas, {threads} thread(s): {events:,} events "
              f"in {secs:.3f} s = {events / secs / 1e6:.1f} M events/s")
    if 2 in rates:
        print(f"speed-up with 2 threads: {rates[2] / rates[1]:.2f}x")

    numba.set_num_threads(1)
    print("\nscaling, one active pool (MTBF 1000 h, MTTR 10 h), 1 thread:")
    print(f"{'instances':>10} {'replicas':>9} {'events':>12} {'ns/event':>9} {'vs 10':>6}")
    base = None
    for n in (10, 100, 1000, 10_000):
        reps = max(2, 200_000 // n // scale)
        secs, events = run(pool(n, 1), reps, 8760.0)
        ns = secs / events * 1e9
        base = base or ns
        print(f"{n:>10} {reps:>9} {events:>12,} {ns:>9.1f} {ns / base:>6.2f}")

    print("\nfresh processes (`hasim.simulate` of the 2-of-3 pool, 1000 replicas x 1 y):")
    code = ("import time; t0 = time.perf_counter(); import hasim; from hasim.engine import simulate; "
            "sc = hasim.Scenario(name='p', entry='a', services={'a': {'replicas': 3, 'min_healthy': 2, "
            "'failure': {'mtbf': 1000}, 'repair': {'mttr': 10}}}); r = simulate(sc, replicas=1000); "
            "print(f'{time.perf_counter() - t0:.2f} {r.compile_seconds:.2f}')")
    env = dict(os.environ)
    for label, extra in (("cold (no cache)", {"HASIM_NUMBA_CACHE": "0"}), ("warm cache", {})):
        out = subprocess.run([sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True,
                             check=True).stdout.split()
        print(f"  {label:<16} first result after {out[0]} s (of which compile or cache load {out[1]} s)")


if __name__ == "__main__":
    main()
