"""Shared by the benchmark scripts: designs timed side by side, alternated round by round."""

from __future__ import annotations

import statistics
import time

from hasim.sim.engine import simulate


def alternate(designs: dict, replicas: int, rounds: int, seed=lambda r: 1) -> tuple[dict, dict]:
    """Run every design ``rounds`` times, one of each per round, after a warm-up that loads (or
    compiles) the kernel; return the seconds of each run and the events of the last, by name.
    ``seed(round)`` is each round's seed."""
    for sc in designs.values():
        simulate(sc, replicas=64, seed=1)
    times = {name: [] for name in designs}
    events = {}
    for r in range(rounds):
        for name, sc in designs.items():
            t = time.perf_counter()
            res = simulate(sc, replicas=replicas, seed=seed(r))
            times[name].append(time.perf_counter() - t)
            events[name] = int(res.out.events.sum())
    return times, events


def print_table(groups, times: dict, events: dict, replicas: int) -> None:
    """Per variant: median seconds, events a replica, events/s and the ratios of its events/s and of
    its seconds to the first variant of its group."""
    print(f"{'variant':<12} {'seconds':>8} {'ev/replica':>11} {'M ev/s':>8} {'ev/s ratio':>11} {'time ratio':>11}")
    for group in groups:
        base = None
        for name in group:
            sec = statistics.median(times[name])
            rate = events[name] / sec
            if base is None:
                base = (rate, sec)
            print(f"{name:<12} {sec:8.3f} {events[name] / replicas:11.1f} {rate / 1e6:8.2f} "
                  f"{base[0] / rate:11.2f} {sec / base[1]:11.2f}", flush=True)
