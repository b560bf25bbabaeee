"""Sweep overhead: a 100-point sweep of the flagship at 1 000 replicas each against one run of
100 000 replicas, measured side by side in one process.

    python benchmarks/bench_sweep.py            # 3 rounds, alternating, best of
    python benchmarks/bench_sweep.py --rounds 1 --replicas 500

The target of issue 7: the sweep takes at most 1.5x the single run.  The grid is
4 API replica counts x 5 database failover detections x 5 DNS TTLs of the edge
router (100 points).  The JIT compile happens before any timing (one warm-up run).
CPU time (all threads of the process) is printed too: on a shared machine it moves far
less than wall time.  The per-point overhead is then split into its parts: validating the 100 variants
(``Scenario.replace``), ``compile_scenario``, and the kernel.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import hasim
from hasim.sim.compile import compile_scenario
from hasim.studies.sweep import run_points, sweep_points

ROOT = Path(__file__).resolve().parents[1]
GRID = {
    "services.api.replicas": [2, 3, 4, 5],
    "services.db.failover.detection": ["10s", "30s", "1m", "2m", "5m"],
    "services.edge.dns.ttl": ["10s", "30s", "1m", "5m", "15m"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (the best of each is compared)")
    ap.add_argument("--replicas", type=int, default=1000, help="replicas per sweep point (default 1000)")
    args = ap.parse_args()

    sc = hasim.load(ROOT / "scenarios" / "ha-rest-api.yaml")
    paths, points = sweep_points(sc, GRID)
    n_points = len(points)
    total = n_points * args.replicas
    hasim.simulate(sc, replicas=64)  # compile (or load the cached kernel) outside the timings

    single, swept, single_cpu, swept_cpu = [], [], [], []
    for _ in range(args.rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        hasim.simulate(sc, replicas=total)
        single.append(time.perf_counter() - t0)
        single_cpu.append(time.process_time() - c0)
        t0, c0 = time.perf_counter(), time.process_time()
        frame = hasim.sweep(sc, GRID, replicas=args.replicas)
        swept.append(time.perf_counter() - t0)
        swept_cpu.append(time.process_time() - c0)
    assert len(frame) == n_points

    # Where the per-point time goes (one pass each).
    t0 = time.perf_counter()
    sweep_points(sc, GRID)
    validate = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _, variant in points:
        compile_scenario(variant)
    compiling = time.perf_counter() - t0
    t0 = time.perf_counter()
    run_points(sc, paths, points, replicas=args.replicas)
    run_only = time.perf_counter() - t0

    s, w = min(single), min(swept)
    print(f"flagship ha-rest-api, {n_points}-point grid ({' x '.join(str(len(v)) for v in GRID.values())}), "
          f"{args.replicas} replicas per point, {args.rounds} alternating rounds (best of; medians "
          f"{statistics.median(single):.2f} s and {statistics.median(swept):.2f} s)")
    print(f"  one run of {total} replicas     {s:7.2f} s   (rounds: {', '.join(f'{x:.2f}' for x in single)})")
    print(f"  sweep, {n_points} x {args.replicas} replicas  {w:7.2f} s   (rounds: "
          f"{', '.join(f'{x:.2f}' for x in swept)})")
    print(f"  ratio sweep / single          {w / s:7.2f}   (target <= 1.5)")
    print(f"  CPU seconds (all threads)     single {min(single_cpu):.2f}, sweep {min(swept_cpu):.2f}, ratio "
          f"{min(swept_cpu) / min(single_cpu):.2f}   (less sensitive to other load on the machine)")
    print(f"  overhead per point            {1e3 * (w - s) / n_points:7.1f} ms")
    print(f"    validate all points (replace)  {1e3 * validate / n_points:6.1f} ms/point")
    print(f"    compile_scenario               {1e3 * compiling / n_points:6.1f} ms/point")
    print(f"    run_points (simulate + rows)   {1e3 * run_only / n_points:6.1f} ms/point")


if __name__ == "__main__":
    main()
