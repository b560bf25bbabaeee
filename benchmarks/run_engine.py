"""Events per second of the numba engine (hasim.sim.kernel), warm JIT.

    python benchmarks/run_engine.py [--replicas N] [--quick] [--rounds R] [--no-cold]

1. The issue-3 case: a 2-of-3 active pool (MTBF 1000 h, MTTR 10 h,
   exponential), 10 years, 100 000 replicas, on one thread and on two
   (``numba.set_num_threads``), and the ratio.
2. Scaling: one active pool of 10 .. 10 000 instances (MTBF 1000 h, MTTR 10 h,
   min_healthy 1): nanoseconds per event.
3. Fresh processes to the first result, JIT cache cold and warm.

Events are the kernel's own count of processed component events; elapsed time
excludes compilation (every configuration runs once to warm up first).  The
machine may be shared (a 2-vCPU VM here runs the same call at two speeds some
1.5x apart, switching every few seconds), so the configurations of a part are
timed in alternation over ``--rounds`` rounds and each is reported by its best
round (the machine's own speed) and its median round (what a user sees).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

import numba
import numpy as np

import hasim
from hasim.sim import kernel as _kernel
from hasim.sim.compile import compile_scenario
from hasim.sim.engine import n_windows


def pool(n: int, k: int) -> hasim.Scenario:
    return hasim.Scenario(name=f"pool-{n}", entry="api", services={
        "api": {"replicas": n, "min_healthy": k, "failure": {"mtbf": "1000h"}, "repair": {"mttr": "10h"}}})


class Timed:
    """One configuration: a compiled model, its output arrays, the threads to run it on."""

    def __init__(self, sc: hasim.Scenario, replicas: int, horizon: float, threads: int = 1) -> None:
        m = compile_scenario(sc).model
        window = 730.0
        self.threads = threads
        self.out = _kernel.new_output(replicas, m.n_causes, m.n_services, 1, 1, m.n_alerts)
        self.args = (m, np.uint64(1), np.int64(0), np.int64(replicas), horizon, window,
                     np.int64(n_windows(horizon, window)), 0.999, 0.0, self.out)
        warm = _kernel.new_output(1, m.n_causes, m.n_services, 1, 1, m.n_alerts)
        _kernel.simulate_replicas(*self.args[:3], np.int64(1), *self.args[4:9], warm)  # compile / load
        self.seconds: list[float] = []

    def once(self) -> None:
        numba.set_num_threads(self.threads)
        start = time.perf_counter()
        _kernel.simulate_replicas(*self.args)
        self.seconds.append(time.perf_counter() - start)

    @property
    def events(self) -> int:
        return int(self.out.events.sum())

    def rate(self, pick) -> float:
        return self.events / pick(self.seconds)


def alternate(configs: list[Timed], rounds: int) -> None:
    for _ in range(rounds):
        for c in configs:
            c.once()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10x fewer replicas everywhere")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--no-cold", action="store_true", help="skip the cold compile (about 3.5 min)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    replicas = args.replicas // scale
    horizon = 10 * 8760.0

    print(f"numba {numba.__version__}, {os.cpu_count()} CPUs, NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}, "
          f"{args.rounds} rounds")
    threads = [t for t in (1, 2) if t <= numba.config.NUMBA_NUM_THREADS]
    configs = [Timed(pool(3, 2), replicas, horizon, t) for t in threads]
    alternate(configs, args.rounds)
    print(f"2-of-3 pool, 10 y x {replicas} replicas ({configs[0].events:,} events), M events/s:")
    for c in configs:
        print(f"  {c.threads} thread(s): best {c.rate(min) / 1e6:5.1f}   median {c.rate(statistics.median) / 1e6:5.1f}")
    if len(configs) == 2:
        paired = [a / b for a, b in zip(configs[0].seconds, configs[1].seconds)]
        print(f"  speed-up with 2 threads: {configs[1].rate(min) / configs[0].rate(min):.2f}x of the bests, "
              f"median of paired rounds {statistics.median(paired):.2f}x")

    numba.set_num_threads(1)
    print("\nscaling, one active pool (MTBF 1000 h, MTTR 10 h, min_healthy 1), 1 y, 1 thread:")
    sizes = (10, 100, 1000, 10_000)
    scaled = [Timed(pool(n, 1), max(2, 200_000 // n // scale), 8760.0) for n in sizes]
    alternate(scaled, args.rounds)
    print(f"{'instances':>10} {'queue':>6} {'events':>12} {'best ns/event':>14} {'vs 10':>6} "
          f"{'median':>7} {'vs 10':>6}")
    best0 = med0 = None
    for n, c in zip(sizes, scaled):
        best = min(c.seconds) / c.events * 1e9
        med = statistics.median(c.seconds) / c.events * 1e9
        best0, med0 = best0 or best, med0 or med
        layout = "scan" if c.args[0].scan_queue else "heap"
        print(f"{n:>10} {layout:>6} {c.events:>12,} {best:>14.1f} {best / best0:>6.2f} {med:>7.1f} {med / med0:>6.2f}")

    print("\nfresh processes (`hasim.simulate` of the 2-of-3 pool, 1000 replicas x 1 y):")
    code = ("import time; t0 = time.perf_counter(); import hasim; from hasim.sim.engine import simulate; "
            "sc = hasim.Scenario(name='p', entry='a', services={'a': {'replicas': 3, 'min_healthy': 2, "
            "'failure': {'mtbf': 1000}, 'repair': {'mttr': 10}}}); r = simulate(sc, replicas=1000); "
            "print(f'{time.perf_counter() - t0:.2f} {r.compile_seconds:.2f}')")
    env = dict(os.environ)
    starts = (("cold (no cache)", {"HASIM_NUMBA_CACHE": "0"}), ("warm cache", {}))
    for label, extra in starts[1:] if args.no_cold else starts:
        out = subprocess.run([sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True,
                             check=True).stdout.split()
        print(f"  {label:<16} first result after {out[0]} s (of which compile or cache load {out[1]} s)")


if __name__ == "__main__":
    main()
