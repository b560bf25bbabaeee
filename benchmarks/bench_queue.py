"""The kernel's two layouts of pending events, side by side: linear scan against 4-ary heap.

    python benchmarks/bench_queue.py [--quick]

For one active pool of n instances (MTBF 1000 h, MTTR 10 h, min_healthy n - 1, 1 year), the
same compiled model is run with ``scan_queue`` True and False (both layouts pop the same events
in the same order, so the results are bit-identical and only the time differs), one thread,
alternating, best of 5.  ``hasim.sim.compile.SCAN_MAX`` is set from where the lines cross.
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np

import hasim
from hasim.sim import kernel as _kernel
from hasim.sim.compile import SCAN_MAX, compile_scenario
from hasim.sim.engine import n_windows


def pool(n: int) -> hasim.Scenario:
    return hasim.Scenario(name=f"pool-{n}", entry="api", services={
        "api": {"replicas": n, "min_healthy": max(n - 1, 1), "failure": {"mtbf": "1000h"},
                "repair": {"mttr": "10h"}}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5x fewer events per row")
    args = parser.parse_args()
    numba.set_num_threads(1)
    horizon, window = 8760.0, 730.0
    target = 1_000_000 if args.quick else 5_000_000  # events per timed call
    print(f"numba {numba.__version__}, 1 thread, SCAN_MAX = {SCAN_MAX}")
    print(f"{'sources':>8} {'scan ns/event':>14} {'heap ns/event':>14} {'heap / scan':>12}")
    for n in (3, 8, 16, 24, 32, 48, 64, 96, 128):
        base = compile_scenario(pool(n)).model
        replicas = max(2, target // (n * 18))  # ~17.5 failures + repairs per instance-year
        best = {}
        outs = {}
        for scan in (True, False):
            m = base._replace(scan_queue=scan)
            outs[scan] = _kernel.new_output(replicas, m.n_causes, m.n_services, 1, 1, m.n_alerts)
            _kernel.simulate_replicas(m, np.uint64(1), np.int64(0), np.int64(1), horizon, window,
                                      np.int64(n_windows(horizon, window)), 0.999, 0.0, outs[scan])  # warm
            best[scan] = float("inf")
        for _ in range(5):
            for scan in (True, False):
                m = base._replace(scan_queue=scan)
                start = time.perf_counter()
                _kernel.simulate_replicas(m, np.uint64(1), np.int64(0), np.int64(replicas), horizon, window,
                                          np.int64(n_windows(horizon, window)), 0.999, 0.0, outs[scan])
                best[scan] = min(best[scan], time.perf_counter() - start)
        assert np.array_equal(outs[True].ra, outs[False].ra), "the layouts must pop the same order"
        events = int(outs[True].events[:replicas].sum())
        scan_ns, heap_ns = best[True] / events * 1e9, best[False] / events * 1e9
        print(f"{base.n_sources:>8} {scan_ns:>14.1f} {heap_ns:>14.1f} {heap_ns / scan_ns:>11.2f}x")


if __name__ == "__main__":
    main()
