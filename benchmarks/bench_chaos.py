"""Chaos experiments on both engines, side by side: seconds per experiment and the engines' ratio.

    python benchmarks/bench_chaos.py [--rounds 3] [--simpy-replicas 40]

Runs each shipped experiment of ``scenarios/chaos/`` on its design (the flagship, or
``circuit-breaker.yaml`` for ``breaker-trips``) with the numba engine at the file's replicas and
with the SimPy engine at ``--simpy-replicas``, alternating, after one warm-up call each (the numba
kernel compiled and cached).  Prints per experiment the median seconds, the simulated events per
second of each engine (summed over the experiment's runs: the entry and every service) and the
ratio of events/s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import hasim

ROOT = Path(__file__).resolve().parents[1]
DESIGN = {"breaker-trips": "circuit-breaker.yaml"}


def _events(result) -> int:
    return int(sum(int(out.events.sum()) for out in result.runs.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--simpy-replicas", type=int, default=40)
    args = parser.parse_args()
    print(f"{'experiment':<14} {'numba s':>8} {'repl':>5} {'M ev/s':>8} {'simpy s':>8} {'repl':>5} {'k ev/s':>8}"
          f" {'ratio':>7}")
    for path in sorted((ROOT / "scenarios" / "chaos").glob("*.yaml")):
        exp = hasim.load_experiment(path)
        sc = hasim.load(ROOT / "scenarios" / DESIGN.get(path.stem, "ha-rest-api.yaml"))
        runs = {"numba": exp.replicas, "simpy": args.simpy_replicas}
        times = {e: [] for e in runs}
        rate = {}
        for engine, n in runs.items():
            hasim.chaos(sc, exp, engine=engine, replicas=min(n, 4))  # warm-up (the numba compile)
        for _ in range(args.rounds):
            for engine, n in runs.items():
                t = time.perf_counter()
                r = hasim.chaos(sc, exp, engine=engine, replicas=n)
                times[engine].append(time.perf_counter() - t)
                rate[engine] = _events(r)
        med = {e: statistics.median(v) for e, v in times.items()}
        eps = {e: rate[e] / med[e] for e in runs}
        print(f"{path.stem:<14} {med['numba']:8.2f} {runs['numba']:5d} {eps['numba'] / 1e6:8.2f} "
              f"{med['simpy']:8.2f} {runs['simpy']:5d} {eps['simpy'] / 1e3:8.1f} {eps['numba'] / eps['simpy']:7.0f}x")


if __name__ == "__main__":
    main()
