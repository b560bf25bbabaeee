"""Failover: standby promotion and quorum election, both waiting for ``failover.requires``.

A shard's failover goes through the states of :mod:`hasim.sim.reference.state`
(``detect`` -> ``wait-requires`` -> ``promote`` / ``elect`` ...); ``wait-requires``
ends when the settle step, having evaluated every required service first, fires
the shard's ``may_promote`` signal (:meth:`~hasim.sim.reference.evaluation.Evaluation._reacts`).
"""

from __future__ import annotations

from hasim.sim.reference.state import (DETECT, ELECT, FAILED, KIND_SHARD_TIMER, NO_LEADER, NO_STANDBY, PROMOTE,
                                       REGAINED, UP, WAIT_REQ, Instance, Shard)

__all__ = ["FailoverProcesses"]


class FailoverProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: standby failover and quorum election."""

    def _make_active(self, sh: Shard, inst: Instance) -> None:
        if sh.copies is not None:
            self._promoted(sh, inst)
        sh.active = inst
        sh.state = UP
        self._log(sh.label, f"{inst.label} active")
        self._speed_changed(inst)
        self._touch(sh.service)

    def _set_state(self, sh: Shard, state: str) -> None:
        sh.state = state
        self._log(sh.label, state)
        self._touch(sh.service)

    def _standby_failover(self, sh: Shard):
        """A standby shard serves while its active instance is available.  When that one is lost, the
        shard fails over (:meth:`_fail_over`) if a standby is available, else waits for the first
        instance to come back, which becomes active at once.  No failback."""
        while True:
            while sh.active.available:
                yield sh.changed.wait()
            self._log(sh.label, f"{sh.active.label} lost")
            sh.active = None
            if sh.available:
                new = yield from self._fail_over(sh)
            else:
                new = yield from self._first_back(sh)
            self._make_active(sh, new)

    def _fail_over(self, sh: Shard):
        """Detection, then promotion once every ``failover.requires`` service serves > 0, then with
        probability ``success`` the lowest-index available instance becomes active.  Nothing that
        happens meanwhile interrupts this: a standby that fails during promotion simply is not
        available when the promotion completes (then the first instance back becomes active), and a
        repaired instance is a candidate like any other.  A failed promotion waits for ``manual``
        (with an ``oncall``: for the engineer's response, then ``manual``) or for the first instance
        to come back, whichever is first."""
        fo = sh.service.spec.failover
        detection, promotion = (fo.detection, fo.promotion) if fo else (0.0, 0.0)
        self._set_state(sh, DETECT)
        if detection > 0:
            yield self._timer(KIND_SHARD_TIMER, detection)
        self._set_state(sh, WAIT_REQ)
        yield sh.may_promote.wait()          # fired by the settle (requires evaluated first)
        self._set_state(sh, PROMOTE)
        if promotion > 0:
            yield self._timer(KIND_SHARD_TIMER, promotion)
        success = fo.success if fo else 1.0
        if success >= 1.0 or self.rng.random() < success:
            new = sh.lowest_available()
            if new is None:
                new = yield from self._first_back(sh)
            return new
        self._set_state(sh, FAILED)
        manual = None
        oc = self.m.sc.oncall
        if fo.manual is not None and oc is not None:   # the page: the engineer answers first
            sh.responding = True
            manual = self._timer(KIND_SHARD_TIMER, float(oc.law_at(self.env.now).sample(self.rng)))
        elif fo.manual is not None:
            manual = self._timer(KIND_SHARD_TIMER, fo.manual)
        while True:
            back = sh.changed.wait()
            fired = yield (manual | back) if manual is not None else back
            if manual is not None and manual in fired:
                if sh.responding:                       # answered: the manual action starts
                    sh.responding = False
                    manual = self._timer(KIND_SHARD_TIMER, fo.manual)
                    continue
                new = sh.lowest_available()
                if new is None:
                    new = yield from self._first_back(sh)
                return new
            gained = back.value[1]
            if gained:
                if manual is not None:
                    manual.cancelled = True
                sh.responding = False
                return sh.lowest_available(gained)

    def _first_back(self, sh: Shard):
        """No instance available: the first one to come back is the answer."""
        self._set_state(sh, NO_STANDBY)
        while True:
            _, gained = yield sh.changed.wait()
            if gained:
                return sh.lowest_available(gained)

    def _quorum_election(self, sh: Shard):
        """A quorum shard is up while a strict majority is available and it has a leader.  Losing the
        leader while a majority remains costs an election: detection, then (once every
        ``failover.requires`` service serves > 0) promotion, abandoned whenever the majority is lost
        on the way.  A regained majority elects the lowest-index instance at once, once the required
        services serve."""
        fo = sh.service.spec.failover
        detection, promotion = (fo.detection, fo.promotion) if fo else (0.0, 0.0)
        needs = bool(fo.requires) if fo else False
        k = sh.service.k
        while True:
            while sh.active.available:
                yield sh.changed.wait()
            self._log(sh.label, f"leader {sh.active.label} lost")
            sh.active = None
            self._touch(sh.service)
            while sh.active is None:
                if sh.available < k:                 # no majority: the first majority elects at once
                    self._set_state(sh, NO_LEADER)
                    while sh.available < k:
                        yield sh.changed.wait()
                    steps = [(REGAINED, None)] if needs else []
                elif needs:
                    steps = [(DETECT, detection), (WAIT_REQ, None), (ELECT, promotion)]
                else:                                # nothing to wait for: one timer, as the kernel
                    steps = [(ELECT, detection + promotion)]
                kept = yield from self._election_steps(sh, steps, k)
                if kept:
                    self._make_active(sh, sh.lowest_available())

    def _election_steps(self, sh: Shard, steps, k: int):
        """Go through ``(state, delay)`` steps (a delay of None: wait for ``failover.requires``);
        False as soon as the majority is lost, True when every step is done."""
        for state, delay in steps:
            if delay is not None and not delay > 0:
                continue
            self._set_state(sh, state)
            if delay is None:                    # fired by the settle (requires evaluated first)
                done = sh.may_promote.wait()
            else:
                done = self._timer(KIND_SHARD_TIMER, delay)
            while sh.available >= k:
                fired = yield done | sh.changed.wait()
                if done in fired:
                    break
            if sh.available < k:
                if delay is not None:
                    done.cancelled = True
                return False
        return True
