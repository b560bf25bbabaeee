"""Minimal cut sets of order 1 and 2: the zones and instances whose joint failure takes
the entry down, grouped by symmetry, with their steady-state probabilities."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from hasim.model.scenario import Scenario
from hasim.analytic.exact import _deterministic, _Params, _Solver, instance_availability

__all__ = ["CutSet"]


@dataclass
class CutSet:
    """A minimal set of components whose joint failure takes the entry service down."""

    order: int
    components: list[str]
    count: int                 # equivalent sets (by symmetry) summarised by this row
    probability: float         # steady-state P(all failed), summed over the equivalent sets
    share: float               # probability / request unavailability (rare-event approximation)



def _cut_sets(sc: Scenario, params: _Params, solver: _Solver, unavailability: float) -> list[CutSet]:
    """Minimal cut sets of order 1 and 2 over zones and instances (by symmetry classes)."""
    st = solver.st
    reach = list(solver.reach)
    # Symmetry classes of instances: same service and same zone placement.
    classes = []  # (service, zone or None, [instance indices of one shard])
    for name in reach:
        svc = sc.services[name]
        if not svc.has_instances:
            continue
        by_zone: dict = {}
        for i, z in enumerate(st.placement[name]):
            by_zone.setdefault(z, []).append(i)
        for z, idx in by_zone.items():
            classes.append((name, z, idx))
    zones = sorted({c for s in reach for z in sc.services[s].zones for c in sc.zone_chain(z)})

    def down(failed_zones: set[str], failed: dict[tuple[str, int], set[int]]) -> bool:
        zone_up = {z: z not in failed_zones for z in sc.zones}
        return _deterministic(sc, st, solver.root, zone_up, failed) == 0.0

    def q_inst(name: str) -> float:
        if name in params.shard:
            return 1.0 - instance_availability(sc.services[name], sc)
        return 1.0 - params.instance[name]

    def label(name: str, shard: int, i: int) -> str:
        svc = sc.services[name]
        return f"{name}[{i}]" if svc.shards == 1 else f"{name}/shard{shard}[{i}]"

    singles: list[CutSet] = []
    single_zone, single_class = set(), set()
    for z in zones:
        if down({z}, {}):
            single_zone.add(z)
            singles.append(CutSet(1, [f"zone {z}"], 1, 1 - params.zone[z], 0.0))
    for ci, (name, z, idx) in enumerate(classes):
        if down(set(), {(name, 0): {idx[0]}}):
            single_class.add(ci)
            count = len(idx) * sc.services[name].shards
            singles.append(CutSet(1, [label(name, 0, idx[0])], count, count * q_inst(name), 0.0))
    pairs: list[CutSet] = []
    free_zones = [z for z in zones if z not in single_zone]
    for z1, z2 in itertools.combinations(free_zones, 2):
        if down({z1, z2}, {}):
            pairs.append(CutSet(2, [f"zone {z1}", f"zone {z2}"], 1, (1 - params.zone[z1]) * (1 - params.zone[z2]), 0))
    free_classes = [c for c in range(len(classes)) if c not in single_class]
    for z in free_zones:
        for ci in free_classes:
            name, _, idx = classes[ci]
            if down({z}, {(name, 0): {idx[0]}}):
                count = len(idx) * sc.services[name].shards
                pairs.append(CutSet(2, [f"zone {z}", label(name, 0, idx[0])], count,
                                    count * (1 - params.zone[z]) * q_inst(name), 0))
    for a, b in itertools.combinations_with_replacement(free_classes, 2):
        (na, _, ia), (nb, _, ib) = classes[a], classes[b]
        shards = sc.services[na].shards
        options = []
        if a == b:
            if len(ia) >= 2:
                options.append(({(na, 0): {ia[0], ia[1]}}, shards * math.comb(len(ia), 2), 0, 0, ia[1]))
            if shards >= 2:
                options.append(({(na, 0): {ia[0]}, (na, 1): {ia[0]}}, math.comb(shards, 2) * len(ia) ** 2, 0, 1, ia[0]))
        elif na == nb:
            options.append(({(na, 0): {ia[0], ib[0]}}, shards * len(ia) * len(ib), 0, 0, ib[0]))
            if shards >= 2:
                options.append(({(na, 0): {ia[0]}, (na, 1): {ib[0]}}, shards * (shards - 1) * len(ia) * len(ib),
                                0, 1, ib[0]))
        else:
            options.append(({(na, 0): {ia[0]}, (nb, 0): {ib[0]}},
                            len(ia) * shards * len(ib) * sc.services[nb].shards, 0, 0, ib[0]))
        for failed, count, sa, sb, second in options:
            if down(set(), failed):
                pairs.append(CutSet(2, [label(na, sa, ia[0]), label(nb, sb, second)], count,
                                    count * q_inst(na) * q_inst(nb), 0))
    out = singles + pairs
    for c in out:
        c.share = c.probability / unavailability if unavailability > 0 else 0.0
    out.sort(key=lambda c: (c.order, -c.probability))
    return out
