"""Both engines side by side, one run, one machine: events per second and the speed gap.

    python benchmarks/run.py [--quick]        (also: make bench)

1. Per scenario -- a 2-of-3 pool (MTBF 1000 h, MTTR 10 h), the flagship
   scenarios/ha-rest-api.yaml, a 1000-instance fleet -- events per second and
   nanoseconds per event of the numba engine on one thread
   (``numba.set_num_threads(1)``: the ratio is per core) and of the SimPy
   reference engine, and the ratio numba : simpy.  Events are each engine's
   own count (numba: popped heap events; simpy: primary events, i.e. clocks
   running out, failover / probe / DNS / cache timers), so the table also
   gives the ratio of simulated replica-years per second, which does not
   depend on how either engine counts.  Then the flagship on the numba
   engine with and without its delays (health checks, DNS TTL and stale
   resolvers): the time per simulated year, side by side (issue 4 asks for
   at most 1.5x).
2. Scaling of the numba engine from 10 to 10 000 instances (one active pool).
3. JIT cold start (a fresh process with an empty NUMBA_CACHE_DIR: compiles
   everything) against warm start (a second process reusing that cache), to
   the first result of ``hasim.sim.engine.simulate``; and the reference engine's
   time to first result in a fresh process.

Timings exclude compilation (``Results.elapsed_seconds``) except in part 3.
No test asserts on these figures; benchmarks/README.md records them.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

import hasim
from hasim.sim.engine import simulate
from hasim.sim.reference.engine import simulate_reference

ROOT = Path(__file__).resolve().parents[1]
YEAR = 8760.0


def pool(n: int, k: int, name: str | None = None) -> hasim.Scenario:
    return hasim.Scenario(name=name or f"pool-{n}", entry="api", services={
        "api": {"replicas": n, "min_healthy": k, "failure": {"mtbf": "1000h"}, "repair": {"mttr": "10h"}}})


def without_delays(sc: hasim.Scenario) -> hasim.Scenario:
    services = {name: svc.model_copy(update={"health_check": None, "dns": None,
                                             "cached": [c.model_copy(update={"ttl": 0.0}) for c in svc.cached]})
                for name, svc in sc.services.items()}
    return sc.model_copy(update={"services": services})


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal")).split()[1])
        mem = f", {kib / 2**20:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return (f"{cpu}, {os.cpu_count()} CPUs{mem}; Python {platform.python_version()}, numba {numba.__version__}, "
            f"numpy {np.__version__}")


def run_numba(sc, replicas: int, horizon: float) -> tuple[int, float]:
    simulate(sc, replicas=min(replicas, 16), horizon=horizon, seed=2)   # warm up (compile / cache load)
    res = simulate(sc, replicas=replicas, horizon=horizon, seed=1)
    return res.events, res.elapsed_seconds


def run_simpy(sc, replicas: int, horizon: float) -> tuple[int, float]:
    out, info = simulate_reference(sc, replicas=replicas, horizon=horizon, seed=1)
    return info["events"], info["elapsed_seconds"]


def part1(scale: int) -> None:
    flagship = hasim.load(ROOT / "scenarios" / "ha-rest-api.yaml")
    cases = [
        ("2-of-3 pool, MTBF 1000 h, MTTR 10 h", pool(3, 2, "k-of-n"), 10 * YEAR, 100_000 // scale, 400 // scale),
        ("flagship ha-rest-api", flagship, YEAR, 20_000 // scale, 100 // scale),
        ("1000-instance fleet (min_healthy 900)", pool(1000, 900, "fleet"), YEAR, 200 // scale, 4 // min(scale, 4)),
    ]
    numba.set_num_threads(1)
    print("\n1. Events per second, one core each (numba.set_num_threads(1); simpy is single-threaded)\n")
    head = (f"{'scenario':<44} {'engine':<6} {'replicas':>8} {'years':>9} {'events':>12} {'seconds':>8} "
            f"{'events/s':>10} {'ns/event':>9} {'years/s':>9}")
    print(head)
    print("-" * len(head))
    for label, sc, horizon, n_numba, n_simpy in cases:
        rows = {}
        for engine, fn, n in (("numba", run_numba, n_numba), ("simpy", run_simpy, max(1, n_simpy))):
            events, secs = fn(sc, n, horizon)
            years = n * horizon / YEAR
            rows[engine] = (events / secs, years / secs)
            print(f"{label:<44} {engine:<6} {n:>8} {years:>9.0f} {events:>12,} {secs:>8.2f} "
                  f"{events / secs:>10.3g} {secs / events * 1e9:>9.0f} {years / secs:>9.3g}")
            label = ""
        ev, yr = rows["numba"][0] / rows["simpy"][0], rows["numba"][1] / rows["simpy"][1]
        print(f"{'':<44} ratio numba : simpy = {ev:,.0f}x per event, {yr:,.0f}x per simulated year\n")

    # The cost of the delays: the flagship with and without them, same replicas, best of three.
    n = 20_000 // scale
    timing = {}
    for label, sc in (("with its delays", flagship), ("without (no health checks, DNS, caches)",
                                                       without_delays(flagship))):
        best = min(run_numba(sc, n, YEAR)[1] for _ in range(3))
        timing[label] = best
        print(f"flagship {label:<40} numba {n:>8} replica-years in {best:6.2f} s = {n / best:>9.3g} years/s")
    a, b = timing.values()
    print(f"{'':<44} delays cost {a / b:.2f}x (issue 4: at most 1.5x)\n")


def part2(scale: int) -> None:
    numba.set_num_threads(1)
    print("2. Scaling, numba, one active pool (MTBF 1000 h, MTTR 10 h, min_healthy 1), 1 year, 1 thread\n")
    print(f"{'instances':>10} {'replicas':>9} {'events':>12} {'ns/event':>9} {'vs 10':>6}")
    base = None
    for n in (10, 100, 1000, 10_000):
        reps = max(2, 400_000 // n // scale)
        events, secs = run_numba(pool(n, 1), reps, YEAR)
        ns = secs / events * 1e9
        base = base or ns
        print(f"{n:>10} {reps:>9} {events:>12,} {ns:>9.1f} {ns / base:>6.2f}")


_FIRST_RESULT = """
import time
t0 = time.perf_counter()
import hasim
from hasim.sim.engine import simulate
sc = hasim.Scenario(name="p", entry="a", services={"a": {"replicas": 3, "min_healthy": 2,
                    "failure": {"mtbf": 1000}, "repair": {"mttr": 10}}})
