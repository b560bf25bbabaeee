"""DNS routers: the answer clients see, and its TTL ramp.

The settle step decides a router's *desired* answer
(:meth:`~hasim.sim.reference.evaluation.Evaluation._reacts`); this process makes it
the answer and ramps the clients over from the previous mixture.  The ramp's
weight and the answer rule themselves are :meth:`~hasim.sim.reference.state.Router.weight`
and :meth:`~hasim.sim.reference.state.Router.answer_for`.
"""

from __future__ import annotations

from hasim.sim.reference.state import KIND_SERVICE_TIMER, Router, Service

__all__ = ["RouterProcesses"]


class RouterProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: the DNS answer of every router."""

    def _dns(self, s: Service):
        """A router's answer as clients see it.  When the answer changes (the settle found another one)
        the clients still on the previous mixture fall linearly from 1 to 0 over ``dns.ttl``;
        ``stale_fraction`` of them stay for ``stale_for``.  A change during a ramp starts a new ramp
        from the current mixture.  Without ``dns`` the switch is instant."""
        r = s.router
        change = r.changed.wait()
        while True:
            yield change
            now = self.env.now
            r.mix0 = self._mixture(r, now) if r.ends else None
            if r.route == "failover":
                self._answer_moved(s, r.answer, r.desired)
            r.answer, r.t0 = r.desired, now
            self._log(s.name, "answers " + ", ".join(self.m.order[t] for t, w in zip(r.targets, r.answer) if w > 0))
            self._touch(s)
            change = r.changed.wait()
            for end in r.ends:
                timer = self._timer(KIND_SERVICE_TIMER, end - (self.env.now - r.t0))
                fired = yield timer | change
                if change in fired:
                    timer.cancelled = True
                    break
                self._touch(s)               # one piece of the ramp is over
            else:
                r.mix0 = None

    def _mixture(self, r: Router, t: float) -> list[float]:
        total = sum(r.answer)
        a = [x / total for x in r.answer]
        if r.mix0 is None:
            return a
        w = r.weight(t)
        return [(1.0 - w) * x + w * y for x, y in zip(a, r.mix0)]
