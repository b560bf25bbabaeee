"""The structural graph every engine and the solver read (hasim.model.structure), computed once."""

from __future__ import annotations

import pytest

import hasim
from hasim import Scenario
from hasim.model.structure import (needed, placement, reach, read_by, reads, roles, share, zone_descendants,
                                   zones_that_matter)

from .conftest import SCENARIOS

FIXED = {"failure": {"dist": "fixed", "value": 100}, "repair": {"dist": "fixed", "value": 1}}


def design() -> Scenario:
    return Scenario(name="t", entry="web", zones={"r": FIXED, "a": {**FIXED, "within": "r"}, "b": {**FIXED, "within": "r"},
                                                  "far": FIXED},
                    services={
                        "web": {**FIXED, "replicas": 3, "zones": ["a", "b"], "requires": ["db"], "optional": ["ads"]},
                        "db": {**FIXED, "mode": "standby", "replicas": 2, "zones": ["a", "b"],
                               "failover": {"detection": 0.1, "requires": ["vote"]}},
                        "vote": {**FIXED, "mode": "quorum", "replicas": 3, "zones": ["a"]},
                        "ads": {**FIXED, "zones": ["far"]},
                        "batch": {**FIXED, "zones": ["far"]}})


def test_reads_and_read_by_are_inverse_and_include_failover_requires():
    sc = design()
    assert reads(sc)["db"] == ["vote"]          # an election's requires is read, as a dependency is
    assert "ads" not in reads(sc)["web"]        # optional: reported, not read
    by = read_by(sc)
    for name, deps in reads(sc).items():
        for d in deps:
            assert name in by[d]
    assert sum(map(len, by.values())) == sum(map(len, reads(sc).values()))


def test_roles():
    assert roles(design()) == {"web": "entry", "db": "required", "vote": "required", "ads": "optional",
                               "batch": "unused"}


def test_placement_is_round_robin_in_output_order():
    sc = design()
    rows = placement(sc)
    assert [name for name, *_ in rows] == [n for n in sc.topological_order() if sc.services[n].has_instances
                                           for _ in range(sc.services[n].replicas)]
    assert [r[2] for r in rows if r[0] == "vote"] == [0, 1, 2]
    web = [z for name, _, _, z in rows if name == "web"]
    assert web == ["a", "b", "a"]
    assert len(rows) == 3 + 2 + 3 + 1 + 1


def test_zones_a_zone_takes_with_it_and_those_that_matter():
    sc = design()
    assert zone_descendants(sc) == {"r": ["r", "a", "b"], "a": ["a"], "b": ["b"], "far": ["far"]}
    # "far" holds only an optional and an unused service: its outage never touches the entry.
    assert zones_that_matter(sc) == {"r", "a", "b"}


def test_quorum_sizes_and_served_fraction_by_mode():
    sc = design()
    assert needed(sc, "vote") == 2 and needed(sc, "db") == 1
    assert share(sc.services["vote"], 1, 2) == 0.0 and share(sc.services["vote"], 2, 2) == 1.0
    pool = sc.services["web"].model_copy(update={"min_healthy": 2})
    assert [share(pool, h, 2) for h in range(4)] == [0.0, 0.5, 1.0, 1.0]
    # A pool sized by its load needs a real number of instances: 2.5 of them serve in full.
    assert [share(pool, h, 2.5) for h in range(4)] == [0.0, 0.4, 0.8, 1.0]


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_shipped_scenarios(path):
    sc = hasim.load(path)
    assert sc.entry in reach(sc)
    assert zones_that_matter(sc) <= set(sc.zones)
    assert len(placement(sc)) == sum(s.replicas * s.shards for s in sc.services.values() if s.has_instances)