r = simulate(sc, replicas=1000)
print(f"{time.perf_counter() - t0:.2f} {r.compile_seconds:.2f}")
"""

_FIRST_REFERENCE = """
import time
t0 = time.perf_counter()
import hasim
from hasim.sim.reference.engine import simulate_reference
sc = hasim.Scenario(name="p", entry="a", services={"a": {"replicas": 3, "min_healthy": 2,
                    "failure": {"mtbf": 1000}, "repair": {"mttr": 10}}})
simulate_reference(sc, replicas=1000)
print(f"{time.perf_counter() - t0:.2f}")
"""


def part3() -> None:
    print("\n3. Fresh processes to the first result (2-of-3 pool, 1000 replicas x 1 year)\n")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        env.pop("HASIM_NUMBA_CACHE", None)
        for label in ("numba, cold (empty NUMBA_CACHE_DIR)", "numba, warm (second process)"):
            total, compile_s = subprocess.run([sys.executable, "-c", _FIRST_RESULT], env=env, capture_output=True,
                                              text=True, check=True).stdout.split()
            print(f"  {label:<38} {total:>6} s   (of which compile or cache load {compile_s} s)")
    total = subprocess.run([sys.executable, "-c", _FIRST_REFERENCE], capture_output=True, text=True,
                           check=True).stdout.strip()
    print(f"  {'simpy reference':<38} {total:>6} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="about 10x fewer replicas everywhere")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    started = time.perf_counter()
    print(f"hasim benchmarks ({'quick' if args.quick else 'full'}): {machine()}")
    part1(scale)
    part2(scale)
    part3()
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
