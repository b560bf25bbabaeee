"""Evaluation: settling the service graph after an event, and the served fractions.

After the processes of an instant have run, :meth:`Evaluation._settle` sweeps the
dirty services lowest index (topological order) first.  Before evaluating a
service it lets the mechanisms that must act first react (:meth:`Evaluation._reacts`:
a promotion waiting for ``failover.requires``, a cache, a router's answer) and, if
one was woken, resumes after it ran.  :meth:`Evaluation._compute` is the served
fraction ``s_X = own_X x (router mixture) x prod of hard dependencies``.
"""

from __future__ import annotations

from heapq import heappop

from hasim.sim.reference.state import (FRESH, FULL, PARTIAL, REGAINED, SERVING, SETTLE, UP, WAIT_REQ, ZERO,
                                       Service, Shard, Soon, status_of)

__all__ = ["Evaluation"]

#: Bound on the pauses of one settle: more means two mechanisms wake each other forever.
_MAX_PAUSES = 10_000


def _average(weights, values) -> float:
    """Weighted mean of the targets' values (exact 1.0 / 0.0 when they all are)."""
    num = den = 0.0
    for w, x in zip(weights, values):
        if w > 0.0:
            num += w * x
            den += w
    return num / den if den > 0.0 else 0.0


class Evaluation:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: the settle step and the served fractions."""

    def _own(self, s: Service) -> float:
        """Mean over shards of what each shard's own pool serves (times what a bad release leaves)."""
        if not s.shards:
            return 1.0
        total, full = 0.0, True
        for sh in s.shards:
            x = self._shard_own(s, sh)
            total += x
            full = full and x == 1.0
        own = 1.0 if full else total / len(s.shards)
        return own * self._deploy_share(s) if s.releases else own

    def _shard_own(self, s: Service, sh: Shard) -> float:
        mode = s.spec.mode
        if mode == "standby":
            return 1.0 if sh.state == UP else 0.0
        if mode == "quorum":
            return 1.0 if (sh.active is not None and sh.available >= s.k) else 0.0
        h, k = sh.routed_up + sh.extra, sh.k  # the instances an autoscaler added are healthy and routed
        if s.hc_loss:
            own = 1.0 if k <= 0.0 else h / max(h + sh.routed_down, k)  # k = 0: no request at this hour
        else:
            own = 1.0 if h >= k else h / k
        if s.spec.autoscaling is not None:
            self._autoscale(s, sh, h)
        if s.spec.overload is not None:
            own = self._overload_own(s, sh, h, own)
        return own

    def _compute(self, s: Service, vals, t: float) -> float:
        """s_X = own_X x (router: the clients' mixture over targets) x prod of hard dependencies."""
        val = s.own
        r = s.router
        if r is not None:
            targets = [vals[u] for u in r.targets]
            a = _average(r.answer, targets)
            w = r.weight(t) if r.mix0 is not None else 0.0
            val *= a if w == 0.0 else a + w * (_average(r.mix0, targets) - a)
        for d in s.deps:
            cache = s.masked_by.get(d)
            if cache is None or cache.state != SERVING:
                mask = self._masked(s, d)
                if mask == 0:
                    return 0.0
                if mask == -1:
                    val *= vals[d]
        return val

    def _reacts(self, s: Service) -> bool:
        """Wake a mechanism of ``s`` that must act before ``s`` is evaluated (True: the settle pauses)."""
        woke = False
        if s.spec.mode in ("standby", "quorum"):
            req = [self.m.index[q] for q in s.spec.failover.requires] if s.spec.failover else []
            if all(self.svc[q].status != ZERO for q in req):
                for sh in s.shards:
                    if sh.state in (WAIT_REQ, REGAINED):
                        sh.may_promote.fire()
                        woke = True
        for c in s.caches:
            dep_full = self.svc[c.dep].status == FULL
            if (c.state == FRESH and not dep_full) or (c.state != FRESH and dep_full):
                c.wake.fire()
                woke = True
        if s.watch:
            self._breakers_react(s)  # no pause: only ``s`` itself (its shards' needs) changes now
        r = s.router
        if r is not None:
            for i, u in enumerate(r.targets):
                healthy = self.svc[u].status != ZERO
                if r.hc is None:
                    r.seen_up[i] = healthy
                elif healthy != r.seen_up[i]:
                    r.probes[i].fire()           # its probes start counting (no pause: nothing changes now)
            desired = r.answer_for(r.seen_up)
            if desired != r.answer:
                r.desired = desired
                r.changed.fire()
                woke = True
        return woke

    def _evaluate(self, s: Service) -> bool:
        """Recompute ``s``'s value and status; True if anything its parents read changed."""
        now = self.env.now
        s.own = self._own(s)
        statuses = [status_of(s.own)]
        varying, degree = False, 0
        r = s.router
        if r is not None:
            support = [i for i, w in enumerate(r.answer) if w > 0]
            ramp = r.mix0 is not None and r.weight(now) > 0.0
            if ramp:
                support += [i for i, w in enumerate(r.mix0) if w > 0 and r.answer[i] == 0]
            tst = {self.svc[r.targets[i]].status for i in support}
            statuses.append(tst.pop() if len(tst) == 1 and tst <= {FULL, ZERO} else PARTIAL)
            linear = ramp and r.ttl > 0 and now - r.t0 < r.ttl
            inner = [self.svc[r.targets[i]] for i in support]
            varying = linear or any(x.varying for x in inner)
            degree = int(linear) + max((x.degree for x in inner), default=0)
        for d in s.deps:
            cache = s.masked_by.get(d)
            if cache is not None and cache.state == SERVING:
                continue
            mask = self._masked(s, d)
            if mask == 1:       # an open breaker's fallback answers
                continue
            if mask == 0:       # an open breaker fails fast
                statuses.append(ZERO)
                continue
            dep = self.svc[d]
            statuses.append(dep.status)
            varying = varying or dep.varying
            degree += dep.degree
        status = ZERO if ZERO in statuses else (FULL if all(x == FULL for x in statuses) else PARTIAL)
        val = self._compute(s, self.vals, now)
        if status == FULL:
            val = 1.0
        elif status == ZERO:
            val = 0.0
        if s.status == FULL and status != FULL:
            s.episode_cause = self.event_cause if self.event_cause is not None else self._inherit(s)
        changed = (val != s.val or status != s.status or varying != s.varying or degree != s.degree)
        s.val, s.status, s.varying, s.degree = val, status, varying, degree
        self.vals[s.index] = val
        return changed

    def _inherit(self, s: Service) -> int:
        """Root cause of a drop at a timer: the episode of the dependency whose degradation shows."""
        r = s.router
        if r is not None:
            for i, w in enumerate(r.answer):
                t = self.svc[r.targets[i]]
                if w > 0 and t.status != FULL:
                    return t.episode_cause
        for d in s.deps:
            dep = self.svc[d]
            cache = s.masked_by.get(d)
            if dep.status != FULL and (cache is None or cache.state != SERVING) and self._masked(s, d) != 1:
                return dep.episode_cause
        return s.index

    def _settle(self, _ev=None) -> None:
        """Re-evaluate dirty services in topological order (see the module docstring): always the
        lowest dirty index next, from a heap (O(log n) per service marked dirty)."""
        self.settle_pending = False
        dirty, is_dirty = self.dirty, self.is_dirty
        while dirty:
            v = dirty[0]
            s = self.svc[v]
            if self._reacts(s):
                self.pauses += 1
                if self.pauses > _MAX_PAUSES:
                    raise RuntimeError(f"reference engine: no progress settling {s.name!r} at t={self.env.now}")
                self.settle_pending = True
                Soon(self.env, SETTLE, self._settle)
                return
            heappop(dirty)
            is_dirty[v] = False
            if self._evaluate(s):
                for u in self.m.parents[v]:
                    self._mark_dirty(u)
        self.pauses = 0  # a bound on the pauses of one settle, not of a whole history
        self.varying = [s.index for s in self.svc if s.varying]
        self.max_degree = max((self.svc[v].degree for v in self.varying), default=0)
        self.stage_now = None
        self._record()
