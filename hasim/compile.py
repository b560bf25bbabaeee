"""Scenario -> flat arrays for the numba kernel.

:func:`compile_scenario` validates what the numba engine can simulate and
flattens a :class:`~hasim.model.Scenario` into a :class:`CompiledModel`, a
NamedTuple of C-contiguous numpy arrays (and a few ints) that the kernel in
:mod:`hasim._kernel` reads.  Names never reach the kernel: the
:class:`Compiled` object keeps the name <-> index maps on the Python side.

Layout (``S`` services, ``H`` shards, ``N`` instances, ``Z`` zones, ``D``
distributions, ``C`` causes); ``*_ptr`` arrays are CSR offsets: the items of
row ``v`` are ``items[ptr[v]:ptr[v + 1]]``.

================  ==================  ===================================================
field             dtype[shape]        content
================  ==================  ===================================================
dist              float64[D, 4]       ``[code, p0, p1, p2]`` per law (codes of ``_rng``)
dist_code         int64[D]            the codes again as integers (read on every draw)
samples           float64[*]          pooled samples of every empirical law
svc_mode          int64[S]            ACTIVE / STANDBY / QUORUM (routers are ACTIVE, k=1)
svc_has_inst      int64[S]            1 if the service has instances of its own
svc_k             int64[S]            active: min_healthy; quorum: majority; standby: 1
svc_fail          int64[S]            row of ``dist`` for time to failure (-1: none)
svc_rep           int64[S]            row of ``dist`` for time to repair (-1: none)
svc_idle          float64[S]          life speed of an idle standby (1 hot, warm_factor, 0 cold)
svc_fo            float64[S, 4]       detection, promotion, success, manual (inf: none)
svc_route         int64[S]            NO_ROUTE / ROUTE_FAILOVER / ROUTE_WEIGHTED
svc_reach         int64[S]            1 if the entry's served fraction can depend on it
svc_shard_ptr     int64[S + 1]        shards of each service (shards are numbered by service)
svc_dep_ptr/_dep  int64               hard dependencies (requires + cached services)
svc_tgt_ptr/_tgt  int64               router targets, in order; ``svc_tgt_w`` float64 weights
svc_req_ptr/_req  int64               failover.requires
svc_par_ptr/_par  int64               direct parents: services that read this one's state
svc_anc_ptr/_anc  int64               all ancestors in topological order (re-evaluation set)
svc_cause         int64[S]            cause index of an instance failure of the service
svc_fo_cause      int64[S]            cause index "<service> failover"
sh_svc            int64[H]            service of each shard
sh_inst_ptr       int64[H + 1]        instances of each shard (instance order = index order)
inst_shard        int64[N]            shard of each instance
inst_zone         int64[N]            innermost zone of each instance, -1 if none
zone_fail/_rep    int64[Z]            rows of ``dist``
zone_chain_ptr/_  int64               each zone and the zones it lies within, innermost first
zone_desc_ptr/_   int64               each zone and every zone nested in it (affected zones)
zone_inst_ptr/_   int64               instances whose innermost zone is this one
zone_cause        int64[Z]            cause index "zone <name>"
src_cause         int64[E]            cause index of each event source (see below)
================  ==================  ===================================================

Event sources (ids of the kernel's heap) are numbered instances first, then
zones, then one timer per shard (failover / election), then one timer per
service reserved for time-dependent behaviour (health checks, DNS, caches)::

    [0, N) instances, [N, N + Z) zones, [N + Z, N + Z + H) shard timers,
    [N + Z + H, E) service timers, E = N + Z + H + S.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from .model import Scenario

__all__ = [
    "NotSimulatedError", "CompiledModel", "Compiled", "compile_scenario",
    "ACTIVE", "STANDBY", "QUORUM", "NO_ROUTE", "ROUTE_FAILOVER", "ROUTE_WEIGHTED",
]

ACTIVE = 0
STANDBY = 1
QUORUM = 2
_MODE = {"active": ACTIVE, "standby": STANDBY, "quorum": QUORUM}

NO_ROUTE = 0
ROUTE_FAILOVER = 1
ROUTE_WEIGHTED = 2
_ROUTE = {None: NO_ROUTE, "failover": ROUTE_FAILOVER, "weighted": ROUTE_WEIGHTED}


class NotSimulatedError(NotImplementedError):
    """A scenario feature the numba engine does not simulate yet (its message names the key)."""


class CompiledModel(NamedTuple):
    """Flat arrays of one scenario; see the module docstring for every field."""

    n_services: int
    n_shards: int
    n_instances: int
    n_zones: int
    n_causes: int
    n_sources: int
    entry: int
    dist: np.ndarray
    dist_code: np.ndarray
    samples: np.ndarray
    svc_mode: np.ndarray
    svc_has_inst: np.ndarray
    svc_k: np.ndarray
    svc_fail: np.ndarray
    svc_rep: np.ndarray
    svc_idle: np.ndarray
    svc_fo: np.ndarray
    svc_route: np.ndarray
    svc_reach: np.ndarray
    svc_shard_ptr: np.ndarray
    svc_dep_ptr: np.ndarray
    svc_dep: np.ndarray
    svc_tgt_ptr: np.ndarray
    svc_tgt: np.ndarray
    svc_tgt_w: np.ndarray
    svc_req_ptr: np.ndarray
    svc_req: np.ndarray
    svc_par_ptr: np.ndarray
    svc_par: np.ndarray
    svc_anc_ptr: np.ndarray
    svc_anc: np.ndarray
    svc_cause: np.ndarray
    svc_fo_cause: np.ndarray
    sh_svc: np.ndarray
    sh_inst_ptr: np.ndarray
    inst_shard: np.ndarray
    inst_zone: np.ndarray
    zone_fail: np.ndarray
    zone_rep: np.ndarray
    zone_chain_ptr: np.ndarray
    zone_chain: np.ndarray
    zone_desc_ptr: np.ndarray
    zone_desc: np.ndarray
    zone_inst_ptr: np.ndarray
    zone_inst: np.ndarray
    zone_cause: np.ndarray
    src_cause: np.ndarray


@dataclass(frozen=True)
class Compiled:
    """A compiled scenario: the kernel's arrays plus the Python-side names.

    Attributes
    ----------
    model : CompiledModel
        What the kernel reads.
    scenario : Scenario
        The source.
    services : list of str
        Service names in kernel order (topological: dependencies first).
    zones : list of str
        Zone names in kernel order.
    causes : list of str
        Cause names by cause index: every service (instance failures), every
        zone (``"zone <name>"``), then ``"<service> failover"`` for every service.
    cause_kinds : list of str
        ``"instance"``, ``"zone"`` or ``"failover"`` per cause.
    """

    model: CompiledModel
    scenario: Scenario
    services: list[str]
    zones: list[str]
    causes: list[str]
    cause_kinds: list[str]

    def service_index(self, name: str) -> int:
        return self.services.index(name)

    def zone_index(self, name: str) -> int:
        return self.zones.index(name)


def _csr(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    for i, row in enumerate(rows):
        ptr[i + 1] = ptr[i] + len(row)
    flat = np.array([x for row in rows for x in row], dtype=np.int64)
    return ptr, flat


def _check_supported(sc: Scenario) -> None:
    """Raise :class:`NotSimulatedError` for the delays of issue 4 (health checks, DNS, cache TTLs)."""
    for name, svc in sc.services.items():
        where = f"services.{name}"
        if svc.health_check is not None:
            raise NotSimulatedError(f"{where}.health_check: not simulated yet by the numba engine "
                                    "(load-balancer and router health checks come with issue 4)")
        if svc.dns is not None and (svc.dns.ttl > 0 or svc.dns.stale_fraction > 0):
            raise NotSimulatedError(f"{where}.dns: not simulated yet by the numba engine "
                                    "(DNS TTL delays come with issue 4)")
        for i, cache in enumerate(svc.cached):
            if cache.ttl > 0:
                raise NotSimulatedError(f"{where}.cached.{i}.ttl: not simulated yet by the numba engine "
                                        "(cache TTL masking comes with issue 4)")


class _Dists:
    """Accumulates distribution rows ``[code, p0, p1, p2]`` and the pooled empirical samples."""

    def __init__(self):
        self.rows: list[list[float]] = []
        self.samples: list[float] = []

    def add(self, d) -> int:
        from ._rng import CODE_BY_NAME  # here, not at import: _rng imports numba

        code = CODE_BY_NAME[d.dist]
        if d.dist == "exponential":
            p = (d.mean, 0.0)
        elif d.dist == "weibull":
            p = (d.shape, d.scale_hours)
        elif d.dist == "lognormal":
            p = (d.mu, d.sigma)
        elif d.dist == "fixed":
            p = (d.value, 0.0)
        elif d.dist == "uniform":
            p = (d.low, d.high)
        elif d.dist == "empirical":
            p = (float(len(self.samples)), float(len(d.samples)))
            self.samples.extend(float(x) for x in d.samples)
        else:  # pragma: no cover - the model only admits the laws above
            raise ValueError(f"unknown distribution {d.dist!r}")
        self.rows.append([float(code), float(p[0]), float(p[1]), 0.0])
        return len(self.rows) - 1


def compile_scenario(scenario: Scenario) -> Compiled:
    """Flatten ``scenario`` for the kernel.

    Raises
    ------
    NotSimulatedError
        For health checks, DNS TTLs and cache TTLs (not simulated yet); the
        message starts with the key path, e.g.
        ``services.api.health_check: not simulated yet by the numba engine``.
    """
    sc = scenario
    _check_supported(sc)
    order = sc.topological_order()
    sidx = {name: i for i, name in enumerate(order)}
    zones = list(sc.zones)
    zidx = {name: i for i, name in enumerate(zones)}
    S, Z = len(order), len(zones)
    dists = _Dists()

    svc_mode = np.zeros(S, dtype=np.int64)
    svc_has_inst = np.zeros(S, dtype=np.int64)
    svc_k = np.ones(S, dtype=np.int64)
    svc_fail = np.full(S, -1, dtype=np.int64)
    svc_rep = np.full(S, -1, dtype=np.int64)
    svc_idle = np.ones(S, dtype=np.float64)
    svc_fo = np.zeros((S, 4), dtype=np.float64)
    svc_route = np.zeros(S, dtype=np.int64)
    shard_rows: list[list[int]] = []
    dep_rows, tgt_rows, req_rows = [], [], []
    tgt_w: list[float] = []
    sh_svc: list[int] = []
    sh_inst: list[list[int]] = []
    inst_shard: list[int] = []
    inst_zone: list[int] = []

    for v, name in enumerate(order):
        svc = sc.services[name]
        svc_route[v] = _ROUTE[svc.route]
        dep_rows.append([sidx[d] for d in svc.dependencies])
        tgt_rows.append([sidx[t] for t in svc.targets])
        if svc.is_router:
            tgt_w.extend(svc.weights or [1.0] * len(svc.targets))
        fo = svc.failover
        req_rows.append([sidx[r] for r in fo.requires] if fo is not None else [])
        if fo is not None:
            manual = math.inf if fo.manual is None else fo.manual
            svc_fo[v] = (fo.detection, fo.promotion, fo.success, manual)
        else:  # instant failover / election
            svc_fo[v] = (0.0, 0.0, 1.0, math.inf)
        rows = []
        if svc.has_instances:
            svc_has_inst[v] = 1
            svc_mode[v] = _MODE[svc.mode]
            if svc.mode == "active":
                svc_k[v] = svc.min_healthy
            elif svc.mode == "quorum":
                svc_k[v] = svc.replicas // 2 + 1
            else:
                svc_k[v] = 1
                svc_idle[v] = {"hot": 1.0, "warm": svc.warm_factor, "cold": 0.0}[svc.standby]
            svc_fail[v] = dists.add(svc.failure)
            svc_rep[v] = dists.add(svc.repair)
            for _ in range(svc.shards):
                sh = len(sh_svc)
                rows.append(sh)
                sh_svc.append(v)
                members = []
                for i in range(svc.replicas):
                    members.append(len(inst_shard))
                    inst_shard.append(sh)
                    inst_zone.append(zidx[svc.zones[i % len(svc.zones)]] if svc.zones else -1)
                sh_inst.append(members)
        shard_rows.append(rows)

    # Parents: who reads each service's state (dependencies, targets, failover.requires).
    parents: list[list[int]] = [[] for _ in range(S)]
    for v in range(S):
        for u in dict.fromkeys(dep_rows[v] + tgt_rows[v] + req_rows[v]):
            parents[u].append(v)
    ancestors: list[list[int]] = []
    for v in range(S):
        seen, stack = set(), list(parents[v])
        while stack:
            p = stack.pop()
            if p not in seen:
                seen.add(p)
                stack.extend(parents[p])
        ancestors.append(sorted(seen))  # kernel order is topological
    # Reach: what the entry's served fraction can depend on (optional dependencies excluded).
    entry = sidx[sc.entry]
    reach = np.zeros(S, dtype=np.int64)
    stack = [entry]
    while stack:
        v = stack.pop()
        if not reach[v]:
            reach[v] = 1
            stack.extend(dep_rows[v] + tgt_rows[v] + req_rows[v])

    # Zones.
    zone_fail = np.array([dists.add(sc.zones[z].failure) for z in zones], dtype=np.int64)
    zone_rep = np.array([dists.add(sc.zones[z].repair) for z in zones], dtype=np.int64)
    chains = [[zidx[c] for c in sc.zone_chain(z)] for z in zones]
    desc = [[d for d in range(Z) if z in chains[d]] for z in range(Z)]
    zone_inst = [[i for i, zi in enumerate(inst_zone) if zi == z] for z in range(Z)]

    # Causes: services, zones, failovers.
    causes = list(order) + [f"zone {z}" for z in zones] + [f"{s} failover" for s in order]
    kinds = ["instance"] * S + ["zone"] * Z + ["failover"] * S
    svc_cause = np.arange(S, dtype=np.int64)
    zone_cause = np.arange(S, S + Z, dtype=np.int64)
    svc_fo_cause = np.arange(S + Z, 2 * S + Z, dtype=np.int64)
    N, H = len(inst_shard), len(sh_svc)
    src_cause = np.concatenate([
        svc_cause[np.asarray(sh_svc, dtype=np.int64)[np.asarray(inst_shard, dtype=np.int64)]] if N else
        np.zeros(0, dtype=np.int64),
        zone_cause,
        svc_fo_cause[np.asarray(sh_svc, dtype=np.int64)] if H else np.zeros(0, dtype=np.int64),
        svc_cause,
    ]).astype(np.int64)

    svc_dep_ptr, svc_dep = _csr(dep_rows)
    svc_tgt_ptr, svc_tgt = _csr(tgt_rows)
    svc_req_ptr, svc_req = _csr(req_rows)
    svc_par_ptr, svc_par = _csr(parents)
    svc_anc_ptr, svc_anc = _csr(ancestors)
    svc_shard_ptr = np.zeros(S + 1, dtype=np.int64)
    for v in range(S):
        svc_shard_ptr[v + 1] = svc_shard_ptr[v] + len(shard_rows[v])
    sh_inst_ptr, _ = _csr(sh_inst)
    zone_chain_ptr, zone_chain = _csr(chains)
    zone_desc_ptr, zone_desc = _csr(desc)
    zone_inst_ptr, zone_inst_flat = _csr(zone_inst)

    model = CompiledModel(
        n_services=S, n_shards=H, n_instances=N, n_zones=Z, n_causes=len(causes),
        n_sources=N + Z + H + S, entry=entry,
        dist=np.ascontiguousarray(np.array(dists.rows, dtype=np.float64).reshape(-1, 4)),
        dist_code=np.array([int(r[0]) for r in dists.rows], dtype=np.int64),
        samples=np.array(dists.samples if dists.samples else [0.0], dtype=np.float64),
        svc_mode=svc_mode, svc_has_inst=svc_has_inst, svc_k=svc_k, svc_fail=svc_fail, svc_rep=svc_rep,
        svc_idle=svc_idle, svc_fo=svc_fo, svc_route=svc_route, svc_reach=reach,
        svc_shard_ptr=svc_shard_ptr, svc_dep_ptr=svc_dep_ptr, svc_dep=svc_dep,
        svc_tgt_ptr=svc_tgt_ptr, svc_tgt=svc_tgt, svc_tgt_w=np.array(tgt_w, dtype=np.float64),
        svc_req_ptr=svc_req_ptr, svc_req=svc_req, svc_par_ptr=svc_par_ptr, svc_par=svc_par,
        svc_anc_ptr=svc_anc_ptr, svc_anc=svc_anc, svc_cause=svc_cause, svc_fo_cause=svc_fo_cause,
        sh_svc=np.array(sh_svc, dtype=np.int64), sh_inst_ptr=sh_inst_ptr,
        inst_shard=np.array(inst_shard, dtype=np.int64), inst_zone=np.array(inst_zone, dtype=np.int64),
        zone_fail=zone_fail, zone_rep=zone_rep, zone_chain_ptr=zone_chain_ptr, zone_chain=zone_chain,
        zone_desc_ptr=zone_desc_ptr, zone_desc=zone_desc, zone_inst_ptr=zone_inst_ptr, zone_inst=zone_inst_flat,
        zone_cause=zone_cause, src_cause=src_cause,
    )
    return Compiled(model=model, scenario=sc, services=list(order), zones=zones, causes=causes, cause_kinds=kinds)
