"""Shared by the benchmark scripts: designs timed side by side, alternated round by round."""

from __future__ import annotations

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
