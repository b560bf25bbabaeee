"""Importance splitting against plain Monte Carlo at equal precision, side by side in one run.

    python benchmarks/bench_splitting.py [--plain-replicas 2000000] [--split-replicas 40000] [--rounds 3]

For 1-of-3 active pools (MTTR 4 h; MTBF 1000 h: seven nines, 2000 h: eight nines) both methods
run on the numba engine (kernels compiled and loaded before timing); each prints its seconds
(median of ``--rounds``), its estimate against the exact first-year answer, and its relative 95 %
half-width.  The time each needs for +-10 % is its time scaled by ``(half-width / 10 %)^2`` (the
half-width of a mean shrinks as 1 / sqrt(replicas)); their ratio is the speed-up at equal precision.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests._coverage import HOURS_PER_YEAR, first_year, pool  # noqa: E402
from hasim.sim.engine import simulate  # noqa: E402


def _rel(values, mean):
    return 1.96 * float(values.std(ddof=1)) / math.sqrt(values.size) / mean


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--plain-replicas", type=int, default=2_000_000)
    ap.add_argument("--split-replicas", type=int, default=40_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    warm = pool(3, 1, 1000.0)
    simulate(warm, replicas=64, horizon="1y", seed=1)
    simulate(warm, replicas=64, horizon="1y", seed=1, method="splitting")
    print(f"{'model':22s} {'method':9s} {'replicas':>9s} {'seconds':>8s} {'M ev/s':>7s} {'U':>10s} "
          f"{'exact':>10s} {'+-95%':>7s} {'s to 10%':>9s}")
    for mtbf in (1000.0, 2000.0):
        sc = pool(3, 1, mtbf)
        exact = 1.0 - first_year(3, 1, HOURS_PER_YEAR, mtbf)["request_availability"]
        needed = {}
        for method, n in (("plain", args.plain_replicas), ("splitting", args.split_replicas)):
            times, res = [], None
            for r in range(args.rounds):
                t = time.perf_counter()
                res = simulate(sc, replicas=n, horizon="1y", seed=100 + r, method=method)
                times.append(time.perf_counter() - t)
            sec = statistics.median(times)
            u_rep = (1.0 - res.out.ra) if method == "plain" else res.u_request
            u = float(u_rep.mean())
            rel = _rel(u_rep, u) if u > 0 else math.inf
            needed[method] = sec * (rel / 0.10) ** 2
            print(f"1-of-3, MTBF {mtbf:g} h   {method:9s} {n:9d} {sec:8.2f} {res.events / sec / 1e6:7.1f} "
                  f"{u:10.3e} {exact:10.3e} {100 * rel:6.1f}% {needed[method]:9.2f}", flush=True)
        print(f"  speed-up at equal precision: {needed['plain'] / needed['splitting']:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
