"""The static model of the reference engine: names -> indices, computed once per run.

Every replica of a run shares one :class:`Model`; it is built from the pydantic
:class:`~hasim.model.scenario.Scenario` itself, never from :mod:`hasim.sim.compile`'s
arrays, so the reference also catches compile bugs.
"""

from __future__ import annotations

from hasim.model.scenario import Scenario
from hasim.model.structure import cause_labels, reach, reads

__all__ = ["Model"]


class Model:
    """What every replica shares: services in topological order, placement, parents, reach."""

    def __init__(self, sc: Scenario):
        self.sc = sc
        self.order = sc.topological_order()
        self.index = {name: i for i, name in enumerate(self.order)}
        self.zones = list(sc.zones)
        self.zindex = {z: i for i, z in enumerate(self.zones)}
        self.causes, _ = cause_labels(sc)
        S, Z = len(self.order), len(self.zones)
        self.entry = self.index[sc.entry]
        # Zones: the zones each zone lies within (its chain) and those within it (descendants).
        chains = [[self.zindex[c] for c in sc.zone_chain(z)] for z in self.zones]
        self.zone_desc = [[d for d in range(Z) if z in chains[d]] for z in range(Z)]
        # Instances: services in order, shards, replicas; spread round-robin over the zones.
        self.instances = []  # (service index, shard number, innermost zone or -1)
        for v, name in enumerate(self.order):
            svc = sc.services[name]
            if svc.has_instances:
                for sh in range(svc.shards):
                    for i in range(svc.replicas):
                        z = self.zindex[svc.zones[i % len(svc.zones)]] if svc.zones else -1
                        self.instances.append((v, sh, z))
        # Who reads a service's state: dependencies, router targets, failover.requires.
        read_by = reads(sc)
        self.reads = [[self.index[d] for d in read_by[name]] for name in self.order]
        self.parents = [[] for _ in range(S)]
        for v in range(S):
            for u in self.reads[v]:
                self.parents[u].append(v)
        needed = reach(sc)
        self.reach = [name in needed for name in self.order]
        # Zones that hold instances of a reachable service (stage "zone").
        self.zone_matters = [False] * Z
        for v, _, z in self.instances:
            if z >= 0 and self.reach[v]:
                for c in chains[z]:
                    self.zone_matters[c] = True
