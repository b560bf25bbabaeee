"""Measures: integration between events, attribution by cause and stage, windows, outages.

Between two events the served fractions are constant, except during DNS ramps
where they are polynomials in time: :meth:`Measures._integrals` integrates them
exactly by Gauss-Legendre quadrature.  Lost requests are charged to the open
outage's root cause and to the stage (:meth:`Measures._stage`) of the interval;
closed outages go into the replica's bottom-k sample, keyed like the kernel's.
"""

from __future__ import annotations

import math

import numpy as np

from hasim.sim.kernel._output import (ALERTING, BREAKER, MAINTENANCE, CAPACITY, SCALING, DETECTION, DNS, FAILOVER, OVERLOAD, REPAIR, RESPONSE,
                                     ROLLBACK, STALE_CACHE, ZONE)
from hasim.sim.reference.deploys import BACK, OUT, WAIT
from hasim.sim.kernel._rng import sample_key
from hasim.sim.reference.state import EXPIRED, FAILED, FAILOVER_STATES, FULL, ZERO

__all__ = ["Measures"]

#: Gauss-Legendre nodes and weights by point count: the same few counts serve every piece of every replica.
_LEGGAUSS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _gauss(n: int):
    """Nodes and weights of the ``n``-point Gauss-Legendre rule on [-1, 1] (exact up to degree 2n - 1)."""
    if n not in _LEGGAUSS:
        _LEGGAUSS[n] = np.polynomial.legendre.leggauss(n)
    return _LEGGAUSS[n]


