"""Scenario -> CompiledModel (hasim.compile): layout, CSR ranges, codes, and what is refused."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hasim
from hasim import Scenario
from hasim._rng import CODE_BY_NAME
from hasim.engine import simulate
from hasim.compile import (
    ACTIVE, QUORUM, ROUTE_FAILOVER, ROUTE_WEIGHTED, STANDBY, CompiledModel, NotSimulatedError, compile_scenario,
)


def rows(ptr, items, i):
    return list(items[ptr[i]:ptr[i + 1]])


@pytest.fixture
def compiled():
    sc = Scenario(
        name="c", entry="edge",
        zones={"region": {"mtbf": 1000, "mttr": 5}, "a": {"mtbf": 100, "mttr": 1, "within": "region"},
               "b": {"mtbf": 100, "mttr": 1, "within": "region"}},
        services={
            "edge": {"route": "weighted", "targets": ["api", "dr"], "weights": [3, 1]},
            "api": {"replicas": 3, "min_healthy": 2, "zones": ["a", "b"], "requires": ["db"],
                    "optional": ["search"], "failure": {"dist": "weibull", "shape": 2, "scale": 100},
                    "repair": {"dist": "empirical", "samples": [1, 2, 3]}},
            "db": {"mode": "standby", "standby": "warm", "warm_factor": 0.25, "replicas": 2, "shards": 2,
                   "zones": ["a", "b"], "failure": {"mtbf": 500},
                   "repair": {"dist": "lognormal", "median": 2, "sigma": 0.5},
                   "failover": {"detection": "30s", "promotion": "1m", "success": 0.9, "requires": ["quorum"]}},
            "quorum": {"mode": "quorum", "replicas": 3, "failure": {"dist": "uniform", "low": 10, "high": 20},
                       "repair": {"dist": "fixed", "value": 1}},
            "dr": {"failure": {"mtbf": 100}, "repair": {"mttr": 2}, "cached": {"service": "db", "ttl": 0}},
            "search": {"failure": {"mtbf": 100}, "repair": {"mttr": 2}},
        })
    return compile_scenario(sc)


def test_arrays_are_flat_and_contiguous(compiled):
    m = compiled.model
    assert isinstance(m, CompiledModel)
    for name, value in m._asdict().items():
        if isinstance(value, np.ndarray):
            assert value.flags.c_contiguous, name
            assert value.dtype in (np.int64, np.float64), name


def test_services_in_topological_order(compiled):
    names = compiled.services
    assert names == compiled.scenario.topological_order()
    m = compiled.model
    for v in range(m.n_services):
        for d in list(rows(m.svc_dep_ptr, m.svc_dep, v)) + list(rows(m.svc_tgt_ptr, m.svc_tgt, v)) + \
                list(rows(m.svc_req_ptr, m.svc_req, v)):
            assert d < v
    assert names[m.entry] == "edge"


def test_modes_dependencies_and_routes(compiled):
    m, idx = compiled.model, compiled.services.index
    api, db, edge, dr, quorum = idx("api"), idx("db"), idx("edge"), idx("dr"), idx("quorum")
    assert m.svc_mode[api] == ACTIVE and m.svc_k[api] == 2
    assert m.svc_mode[db] == STANDBY and m.svc_idle[db] == 0.25
    assert m.svc_mode[quorum] == QUORUM and m.svc_k[quorum] == 2
    assert m.svc_has_inst[edge] == 0 and m.svc_route[edge] == ROUTE_WEIGHTED
    assert rows(m.svc_tgt_ptr, m.svc_tgt, edge) == [api, dr]
    assert list(m.svc_tgt_w) == [3.0, 1.0]
    assert rows(m.svc_dep_ptr, m.svc_dep, api) == [db]          # optional is not a dependency
    assert rows(m.svc_dep_ptr, m.svc_dep, dr) == [db]           # cached with ttl 0 is
    assert rows(m.svc_req_ptr, m.svc_req, db) == [quorum]
    assert list(m.svc_fo[db]) == pytest.approx([30 / 3600, 1 / 60, 0.9, math.inf])
    assert m.svc_route[api] == 0 and ROUTE_FAILOVER == 1
    # Parents and ancestors: who must be re-evaluated when db changes.
    assert set(rows(m.svc_par_ptr, m.svc_par, db)) == {api, dr}
    assert rows(m.svc_anc_ptr, m.svc_anc, quorum) == sorted({db, api, dr, edge})
    # Reach: search is only optional.
    assert m.svc_reach[idx("search")] == 0 and m.svc_reach[quorum] == 1


def test_distribution_rows(compiled):
    m, idx = compiled.model, compiled.services.index
    api, db, quorum = idx("api"), idx("db"), idx("quorum")
    weib = m.dist[m.svc_fail[api]]
    assert list(weib) == [CODE_BY_NAME["weibull"], 2.0, 100.0, 0.0]
    emp = m.dist[m.svc_rep[api]]
    assert emp[0] == CODE_BY_NAME["empirical"]
    off, cnt = int(emp[1]), int(emp[2])
    assert list(m.samples[off:off + cnt]) == [1.0, 2.0, 3.0]
    logn = m.dist[m.svc_rep[db]]
    assert logn[0] == CODE_BY_NAME["lognormal"] and logn[1] == pytest.approx(math.log(2)) and logn[2] == 0.5
    assert list(m.dist[m.svc_fail[quorum]][:3]) == [CODE_BY_NAME["uniform"], 10.0, 20.0]
    assert list(m.dist[m.svc_rep[quorum]][:2]) == [CODE_BY_NAME["fixed"], 1.0]
    assert list(m.dist[m.svc_fail[db]][:2]) == [CODE_BY_NAME["exponential"], 500.0]


def test_shards_instances_and_zones(compiled):
    m, idx = compiled.model, compiled.services.index
    db = idx("db")
    shards = list(range(m.svc_shard_ptr[db], m.svc_shard_ptr[db + 1]))
    assert len(shards) == 2
    zone = {z: compiled.zones.index(z) for z in compiled.zones}
    for sh in shards:
        members = list(range(m.sh_inst_ptr[sh], m.sh_inst_ptr[sh + 1]))
        assert len(members) == 2
        assert [m.inst_zone[i] for i in members] == [zone["a"], zone["b"]]  # round robin per shard
        assert all(m.inst_shard[i] == sh for i in members)
    assert m.n_instances == 3 + 4 + 3 + 1 + 1
    assert rows(m.zone_chain_ptr, m.zone_chain, zone["a"]) == [zone["a"], zone["region"]]
    assert sorted(rows(m.zone_desc_ptr, m.zone_desc, zone["region"])) == sorted(zone.values())
    in_a = rows(m.zone_inst_ptr, m.zone_inst, zone["a"])
    assert len(in_a) == 2 + 2  # api instances 0 and 2, db instance 0 of each shard
    assert rows(m.zone_inst_ptr, m.zone_inst, zone["region"]) == []


def test_causes_and_event_sources(compiled):
    m = compiled.model
    assert len(compiled.causes) == m.n_causes == 2 * m.n_services + m.n_zones
    assert compiled.causes[m.svc_fo_cause[compiled.services.index("db")]] == "db failover"
    assert compiled.causes[m.zone_cause[compiled.zones.index("a")]] == "zone a"
    assert m.n_sources == m.n_instances + m.n_zones + m.n_shards + m.n_services == m.src_cause.size
    assert compiled.causes[m.src_cause[0]] == compiled.services[m.sh_svc[m.inst_shard[0]]]


@pytest.mark.parametrize("extra, key", [
    ({"health_check": {"interval": "10s"}}, "services.api.health_check"),
    ({"cached": {"service": "db", "ttl": "1m"}}, "services.api.cached.0.ttl"),
])
def test_delays_of_issue_4_are_refused_by_key(extra, key):
    sc = Scenario(name="x", entry="api", services={
        "api": {"failure": {"mtbf": 10}, "repair": {"mttr": 1}, **extra},
        "db": {"failure": {"mtbf": 10}, "repair": {"mttr": 1}}})
    with pytest.raises(NotSimulatedError, match=f"^{key}: not simulated yet by the numba engine"):
        compile_scenario(sc)
    with pytest.raises(NotImplementedError):
        simulate(sc, replicas=1)


def test_dns_ttl_is_refused():
    sc = Scenario(name="x", entry="www", services={
        "www": {"route": "failover", "targets": ["a"], "dns": {"ttl": "60s"}},
        "a": {"failure": {"mtbf": 10}, "repair": {"mttr": 1}}})
    with pytest.raises(NotSimulatedError, match=r"^services\.www\.dns: "):
        compile_scenario(sc)


def test_import_hasim_compiles_nothing():
    import subprocess
    import sys

    code = ("import sys, hasim, hasim.engine, hasim.compile, hasim.results; "
            "print('hasim._kernel' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
