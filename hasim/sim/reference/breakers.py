"""Timeouts and circuit breakers on dependency edges (:mod:`hasim.model.breaker`; the kernel's rule
is :mod:`hasim.sim.kernel._breakers`).

When a caller is settled, each dependency it watches has a failed share ``f = 1 - value``: a
breaker's process-less state machine moves on it (closed: a window timer runs while ``f`` is above
the threshold; half-open: above it, the breaker opens at once, at or below it, it closes), and the
calls that time out give the caller's hold ``1 + sum calls x f x timeout / latency`` over the edges
not open.  A breaker's timer opens it or half-opens it; the load is then summed again from the
users with the open edges cut, which gives every pool with a capacity its load factor.  A shard
needs ``need at this hour x load factor x hold`` instances.
"""

from __future__ import annotations

import math

from hasim.model.breaker import hold_per_failure
from hasim.model.capacity import daily_demand, external, flow_edges
from hasim.model.structure import watched
from hasim.sim.reference.state import FULL, KIND_SERVICE_TIMER

__all__ = ["BreakerProcesses", "Edge", "CLOSED", "OPEN", "HALF_OPEN"]

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


class Edge:
    """A watched dependency edge of one caller: its timeout's hold per failed share, its breaker."""

    __slots__ = ("caller", "dep", "hold", "breaker", "state", "pending", "hard", "t0", "reset")

    def __init__(self, caller: int, dep: int, hold: float, breaker, hard: bool):
        self.caller, self.dep, self.hold, self.breaker, self.hard = caller, dep, hold, breaker, hard
        self.state = CLOSED
        self.pending = None  # the Timer that opens it
        self.reset = None    # open: the Timer that half-opens it (None: asleep until the dependency is back)
        self.t0 = 0.0        # when it last opened, or found its dependency still failing


class BreakerProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: watched edges, breakers and the cut load flow."""

    def _init_breakers(self) -> None:
        m, sc = self.m, self.m.sc
        self.edges: list[Edge] = []
        for s in self.svc:
            s.watch = []
            s.cut_by = {}
            for d in watched(s.spec):
                e = Edge(s.index, m.index[d], hold_per_failure(s.spec, d), s.spec.breakers.get(d),
                         d in s.spec.dependencies)
                s.watch.append(e)
                self.edges.append(e)
                if e.breaker is not None:
                    s.cut_by[e.dep] = e
        self.flow = [(m.index[a], m.index[b], c, self.svc[m.index[a]].cut_by.get(m.index[b]))
                     for a, b, c in flow_edges(sc)]
        full = daily_demand(sc)
        self.full_load = [full[name] for name in m.order]
        self.external_load = [external(sc.services[name]) for name in m.order]
        self.dynamic = bool(any(e.breaker is not None for e in self.edges))
        self.st_hold_shards = [sh for s in self.svc if m.reach[s.index] and any(e.hold > 0 for e in s.watch)
                               for sh in s.shards]
        self.st_breakers = [e for e in self.edges if e.breaker is not None and e.breaker.fallback == "fail"
                            and e.hard and m.reach[e.caller]]

    def _need(self, s, sh) -> float:
        """What shard ``sh`` of ``s`` needs now: its need at this hour x load factor x hold."""
        return sh.base_k * s.load_factor * s.hold

    def _moved(self, s) -> None:
        for sh in s.shards:
            sh.k = self._need(s, sh)
        self._touch(s)

    def _breakers_react(self, s) -> None:
        """``s`` is settled: its breakers react to their dependencies' failed shares, its hold follows."""
        hold = 1.0
        for e in s.watch:
            f = 1.0 - self.vals[e.dep]
            b = e.breaker
            if b is not None:
                above = f > b.threshold
                if e.state == OPEN:
                    if e.reset is None and not above:   # asleep, and the dependency is back: the next reset
                        k = max(1.0, math.ceil((self.env.now - e.t0) / b.reset_timeout))
                        e.reset = t = self._timer(KIND_SERVICE_TIMER, e.t0 + k * b.reset_timeout - self.env.now)
                        t.callbacks.append(lambda ev, e=e: self._breaker_half_opens(e, ev))
                    continue
                if above and e.pending is None:
                    e.pending = self._timer(KIND_SERVICE_TIMER, b.window if e.state == CLOSED else 0.0)
                    e.pending.callbacks.append(lambda ev, e=e: self._breaker_opens(e, ev))
                elif not above:
                    if e.pending is not None:
                        e.pending.cancelled = True
                        e.pending = None
                    if e.state == HALF_OPEN:
                        e.state = CLOSED
                        self._log(s.name, f"breaker on {self.svc[e.dep].name} closed")
            hold += e.hold * f
        if hold != s.hold:
            s.hold = hold
            for sh in s.shards:
                sh.k = self._need(s, sh)

    def _breaker_opens(self, e: Edge, ev) -> None:
        if ev.cancelled:
            return
        e.pending = None
        e.state = OPEN
        e.t0 = self.env.now
        self._log(self.svc[e.caller].name, f"breaker on {self.svc[e.dep].name} opened")
        e.reset = t = self._timer(KIND_SERVICE_TIMER, e.breaker.reset_timeout)
        t.callbacks.append(lambda ev, e=e: self._breaker_half_opens(e, ev))
        self._touch(self.svc[e.caller])
        self._cut_flow()

    def _breaker_half_opens(self, e: Edge, ev) -> None:
        e.reset = None
        if 1.0 - self.vals[e.dep] > e.breaker.threshold:
            # Still failing with this edge's load cut, so at least as much with it back: it would open again
            # at once.  It sleeps instead until the dependency is back (the kernel's rule).
            e.t0 = self.env.now
            return
        e.state = HALF_OPEN
        self._log(self.svc[e.caller].name, f"breaker on {self.svc[e.dep].name} half-open")
        self._touch(self.svc[e.caller])
        self._cut_flow()

    def _cut_flow(self) -> None:
        """Sum the load again with the open breakers' edges cut: every pool's load factor."""
        hour = self.hour
        any_open = any(e.state == OPEN for e in self.edges)
        d = [float(x[hour]) for x in self.external_load]
        if any_open:
            for a, b, calls, e in self.flow:
                if e is None or e.state != OPEN:
                    d[b] += d[a] * calls
        for s in self.svc:
            if s.spec.capacity is None:
                continue
            full = float(self.full_load[s.index][hour])
            lf = 1.0 if (not any_open or full <= 0.0) else min(1.0, d[s.index] / full)
            if lf != s.load_factor:
                s.load_factor = lf
                self._moved(s)

    def _masked(self, s, d: int) -> int:
        """Hard dependency ``d`` of ``s`` behind an open breaker: 1 its fallback serves, 0 it fails; -1 not open."""
        e = s.cut_by.get(d)
        if e is None or e.state != OPEN:
            return -1
        return 1 if e.breaker.fallback == "serve" else 0

    def _breaker_unnoticed(self) -> bool:
        """An open breaker failing fast while its dependency serves in full (the ``breaker`` stage)."""
        return any(e.state == OPEN and self.svc[e.dep].status == FULL for e in self.st_breakers)
