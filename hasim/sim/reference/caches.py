"""Caches: a cached dependency serving stale for ``ttl``, then expired until it is back.

The settle step wakes the process when the dependency drops below 1 or is fully
back (:meth:`~hasim.sim.reference.evaluation.Evaluation._reacts`); while the cache
serves stale, the owner's value does not read the dependency
(:meth:`~hasim.sim.reference.evaluation.Evaluation._compute`).
"""

from __future__ import annotations

from hasim.sim.reference.state import EXPIRED, FRESH, KIND_SERVICE_TIMER, SERVING, Cache

__all__ = ["CacheProcesses"]


class CacheProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: the stale-cache mechanism."""

    def _cache(self, c: Cache):
        """``cached: {service: X, ttl}``: when X drops below 1 the cache serves for ``ttl``, then X's
        outage shows until X is fully back, which makes the cache fresh again."""
        owner = self.svc[c.owner]
        label = f"{owner.name} cache of {self.m.order[c.dep]}"
        while True:
            yield c.wake.wait()              # the settle saw X drop below 1
            c.state = SERVING
            self._log(label, SERVING)
            self._touch(owner)
            back = c.wake.wait()
            timer = self._timer(KIND_SERVICE_TIMER, c.ttl)
            fired = yield timer | back
            if back in fired:
                timer.cancelled = True
            else:
                c.state = EXPIRED
                self._log(label, EXPIRED)
                self._touch(owner)
                yield back
            c.state = FRESH
            self._log(label, FRESH)
            self._touch(owner)
