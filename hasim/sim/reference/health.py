"""Health checks: the probe process of a pool's instance or of a router's target.

One process per probed endpoint; it sleeps while nothing can change (the endpoint
agrees with its rotation state and no streak runs) and is woken by an availability
change (an instance) or by the settle step (a router's target, whose served fraction
only the settle knows).
"""

from __future__ import annotations

import math
from typing import Callable

from hasim.sim.reference.state import KIND_SERVICE_TIMER, Instance, Service, Signal

__all__ = ["HealthProbes"]


class HealthProbes:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: health probes and their rotation flips."""

    def _health_probes(self, hc, healthy: Callable[[], bool], routed: Callable[[], bool],
                       flip: Callable[[], None], wake: Signal):
        """Probe one endpoint every ``interval`` from a uniformly random phase.  It leaves rotation at
        the ``unhealthy_threshold``-th consecutive failed probe and returns at the
        ``healthy_threshold``-th consecutive good one.  Probes that cannot change anything (the
        endpoint agrees with its rotation state and no streak is running) are not simulated."""
        interval = hc.interval
        phase = self.rng.random() * interval
        streak = 0
        done = -1                                # index of the last simulated probe (at phase + n * interval)
        while True:
            if streak == 0 and healthy() == routed():
                yield wake.wait()
                continue
            now = self.env.now
            n = max(done + 1, math.floor((now - phase) / interval) + 1)
            if phase + n * interval <= now:      # (rounding)
                n += 1
            done = n
            yield self._timer(KIND_SERVICE_TIMER, phase + n * interval - now)
            if healthy() == routed():
                streak = 0
                continue
            streak += 1
            if streak == (hc.unhealthy_threshold if routed() else hc.healthy_threshold):
                streak = 0
                flip()

    def _flip_instance(self, inst: Instance) -> None:
        sh = inst.shard
        inst.routed = not inst.routed
        d = 1 if inst.routed else -1
        if inst.available:
            sh.routed_up += d
        else:
            sh.routed_down += d
        self._log(inst.label, "re-added" if inst.routed else "removed from rotation")
        self._touch(sh.service)

    def _flip_target(self, s: Service, i: int) -> None:
        r = s.router
        r.seen_up[i] = not r.seen_up[i]
        self._log(s.name, f"sees {self.m.order[r.targets[i]]} {'up' if r.seen_up[i] else 'down'}")
        self._touch(s)
