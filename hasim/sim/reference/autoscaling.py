"""Autoscaling: a target-tracking policy over a shard (:mod:`hasim.model.autoscaling`; the kernel's rule
is :mod:`hasim.sim.kernel._autoscaling`).

Whenever a shard's served fraction is evaluated, the policy compares the instances in service (the
ones it added included) with ``wanted(need, target)``: fewer, and a scale-out timer runs for the
delay; more, with some added, and a scale-in timer runs for ``scale_in``; neither, and the timer is
cancelled.  When the timer fires the shard gets as many added instances as the policy then wants
(out: never fewer than it had, in: never more), within ``[0, max - replicas]``.
"""

from __future__ import annotations

from hasim.model.autoscaling import wanted
from hasim.sim.reference.state import KIND_SERVICE_TIMER

__all__ = ["AutoscalingProcesses"]


class AutoscalingProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: the scaling policy of autoscaled shards."""

    def _autoscale(self, s, sh, h: float) -> None:
        a = s.spec.autoscaling
        want = wanted(sh.k, a.target)
        room = a.max - s.spec.replicas
        need = 1 if (h < want and sh.extra < room) else (-1 if (h > want and sh.extra > 0) else 0)
        if need == sh.scale_dir:
            return
        if sh.scale_timer is not None:
            sh.scale_timer.cancelled = True
            sh.scale_timer = None
        sh.scale_dir = need
        if need:
            sh.scale_timer = t = self._timer(KIND_SERVICE_TIMER, a.delay if need > 0 else a.scale_in)
            t.callbacks.append(lambda ev, s=s, sh=sh: self._scaled(s, sh, ev))

    def _scaled(self, s, sh, ev) -> None:
        if ev.cancelled:
            return
        a = s.spec.autoscaling
        gap = wanted(sh.k, a.target) - sh.routed_up
        if sh.scale_dir > 0:
            sh.extra = min(a.max - s.spec.replicas, max(sh.extra, gap))
        else:
            sh.extra = max(0, min(sh.extra, gap))
        self._log(sh.label, f"scaled to {sh.extra} added instances")
        sh.scale_timer, sh.scale_dir = None, 0
        self._touch(s)
