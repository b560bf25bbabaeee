"""Scenario -> CompiledModel (hasim.sim.compile): layout, CSR ranges, codes, and what is refused."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hasim import Scenario
from hasim.sim.kernel._rng import CODE_BY_NAME
from hasim.sim.compile import (
    ACTIVE, AUX_CACHE, AUX_PROBE_INST, AUX_PROBE_TGT, AUX_RAMP, QUORUM, ROUTE_FAILOVER, ROUTE_WEIGHTED, STANDBY,
    CompiledModel, compile_scenario,
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
    assert len(compiled.causes) == m.n_causes == m.n_services + m.n_zones
    assert compiled.causes[m.zone_cause[compiled.zones.index("a")]] == "zone a"
    assert m.n_sources == m.n_instances + m.n_zones + m.n_shards + len(m.aux_kind) == m.src_cause.size
    assert compiled.causes[m.src_cause[0]] == compiled.services[m.sh_svc[m.inst_shard[0]]]
    assert (m.src_cause[m.n_instances + m.n_zones:] == -1).all()  # timers inherit their cause


def test_delays_get_their_timers():
    sc = Scenario(name="x", entry="www", services={
        "www": {"route": "failover", "targets": ["api", "b"], "health_check": {"interval": "10s"},
                "dns": {"ttl": "60s", "stale_fraction": 0.1, "stale_for": "30s"}},
        "api": {"replicas": 2, "failure": {"mtbf": 10}, "repair": {"mttr": 1}, "health_check": {"interval": "5s"},
                "cached": {"service": "db", "ttl": "1m"}},
        "b": {"failure": {"mtbf": 10}, "repair": {"mttr": 1}},
        "db": {"failure": {"mtbf": 10}, "repair": {"mttr": 1}}})
    c = compile_scenario(sc)
    m = c.model
    www, api, db = (c.services.index(n) for n in ("www", "api", "db"))
    base = m.n_instances + m.n_zones + m.n_shards
    kinds = sorted(m.aux_kind.tolist())
    assert kinds == sorted([AUX_PROBE_INST] * 2 + [AUX_PROBE_TGT] * 2 + [AUX_RAMP, AUX_CACHE])
    assert m.svc_hc_on[api] == 1 and m.svc_hc_on[www] == 0 and m.svc_hc_loss[api] == 1
    np.testing.assert_allclose(m.svc_hc[api], [5 / 3600, 3, 2])
    assert (m.inst_probe >= base).sum() == 2 and (m.tgt_probe >= base).all()
    np.testing.assert_allclose(m.svc_dns[www], [60 / 3600, 0.1, 30 / 3600])
    np.testing.assert_allclose(rows(m.svc_end_ptr, m.svc_end, www), [30 / 3600, 60 / 3600])  # ascending
    assert m.aux_kind[m.svc_ramp[www] - base] == AUX_RAMP
    assert m.cache_owner.tolist() == [api] and m.cache_dep.tolist() == [db]
    assert m.dep_cache[m.svc_dep_ptr[api]:m.svc_dep_ptr[api + 1]].tolist() == [0]
    assert m.st_router.tolist() == [www] and m.st_cache.tolist() == [0]
    # Gauss-Legendre rows integrate x^(2n-1) exactly.
    for n in (1, 4, 16):
        x, wts = m.gl_x[n - 1, :n], m.gl_w[n - 1, :n]
        assert (wts * x ** (2 * n - 2)).sum() == pytest.approx(2 / (2 * n - 1))


def test_import_hasim_compiles_nothing():
    import subprocess
    import sys

    # The compiler reads the kernel's codes (numpy only); the numba modules load on the first run.
    code = ("import sys, hasim, hasim.sim.engine, hasim.sim.compile, hasim.results.summary; "
            "print(sorted(m for m in ('numba', 'hasim.sim.kernel._loop', 'hasim.sim.kernel._jit') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
