"""Overload: collapse after a grace period above the threshold, recovery below the recovery
threshold, client retries multiplying the offered load (:mod:`hasim.model.overload`; the kernel's
rule is :mod:`hasim.sim.kernel._overload`).

The rule is a function of the shard's own state (available instances, need, collapsed or not),
evaluated whenever the shard's served fraction is: above the threshold a grace timer starts (a
service timer), at or below it the timer is cancelled; a collapsed shard serves its goodput until
its offered utilisation, retries included, is below the recovery threshold.
"""

from __future__ import annotations

from hasim.model.overload import retry_factor
from hasim.sim.reference.state import KIND_SERVICE_TIMER

__all__ = ["OverloadProcesses"]


class OverloadProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: what an overload-prone shard serves."""

    def _offered(self, spec, h: int, k: float, own: float) -> float:
        """Offered utilisation, retries included (0 with nothing available or nothing asked)."""
        if h <= 0 or k <= 0.0:
            return 0.0
        r = spec.retries
        factor = 1.0 if r is None else retry_factor(r.attempts, r.cap, 1.0 - own)
        return factor * k / h

    def _overload_own(self, s, sh, h: int, own: float) -> float:
        ov = s.spec.overload
        admit = ov.admits
        if admit * h < sh.k:        # an admission limiter lets in at most ``admit`` and rejects the rest
            own = min(own, admit * h / sh.k)
        if sh.collapsed:
            good = ov.goodput * h
            collapsed = min(own, 1.0 if good >= sh.k else good / sh.k)
            if h > 0 and min(self._offered(s.spec, h, sh.k, collapsed), admit) < ov.recovers_below:
                sh.collapsed = False
                sh.t_col += max(0.0, self.env.now - max(sh.t_col0, self.start))
                self._log(sh.label, "recovered from overload")
            else:
                return collapsed
        if min(self._offered(s.spec, h, sh.k, own), admit) > ov.threshold:
            if sh.grace is None:
                sh.grace = self._timer(KIND_SERVICE_TIMER, ov.grace)
                sh.grace.callbacks.append(lambda ev, s=s, sh=sh: self._collapse(s, sh, ev))
        elif sh.grace is not None:
            sh.grace.cancelled = True
            sh.grace = None
        return own

    def _collapse(self, s, sh, ev) -> None:
        if ev.cancelled:
            return
        sh.grace = None
        sh.collapsed = True
        sh.t_col0 = self.env.now
        self._log(sh.label, "collapsed under overload")
        self._touch(s)
