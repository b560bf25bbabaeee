"""Instances and repair: every instance's life / repair process and its clock.

An instance's clock runs at a speed that depends on where it is and what it does
(0 in a down zone, ``warm_factor`` / 0 for an idle warm / cold standby); a change of
speed interrupts the process, which keeps what is left.  A change of availability
is passed on to its shard (:meth:`InstanceProcesses._shard_changed`), which wakes
the failover and health-probe processes that must react.
"""

from __future__ import annotations

import simpy

from hasim.sim.reference.state import KIND_INSTANCE, Instance, Shard

__all__ = ["InstanceProcesses"]


class InstanceProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: instance lives, repairs and clocks."""

    def _instance_life(self, inst: Instance):
        """An instance is up for a drawn life, then down for a drawn repair, forever (a paged repair
        starts when the on-call answers the page its failure sent, at the pace of that hour)."""
        spec = inst.shard.service.spec
        while True:
            yield from self._run_clock(inst, spec.failure.sample(self.rng))
            self._instance_changed(inst, up=False)
            if spec.repair_paged:
                wait = float(self.m.sc.oncall.law_at(self.env.now).sample(self.rng))
                if wait > 0.0:   # the answer is an event of its own: the loss changes stage there
                    inst.waiting = True
                    yield from self._run_clock(inst, wait)
                    inst.waiting = False
            yield from self._run_clock(inst, spec.repair.sample(self.rng))
            self._instance_changed(inst, up=True)

    def _run_clock(self, inst: Instance, left: float):
        """Let ``left`` hours run out on the instance's clock.  While a zone of its chain is down the
        clock stops (speed 0) and resumes where it stopped; an idle warm standby's life runs at
        ``warm_factor``, a cold one's not at all."""
        cause = inst.shard.service.index
        while True:
            speed = self._speed(inst)
            inst.clock_speed = speed
            timer = self._timer(KIND_INSTANCE, left / speed, cause) if speed > 0 else self.env.event()
            try:
                yield timer
                inst.clock_speed = None
                return
            except simpy.Interrupt:          # the speed changed: keep what is left
                inst.interrupting = False
                if speed > 0:
                    timer.cancelled = True
                    left = (timer.at - self.env.now) * speed

    def _instance_changed(self, inst: Instance, up: bool) -> None:
        inst.up = up
        self._log(inst.label, "repaired" if up else "failed")
        if inst.zone < 0 or not self.zone_down[inst.zone]:   # (clocks are stopped while a zone is down)
            inst.available = up
            self._shard_changed(inst.shard, [] if up else [inst], [inst] if up else [])

    def _shard_changed(self, sh: Shard, lost: list, gained: list) -> None:
        """Availability of some instances of ``sh`` changed in one event; wake who must react."""
        if sh.copies is not None:
            self._copies_changed(sh, lost, gained)
        sh.available += len(gained) - len(lost)
        for inst in lost + gained:
            if inst.routed:
                d = 1 if inst.available else -1
                sh.routed_up += d
                sh.routed_down -= d
            if inst.probe is not None:
                inst.probe.fire()
        sh.changed.fire((lost, gained))
        self._touch(sh.service)

    def _speed(self, inst: Instance) -> float:
        """Clock speed: 0 in a down zone; an idle warm / cold standby ages at warm_factor / not at all."""
        if (inst.zone >= 0 and self.zone_down[inst.zone]) or self._held(inst):
            return 0.0
        if not inst.up:
            return 1.0
        spec = inst.shard.service.spec
        if spec.mode != "standby" or spec.standby == "hot" or inst.shard.active is inst:
            return 1.0
        return spec.warm_factor if spec.standby == "warm" else 0.0

    def _speed_changed(self, inst: Instance) -> None:
        if inst.clock_speed is not None and not inst.interrupting and self._speed(inst) != inst.clock_speed:
            inst.interrupting = True
            inst.proc.interrupt()
