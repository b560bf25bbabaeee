"""A/B of two checkouts of the kernel: events/s of the 2-of-3 pool, alternating processes.

    python benchmarks/ab_kernels.py BEFORE_ROOT AFTER_ROOT [--rounds 5] [--replicas 20000] [--scenario FILE]

Each round starts one process per checkout (``PYTHONPATH`` = its root, so ``import hasim`` is that
checkout's, with its own warm numba cache), in alternating order; each process times
``simulate_replicas`` of the 2-of-3 pool (MTBF 1000 h, MTTR 10 h, 10 years) on one thread, best
of 3 calls after a warm-up call.  ``--scenario FILE`` times that scenario instead (same 10-year
horizon and windows, ``--replicas`` replicas).  Prints every process's best and, per checkout, the best and
the median over processes (M events/s).  The machine switches between two speeds every few
seconds (see README), hence alternating, and best and median both.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

CHILD = """
import time, numba, numpy as np, hasim
try:
    from hasim.sim import kernel as _kernel
except ImportError:  # a checkout from before the kernel split
    from hasim.sim import kernel as _kernel
from hasim.sim.compile import compile_scenario
numba.set_num_threads(1)
sc = hasim.Scenario(name="p", entry="api", services={"api": {"replicas": 3, "min_healthy": 2,
     "failure": {"mtbf": "1000h"}, "repair": {"mttr": "10h"}}}) if not __SCENARIO__ else hasim.load(__SCENARIO__)
m = compile_scenario(sc).model
n = __REPLICAS__
out = _kernel.new_output(n, m.n_causes, m.n_services, 1, 1)
args = (m, np.uint64(1), np.int64(0), np.int64(n), 87600.0, 730.0, np.int64(120), 0.999, 0.0, out)
try:
    _kernel.simulate_replicas(*args)
except TypeError:  # a checkout from before the warm-up argument (issue 13)
    args = args[:8] + args[9:]
    _kernel.simulate_replicas(*args)
best = 1e9
for _ in range(3):
    t = time.perf_counter(); _kernel.simulate_replicas(*args); best = min(best, time.perf_counter() - t)
print(int(out.events.sum()), best, hasim.__file__)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--replicas", type=int, default=20_000)
    parser.add_argument("--scenario", default="", help="a scenario file (default: the 2-of-3 pool)")
    args = parser.parse_args()
    rates: dict[str, list[float]] = {"before": [], "after": []}
    events = {}
    for k in range(args.rounds):
        order = [("before", args.before), ("after", args.after)]
        if k % 2:
            order.reverse()
        for label, root in order:
            env = {**os.environ, "PYTHONPATH": os.path.abspath(root)}
            child = CHILD.replace("__REPLICAS__", str(args.replicas)).replace(
                "__SCENARIO__", repr(os.path.abspath(args.scenario) if args.scenario else ""))
            out = subprocess.run([sys.executable, "-c", child], env=env,
                                 cwd=root, capture_output=True, text=True, check=True).stdout.split()
            n, secs, path = int(out[0]), float(out[1]), out[2]
            events[label] = n
            rates[label].append(n / secs / 1e6)
            print(f"round {k} {label:6s} {rates[label][-1]:6.1f} M events/s  ({path})", flush=True)
    if events["before"] != events["after"]:
        print(f"event counts differ: {events}")
    for label, r in rates.items():
        print(f"{label:6s} best {max(r):6.1f}  median {statistics.median(r):6.1f} M events/s  "
              f"({events[label]:,} events per call)")
    print(f"after / before: best {max(rates['after']) / max(rates['before']):.3f}, "
          f"median {statistics.median(rates['after']) / statistics.median(rates['before']):.3f}")


if __name__ == "__main__":
    main()
