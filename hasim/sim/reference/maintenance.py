"""Maintenance windows (:mod:`hasim.model.maintenance`; the kernel's rule is
:mod:`hasim.sim.kernel._maintenance`).

Written from the model's rule: a process per maintained service opens and closes its windows on
the grid ``phase + k x every`` (a phase from a stream of its own; a window may be in progress at
time 0).  A window holds the first ``takes`` instances of each shard out as a down zone does (their
clocks stop, :meth:`~hasim.sim.reference.instances.InstanceProcesses._speed`), draining a
health-checked one from rotation first; the zone process leaves a held instance to the window, and
the window one whose zone is down to the zone.
"""

from __future__ import annotations

import numpy as np

from hasim.model.maintenance import maintenance_cause
from hasim.sim.reference.state import KIND_ZONE

__all__ = ["MaintenanceProcesses"]


class MaintenanceProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: maintenance windows."""

    def _held(self, inst) -> bool:
        """Whether ``inst`` is out for a window of its service in progress."""
        return inst.maintained and inst.shard.service.maint_on

    def _init_maintenance(self) -> list:
        """Each maintained service's first change (a window in progress at time 0 starts now)."""
        self.st_mt_shards = [sh for s in self.svc if self.m.reach[s.index] and s.spec.maintenance is not None
                             for sh in s.shards]
        first = []
        for s in self.svc:
            mt = s.spec.maintenance
            if mt is None:
                continue
            for sh in s.shards:
                for inst in sh.instances[:mt.takes]:
                    inst.maintained = True
            # A stream of its own: declaring windows changes no other draw.
            rng = np.random.default_rng(np.random.SeedSequence([int(x) for x in self.sample] + [0x3A1D7, s.index]))
            u = rng.random() * mt.every
            if u - mt.every + mt.lasting > 0.0:   # the window of the period before is still on
                self._maintenance_changed(s, True)
                first.append((s, u - mt.every + mt.lasting))
            else:
                first.append((s, u))
        return first

    def _maintenance_life(self, s, at: float):
        mt, env = s.spec.maintenance, self.env
        cause = self.m.causes.index(maintenance_cause(s.name))
        while True:
            yield self._timer(KIND_ZONE, at - env.now, cause)
            self._maintenance_changed(s, not s.maint_on)
            at = env.now + (mt.lasting if s.maint_on else mt.every - mt.lasting)

    def _maintenance_changed(self, s, on: bool) -> None:
        self._log(s.name, "maintenance window starts" if on else "maintenance window ends")
        s.maint_on = on
        touched = []
        for sh in s.shards:
            lost, gained = [], []
            for inst in sh.instances:
                if not inst.maintained:
                    continue
                if on and s.hc_probed and inst.routed:   # drained: out of rotation before it stops
                    inst.routed = False
                    if inst.available:
                        sh.routed_up -= 1
                    else:
                        sh.routed_down -= 1
                    self._touch(s)
                if inst.zone >= 0 and self.zone_down[inst.zone]:
                    continue                               # the zone holds it (and its recovery gives it back)
                touched.append(inst)
                if inst.up:
                    inst.available = not on
                    (lost if on else gained).append(inst)
            if lost or gained:
                self._shard_changed(sh, lost, gained)
        for inst in touched:
            self._speed_changed(inst)

    def _maintenance_short(self) -> bool:
        """Whether a reachable pool is short of instances while a window holds some of it out."""
        for sh in self.st_mt_shards:
            s = sh.service
            if s.maint_on:
                h = sh.routed_up + sh.extra
                if h < sh.k or (s.hc_loss and sh.routed_down > 0):
                    return True
        return False
