"""The static model of the reference engine: names -> indices, computed once per run.

Every replica of a run shares one :class:`Model`; it is built from the pydantic
:class:`~hasim.model.scenario.Scenario` itself, never from :mod:`hasim.sim.compile`'s
arrays, so the reference also catches compile bugs.
"""

from __future__ import annotations

from hasim.model.scenario import Scenario
import numpy as np

from hasim.model.structure import (cause_labels, changed, dr_copies, needed_daily, placement, reach, read_by, reads, request_weights,
                                   zone_descendants, zones_that_matter)

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
        self.entry = self.index[sc.entry]
        # Zones: those within each zone (its descendants), from the shared structure.
        below = zone_descendants(sc)
        self.zone_desc = [[self.zindex[d] for d in below[z]] for z in self.zones]
        # Instances: services in order, shards, replicas; spread round-robin over the zones.
        self.instances = [(self.index[name], sh, -1 if z is None else self.zindex[z])
                          for name, sh, _, z in placement(sc)]  # (service index, shard, innermost zone or -1)
        # Who reads a service's state: dependencies, router targets, failover.requires.
        edges = reads(sc)
        self.reads = [[self.index[d] for d in edges[name]] for name in self.order]
        readers = read_by(sc)
        self.parents = [[self.index[r] for r in readers[name]] for name in self.order]
        needed = reach(sc)
        self.reach = [name in needed for name in self.order]
        # Zones that hold instances of a reachable service (stage "zone").
        matter = zones_that_matter(sc)
        self.zone_matters = [z in matter for z in self.zones]
        # Daily load profiles: each service's need at every hour, the requests each hour carries.
        self.needs = [needed_daily(sc, name) for name in self.order]
        self.weights = request_weights(sc)
        self.day_varies = [bool(np.ptp(n) > 0) for n in self.needs]
        self.day_on = any(self.day_varies) or bool(np.ptp(self.weights) > 0)
        # Disaster-recovery copies behind each failover router's targets (data loss on a switch).
        self.dr_copies = dr_copies(sc)
        # Every process of changes (deploys, config pushes), in cause order.
        self.changes = changed(sc)
