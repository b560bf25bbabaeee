"""Zones: each zone's up/down process, and what a zone failure does to the instances in it.

A zone going down takes every instance placed in it or in a zone within it out of
service at once (and stops their clocks, :meth:`~hasim.sim.reference.instances.InstanceProcesses._run_clock`);
its recovery gives back the instances that did not fail on their own meanwhile.
"""

from __future__ import annotations

from hasim.sim.reference.state import KIND_ZONE, Shard

__all__ = ["ZoneProcesses"]


class ZoneProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: the zone mechanism."""

    def _zone_life(self, z: int):
        """A zone alternates up and down with its own laws, independently of everything else."""
        zone = self.m.sc.zones[self.m.zones[z]]
        cause = len(self.m.order) + z
        while True:
            yield self._timer(KIND_ZONE, zone.failure.sample(self.rng), cause)
            self._zone_changed(z, down=True)
            yield self._timer(KIND_ZONE, zone.repair.sample(self.rng), cause)
            self._zone_changed(z, down=False)

    def _zone_changed(self, z: int, down: bool) -> None:
        """Instances placed in ``z`` or in a zone within it lose (or regain) availability at once."""
        self._log(f"zone {self.m.zones[z]}", "down" if down else "up")
        self.zone_is_down[z] = down
        changed: dict[Shard, tuple[list, list]] = {}
        touched = []
        for d in self.m.zone_desc[z]:
            self.zone_down[d] += 1 if down else -1
            if self.zone_down[d] == (1 if down else 0):
                for inst in self.zone_insts[d]:
                    if self._held(inst):
                        continue                 # out and stopped for a maintenance window: left to it
                    touched.append(inst)
                    if inst.up:
                        inst.available = not down
                        lost, gained = changed.setdefault(inst.shard, ([], []))
                        (lost if down else gained).append(inst)
        for inst in touched:
            self._speed_changed(inst)
        for sh, (lost, gained) in changed.items():
            self._shard_changed(sh, lost, gained)