class Measures:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: what a replica measures and records."""

    def _stage(self, now: float) -> int:
        """The mechanism responsible for loss on the interval starting at ``now``: the first of
        dns > detection > alerting > response > failover > rollback > scaling > zone > maintenance > overload > capacity > breaker > stale-cache > (response of a paged repair) > repair that applies to a part
        the entry can depend on (an expired cache only when nothing that can keep its dependency
        down is still running)."""
        svc = self.svc
        for r in self.st_routers:      # clients on a stale answer pointing to a target that serves 0
            if r.mix0 is not None and r.weight(now) > 0.0:
                if any(w > 0 and r.answer[i] == 0 and svc[r.targets[i]].status == ZERO
                       for i, w in enumerate(r.mix0)):
                    return DNS
        for r in self.st_routers:      # a router that has not noticed yet that its target serves 0
            if any(w > 0 and r.seen_up[i] and svc[r.targets[i]].status == ZERO for i, w in enumerate(r.answer)):
                return DETECTION
        if any(sh.routed_down > 0 for sh in self.st_hc_shards):   # failed but still routed
            return DETECTION
        if self._deploy_stage(OUT, False):    # a bad release out, not noticed yet
            return DETECTION
        if self._deploy_stage(OUT, True):     # one an alert rule watches, not paged for yet
            return ALERTING
        if any(sh.state == FAILED and sh.responding for sh in self.st_fo_shards):   # waiting for the on-call
            return RESPONSE
        if self._deploy_stage(WAIT):   # a paged rollback waiting for the engineer
            return RESPONSE
        if any(sh.state in FAILOVER_STATES for sh in self.st_fo_shards):
            return FAILOVER
        if self._deploy_stage(BACK):
            return ROLLBACK
        if any(sh.scale_dir > 0 and 0 < sh.available + sh.extra < sh.base_k * sh.service.load_factor
               for sh in self.st_as_shards):   # short of instances while the autoscaler brings more
            return SCALING
        if any(self.zone_is_down[z] for z in self.st_zones):
            return ZONE
        if self._maintenance_short():
            return MAINTENANCE
        if any(sh.collapsed for sh in self.st_ov_shards):
            return OVERLOAD
        if any(0 < sh.available + sh.extra < sh.base_k * sh.service.load_factor * sh.capx for sh in self.st_cap_shards):
            return CAPACITY
        if any(0 < sh.available + sh.extra < sh.k for sh in self.st_hold_shards):   # short of workers, not instances
            return BREAKER
        if self._breaker_unnoticed():  # after capacity: its dependency may serve only because its load is cut
            return BREAKER
        if any(c.state == EXPIRED for c in self.st_caches):
            return STALE_CACHE
        if any(i.waiting for i in self.st_paged):   # a paged repair not started yet
            return RESPONSE
        return REPAIR

    def _integrals(self, a: float, b: float) -> list[float]:
        """Integral of every service's served fraction over [a, b] (exact: Gauss-Legendre on polynomials)."""
        vals = self.vals
        out = [x * (b - a) for x in vals]
        if not self.varying:
            return out
        x, w = _gauss(self.max_degree // 2 + 1)
        half, mid = 0.5 * (b - a), 0.5 * (a + b)
        acc = {v: 0.0 for v in self.varying}
        for xi, wi in zip(x, w):
            t = mid + half * xi
            point = list(vals)
            for v in self.varying:               # topological order: dependencies first
                point[v] = self._compute(self.svc[v], point, t)
            for v in self.varying:
                acc[v] += wi * point[v]
        for v in self.varying:
            out[v] = half * acc[v]
        return out

    def _advance(self, t: float) -> None:
        """Integrate every measure over [t_last, t] with the state as it stands (nothing changed yet)."""
        a = self.t_last
        if t <= a:
            return
        stage = -1
        if self.svc[self.m.entry].status != FULL:
            if self.stage_now is None:
                self.stage_now = self._stage(a)
            stage = self.stage_now
        while t > self.win_end:                  # crosses window boundaries
            self._piece(a, self.win_end, stage)
            self._close_window(self._span(self.win_start, self.win_end))
            self.k_win += 1
            a = self.win_start = self.win_end
            self.win_end = (self.end if self.k_win >= self.n_windows - 1
                            else self.start + (self.k_win + 1) * self.window)
        self._piece(a, t, stage)
        self.t_last = t

    def _piece(self, a: float, b: float, stage: int) -> None:
        """Measures over [a, b], inside one window and between two events."""
        if b <= a:
            return
        entry = self.svc[self.m.entry]
        ints = self._integrals(a, b)
        weight = self.weight  # pieces never straddle an hour: every hour begins with an event
        for s, x in zip(self.svc, ints):
            s.acc += x * weight
        dt = b - a
        if entry.status == FULL:
            self.t_full += dt
            return
        q = (dt - ints[self.m.entry] if entry.varying else (1.0 - entry.val) * dt) * weight
        self.lost += q
        self.win_lost += q
        if entry.status == ZERO:
            self.t_down += dt
        self.out.loss[self.r, self.o_cause, stage] += q
        self.out.stage_h[self.r, self.o_cause, stage] += dt

    def _close_window(self, length: float) -> None:
        avail = 1.0 - self.win_lost / length if length > 0.0 else 1.0
        if self.k_win < self.out.win.shape[1]:
            self.out.win[self.r, self.k_win] = avail
        if avail < self.threshold:
            self.breaches += 1
        self.worst = min(self.worst, avail)
        self.win_lost = 0.0

    def _record(self) -> None:
        """After an event has settled: open or close an outage of the entry."""
        entry = self.svc[self.m.entry]
        if self.log_rows is not None:
            for row in reversed(self.log_rows):
                if not math.isnan(row[3]):
                    break
                row[3] = entry.val
        full = entry.status == FULL
        if not full and not self.in_outage:
            self.in_outage = True
            self.o_start = self.env.now
            self.o_cause = entry.episode_cause
            if self.rules:
                self._alerts_open()
        elif full and self.in_outage:
            self._close_outage(self.env.now)
            if self.rules:
                self._alerts_close()

    def _close_outage(self, t: float) -> None:
        self.in_outage = False
        d = t - self.o_start
        if d > 0.0:
            o, r, n = self.out, self.r, self.n_out
            keep = o.out_start.shape[1]
            if n < keep:
                slot = n
            else:   # bottom-k sample of the replica's outages: replace the largest key if larger
                key = lambda j: int(sample_key(*self.sample, np.uint64(j)))  # noqa: E731
                slot = max(range(keep), key=lambda x: key(o.out_index[r, x]), default=None)
                if slot is not None and key(o.out_index[r, slot]) <= key(n):
                    slot = None
            if slot is not None:
                o.out_start[r, slot] = self.o_start
                o.out_dur[r, slot] = d
                o.out_cause[r, slot] = self.o_cause
                o.out_index[r, slot] = n
            self.n_out += 1
            self.longest = max(self.longest, d)

    def _forget_warmup(self) -> None:
        """At the end of a warm-up (measured up to it): forget every measure, keep the state."""
        if self.rules:
            self._alerts_rebase(self.lost)
        self.lost = self.t_full = self.t_down = self.win_lost = 0.0
        o, r = self.out, self.r
        o.loss[r] = 0.0
        o.stage_h[r] = 0.0
        o.out_start[r] = np.nan
        o.out_dur[r] = np.nan
        o.out_cause[r] = -1
        o.out_index[r] = -1
        for s in self.svc:
            s.acc = 0.0
        self.n_out = 0
        self.longest = 0.0
        self.o_start = self.start  # an outage in progress is measured from here
        self.win_start = self.start
        self.win_end = self.end if self.n_windows <= 1 else self.start + self.window

    def _finish(self) -> None:
        """At the horizon: integrate the last piece, close the window and the outage, write row ``r``."""
        self.event_cause = None
        self._advance(self.end)
        self._close_window(self._span(self.win_start, self.end))
        if self.in_outage:
            self._close_outage(self.end)
        o, r, H = self.out, self.r, self.horizon
        norm = H if not self.m.day_on else self._span(self.end - H, self.end)  # the horizon's requests
        o.ra[r] = 1.0 - self.lost / norm
        o.ta[r] = self.t_full / H
        o.down[r] = self.t_down / H
        o.degraded[r] = max(0.0, 1.0 - (self.t_full + self.t_down) / H)
        o.outages[r] = self.n_out
        o.longest[r] = self.longest
        o.events[r] = self.events
        o.breaches[r] = self.breaches
        o.worst[r] = self.worst
        for s in self.svc:
            o.svc_ra[r, s.index] = s.acc / norm
            if s.spec.overload is not None and s.shards:
                collapsed = sum(sh.t_col + (self.end - max(sh.t_col0, self.start) if sh.collapsed else 0.0)
                                for sh in s.shards)
                o.overload[r, s.index] = collapsed / len(s.shards) / H
