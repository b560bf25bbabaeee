"""Scenario -> flat arrays for the numba kernel.

:func:`compile_scenario` validates what the numba engine can simulate and
flattens a :class:`~hasim.model.scenario.Scenario` into a :class:`CompiledModel`, a
NamedTuple of C-contiguous numpy arrays (and a few ints) that the kernel in
:mod:`hasim.sim.kernel` reads.  Names never reach the kernel: the
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
svc_k             float64[S]          instances a shard needs (:func:`~hasim.model.structure.needed`):
                                      min_healthy or load / capacity; quorum: majority; standby: 1
svc_fail          int64[S]            row of ``dist`` for time to failure (-1: none)
svc_rep           int64[S]            row of ``dist`` for time to repair (-1: none)
svc_idle          float64[S]          life speed of an idle standby (1 hot, warm_factor, 0 cold)
svc_fo            float64[S, 4]       detection, promotion, success, manual (inf: none)
oc_row            int64[2]            on-call response laws (rows of ``dist``): business hours, night (-1: none)
oc_hours          float64[2]          business hours [start, end) (0 and 24 without a night law)
svc_rp            int64[S]            replication of a standby service: REPL_NONE / _SYNC / _ASYNC / _SNAPSHOT
svc_rp_lag        int64[S]            row of ``dist`` of the asynchronous lag (-1: none)
svc_rp_t          float64[S]          snapshot interval, hours (0: none)
svc_route         int64[S]            NO_ROUTE / ROUTE_FAILOVER / ROUTE_WEIGHTED
svc_reach         int64[S]            1 if the entry's served fraction can depend on it
svc_shard_ptr     int64[S + 1]        shards of each service (shards are numbered by service)
svc_dep_ptr/_dep  int64               hard dependencies (requires + cached services)
svc_tgt_ptr/_tgt  int64               router targets, in order; ``svc_tgt_w`` float64 weights
svc_req_ptr/_req  int64               failover.requires
svc_par_ptr/_par  int64               direct parents: services that read this one's state
svc_anc_ptr/_anc  int64               all ancestors in topological order (re-evaluation set)
svc_cause         int64[S]            cause index of an instance failure of the service
svc_hc            float64[S, 3]       health check: interval, unhealthy / healthy threshold
svc_hc_on         int64[S]            1 if the service's instances are probed (a pool's health_check)
svc_hc_loss       int64[S]            1 if a failed-but-routed instance loses its share (pool, no retry)
svc_dns           float64[S, 3]       router: ttl, stale_fraction, stale_for (0 if no stale share)
svc_end_ptr/_end  int64 / float64     router: the distinct positive ends of a DNS ramp, ascending
svc_ramp          int64[S]            router: auxiliary timer of its DNS ramp (-1: instant switch)
svc_cache_ptr/_   int64               caches owned by the service
tgt_owner         int64[T]            router of each target slot (``T = len(svc_tgt)``)
tgt_probe         int64[T]            auxiliary timer probing the target (-1: no health_check)
tgt_copy          int64[T]            failover router: the disaster-recovery copy the target reaches (-1: none)
dep_cache         int64[P]            cache masking each dependency slot (-1: none)
cache_owner/_dep  int64[C]            owner and cached service of each ``cached`` entry with a ttl
cache_ttl         float64[C]
cache_aux         int64[C]            its auxiliary timer
inst_probe        int64[N]            auxiliary timer probing the instance (-1: no health_check)
aux_kind/_obj     int64[A]            AUX_PROBE_INST / AUX_PROBE_TGT / AUX_RAMP / AUX_CACHE and the
                                      instance, target slot, router or cache it belongs to
st_router ...     int64               what the stage rule looks at (reachable parts only):
                                      routers, health-checked shards without retry, standby /
                                      quorum shards, caches, zones holding reachable instances,
                                      active shards with min_healthy > 1
gl_x, gl_w        float64[G, G]       Gauss-Legendre nodes and weights, row n - 1: n nodes
sh_svc            int64[H]            service of each shard
sh_inst_ptr       int64[H + 1]        instances of each shard (instance order = index order)
inst_shard        int64[N]            shard of each instance
inst_fail/_rep    int64[N]            rows of ``dist`` of the instance's service (the event loop
                                      reads them per event: one load instead of three)
inst_plain        int64[N]            the event loop's shortest paths: 1 if the instance's service is an
                                      ``active`` pool without health check, overload, timeouts, breakers,
                                      autoscaling or daily profile; 2 if its only extras are an overload
                                      model or a daily profile (comfortable at every hour from ``sh_kx``
                                      on); 0 otherwise
sh_k              float64[H]          ``svc_k`` of each shard's service
sh_kt             float64[H, 24]      instances the shard needs at each hour of the day (daily loads)
wt_day, wt_cum    float64[24], [25]   requests per hour over the mean hour (the entry's load); their
                                      running sum (``wt_cum[h]``: hours 0 .. h - 1)
day_on, day_aux   int                 1 if a daily profile varies a need or a weight; the source id
                                      of the hourly tick (-1 without)
day_sh            int64[*]            shards whose need varies over the day; ``sh_day`` int64[H]: 1 for them
sh_ke             float64[H, 24]      carrying instances below which a profiled shard may serve differently
                                      at each hour: its need, over the lowest overload threshold, admission
                                      limit or scaling target if < 1; ``sh_kx`` float64[H]: their largest
svc_ov_on         int64[S]            1 if the pool can collapse under overload
svc_ov            float64[S, 5]       overload threshold, grace, recovery threshold, goodput, admission limit (inf: none)
svc_rt            float64[S, 2]       clients' attempts per request, most attempts the retry
                                      budget allows (inf: none); (1, 1) without retries
sh_ov_aux         int64[H]            source id of the shard's overload grace timer (-1: none)
st_ov_sh          int64[*]            reachable shards that can collapse (the ``overload`` stage)
svc_cb_ptr/cb_dep  int64              watched dependency edges of each service (timeouts, breakers)
cb_svc            int64[B]            the caller of each watched edge
cb_hold           float64[B]          calls x timeout / latency: worker time held per failed share
cb_on, cb_serve   int64[B]            1 if the edge has a breaker; 1 if its fallback serves
cb_par            float64[B, 3]       breaker threshold, window, reset timeout
cb_aux            int64[B]            source id of the breaker's timer (-1: none)
dep_cb            int64[P]            breaker on each hard-dependency slot (-1: none)
svc_dyn, svc_cap  int64[S]            1 if timeouts or breakers can move the pool's need; 1 if it has a capacity
fe_src/_dst/_mult/_cb  [F]            load flow edges (callers first), calls per request, breaker cutting it
svc_ext, svc_dfull float64[S, 24]     external and full offered load (requests/s) at each hour
st_cb             int64[*]            reachable breakers that fail fast (``breaker`` while their dependency is back)
st_hold_sh        int64[*]            reachable shards whose timeouts hold workers (the ``breaker`` stage)
svc_as_on         int64[S]            1 if the pool autoscales
svc_as            float64[S, 4]       its target utilisation, scale-out delay, scale-in delay, most added instances
sh_as_aux         int64[H]            source id of the shard's scaling timer (-1: none)
st_as_sh          int64[*]            reachable autoscaled shards (the ``scaling`` stage)
svc_dp_ptr/_      int64               the processes of changes that expose each service (its deploys, pushes)
dp_svc_ptr/_      int64               the services each process of changes exposes
dp_aux            int64[D]            the source id of each process's timer
dp_i              int64[D, 5]         its strategy (``STRATEGY_*``), the rows of its detect and rollback laws,
                                      1 if its rollback waits for the on-call (``paged``), the alert rule
                                      whose page notices it (-1: none)
dp_f              float64[D, 7]       mean gap or period between releases, 1 for a train, bad, errors,
                                      batch or canary share, pause or bake, catch
st_dp             int64[*]            reachable deploy processes (``detection``/``alerting``, ``rollback`` stages)
n_alerts          int                 alert rules (hasim.model.alerts), each with a timer
al_aux            int64[A]            the source id of each rule's timer
al_f              float64[A, 4]       its threshold on the error ratio, for, every, 1 for a burn-rate rule
al_w              int64[A, 2]         its windows in evaluations (over or long, short; 0: none)
al_ring_ptr       int64[A + 1]        its ring of the loss at its last evaluations (max window + 2 slots)
nz_aux            int64               the source id of the noise's timer (-1: no ``alert_noise``)
svc_rpg           int64[S]            1 if its instances' repairs wait for the on-call (``repair_paged``)
svc_mt_aux        int64[S]            the source id of its maintenance windows' timer (-1: none)
svc_mt            float64[S, 2]       their period and length (hasim.model.maintenance)
inst_mt           int64[N]            1 if a window takes the instance out (the first ``takes`` of its shard)
st_mt_sh          int64[*]            reachable shards with maintenance windows (the ``maintenance`` stage)
st_rpg            int64[*]            the reachable instances with paged repairs (the ``response`` stage)
nz_f              float64[2]          the mean gap between its spikes, each spike's errors
nz_row            int64               the row of the spikes' duration law
day_next          float64[24]         hours from each hour to the next boundary where a need changes
sh_capx           float64[H]          1 / the admission limit below 1 (1 without one): short of capacity below sh_kc x this
inst_zone         int64[N]            innermost zone of each instance, -1 if none
zone_fail/_rep    int64[Z]            rows of ``dist``
zone_chain_ptr/_  int64               each zone and the zones it lies within, innermost first
zone_desc_ptr/_   int64               each zone and every zone nested in it (affected zones)
zone_inst_ptr/_   int64               instances whose innermost zone is this one
zone_cause        int64[Z]            cause index "zone <name>"
src_cause         int64[E]            cause index of each event source (see below)
src_key           int64[E]            random-stream key of each event source: stable under changes
                                      of replica counts elsewhere (see below)
================  ==================  ===================================================

Event sources (ids of the kernel's heap) are numbered instances first, then
zones, then one timer per shard (failover / election), then the auxiliary
timers (one health probe per health-checked instance and per target of a
health-checked router, one DNS ramp per router with a TTL or stale share, one
per cache with a ttl)::

    [0, N) instances, [N, N + Z) zones, [N + Z, N + Z + H) shard timers,
    [N + Z + H, E) auxiliary timers, E = N + Z + H + A.

``scan_queue`` is True when ``E <= SCAN_MAX``: the kernel then finds the next
event by scanning the sources' pending times instead of keeping a heap (the
same order either way, see "the event queue" in :mod:`hasim.sim.kernel`).

Every source draws from its own random stream, keyed by what it *is* rather
than by its id (service, shard and replica number; zone; ...), so that adding
a replica to one service leaves every other component's draws unchanged.

Causes are those of :func:`hasim.model.structure.cause_labels`: every service, then
every zone.  Only instance and zone events carry a cause (``src_cause``);
timers carry -1 and the kernel inherits the cause from the dependency whose
degradation shows.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from hasim.model.scenario import Scenario
from hasim.model.structure import reach as _reach
from hasim.model.structure import cause_labels, needed, needed_daily, request_weights
from hasim.model.breaker import hold_per_failure
from hasim.model.capacity import daily_demand, external, flow_edges
from hasim.model.structure import changed, dr_copies, placement, read_by, watched, zone_descendants, zones_that_matter
from hasim.model.deploys import STRATEGIES, releases_per_hour
from hasim.model.alerts import threshold, windows
# The codes the compiled model is written in are the kernel's (it branches on them): defined there.
from hasim.sim.kernel._codes import (ACTIVE, AUX_ALERT, AUX_MAINT, AUX_NOISE, AUX_BREAKER, AUX_DEPLOY, AUX_SCALE, AUX_CACHE, AUX_HOUR, AUX_OVERLOAD, AUX_PROBE_INST, AUX_PROBE_TGT,
                                     AUX_RAMP, GAUSS_NODES,
                                     NO_ROUTE, QUORUM, REPL_ASYNC, REPL_SNAPSHOT, REPL_SYNC, ROUTE_FAILOVER,
                                     ROUTE_WEIGHTED, STANDBY)

__all__ = [
    "CompiledModel", "Compiled", "compile_scenario",
    "ACTIVE", "STANDBY", "QUORUM", "NO_ROUTE", "ROUTE_FAILOVER", "ROUTE_WEIGHTED",
    "AUX_PROBE_INST", "AUX_PROBE_TGT", "AUX_RAMP", "AUX_CACHE", "AUX_HOUR", "AUX_OVERLOAD", "GAUSS_NODES",
    "SCAN_MAX",
]

_MODE = {"active": ACTIVE, "standby": STANDBY, "quorum": QUORUM}
_REPL = {"sync": REPL_SYNC, "async": REPL_ASYNC, "snapshot": REPL_SNAPSHOT}
_ROUTE = {None: NO_ROUTE, "failover": ROUTE_FAILOVER, "weighted": ROUTE_WEIGHTED}

#: Models with at most this many event sources keep their pending events in a flat array the
#: kernel scans for the next one; larger ones in a heap.  Both pop the same order.  Measured
#: (``benchmarks/bench_queue.py``): the scan is 1.3x faster per event up to ~17 sources, the two
#: are even at 25-33, the heap wins from ~49 (and on the flagship's 43, mostly idle timers).
SCAN_MAX = 32


class CompiledModel(NamedTuple):
    """Flat arrays of one scenario; see the module docstring for every field."""

    n_services: int
    n_shards: int
    n_instances: int
    n_zones: int
    n_causes: int
    n_alerts: int
    n_sources: int
    scan_queue: bool
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
    oc_row: np.ndarray
    oc_hours: np.ndarray
    al_aux: np.ndarray
    al_f: np.ndarray
    al_w: np.ndarray
    al_ring_ptr: np.ndarray
    nz_aux: int
    svc_rpg: np.ndarray
    st_rpg: np.ndarray
    svc_mt_aux: np.ndarray
    svc_mt: np.ndarray
    inst_mt: np.ndarray
    st_mt_sh: np.ndarray
    nz_f: np.ndarray
    nz_row: int
    svc_rp: np.ndarray
    svc_rp_lag: np.ndarray
    svc_rp_t: np.ndarray
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
    svc_hc: np.ndarray
    svc_hc_on: np.ndarray
    svc_hc_loss: np.ndarray
    svc_dns: np.ndarray
    svc_end_ptr: np.ndarray
    svc_end: np.ndarray
    svc_ramp: np.ndarray
    svc_cache_ptr: np.ndarray
    svc_cache: np.ndarray
    tgt_owner: np.ndarray
    tgt_probe: np.ndarray
    tgt_copy: np.ndarray
    dep_cache: np.ndarray
    cache_owner: np.ndarray
    cache_dep: np.ndarray
    cache_ttl: np.ndarray
    cache_aux: np.ndarray
    inst_probe: np.ndarray
    aux_kind: np.ndarray
    aux_obj: np.ndarray
    st_router: np.ndarray
    st_hc_sh: np.ndarray
    st_fo_sh: np.ndarray
    st_cache: np.ndarray
    st_zone: np.ndarray
    st_cap_sh: np.ndarray
    gl_x: np.ndarray
    gl_w: np.ndarray
    sh_svc: np.ndarray
    sh_inst_ptr: np.ndarray
    inst_shard: np.ndarray
    inst_fail: np.ndarray
    inst_rep: np.ndarray
    inst_plain: np.ndarray
    sh_k: np.ndarray
    sh_kt: np.ndarray
    wt_day: np.ndarray
    wt_cum: np.ndarray
    day_on: int
    day_aux: int
    day_sh: np.ndarray
    sh_day: np.ndarray
    sh_kx: np.ndarray
    sh_ke: np.ndarray
    svc_ov_on: np.ndarray
    svc_ov: np.ndarray
    svc_rt: np.ndarray
    sh_ov_aux: np.ndarray
    st_ov_sh: np.ndarray
    svc_cb_ptr: np.ndarray
    cb_dep: np.ndarray
    cb_svc: np.ndarray
    cb_hold: np.ndarray
    cb_on: np.ndarray
    cb_par: np.ndarray
    cb_serve: np.ndarray
    cb_aux: np.ndarray
    dep_cb: np.ndarray
    svc_dyn: np.ndarray
    svc_cap: np.ndarray
    fe_src: np.ndarray
    fe_dst: np.ndarray
    fe_mult: np.ndarray
    fe_cb: np.ndarray
    svc_ext: np.ndarray
    svc_dfull: np.ndarray
    st_cb: np.ndarray
    st_hold_sh: np.ndarray
    svc_as_on: np.ndarray
    svc_as: np.ndarray
    sh_as_aux: np.ndarray
    st_as_sh: np.ndarray
    sh_capx: np.ndarray
    day_next: np.ndarray
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
    src_key: np.ndarray
    svc_dp_ptr: np.ndarray
    svc_dp: np.ndarray
    dp_svc_ptr: np.ndarray
    dp_svc: np.ndarray
    dp_aux: np.ndarray
    dp_i: np.ndarray
    dp_f: np.ndarray
    st_dp: np.ndarray


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
        Cause names by cause index: every service (instance failures), then
        every zone (``"zone <name>"``); see :func:`hasim.model.structure.cause_labels`.
    cause_kinds : list of str
        ``"instance"`` or ``"zone"`` per cause.
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


def _csr(rows: list[list], dtype=np.int64) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, items) of ``rows``: the items of row ``i`` are ``items[ptr[i]:ptr[i + 1]]``."""
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    for i, row in enumerate(rows):
        ptr[i + 1] = ptr[i] + len(row)
    flat = np.array([x for row in rows for x in row], dtype=dtype)
    return ptr, flat


class _Dists:
    """Accumulates distribution rows ``[code, p0, p1, p2]`` and the pooled empirical samples."""

    def __init__(self):
        self.rows: list[list[float]] = []
        self.samples: list[float] = []

    def add(self, d) -> int:
        from hasim.sim.kernel._rng import CODE_BY_NAME  # here, not at import: _rng imports numba

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


@functools.lru_cache(maxsize=1)
def _gauss_legendre() -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for 1 .. GAUSS_NODES points, row n - 1 (constant: built once, shared by
    every compiled model, never written)."""
    gl_x = np.zeros((GAUSS_NODES, GAUSS_NODES), dtype=np.float64)
    gl_w = np.zeros((GAUSS_NODES, GAUSS_NODES), dtype=np.float64)
    for n in range(1, GAUSS_NODES + 1):
        x, wts = np.polynomial.legendre.leggauss(n)
        gl_x[n - 1, :n] = x
        gl_w[n - 1, :n] = wts
    # (Not flagged read-only: numba would type read-only arrays differently and compile the
    # kernel a second time.)
    return gl_x, gl_w


class _Parts:
    """What :func:`compile_scenario` has laid out so far: each step below adds the arrays of one
    part of the model (pools, the dependency graph, zones, the delays, the stage rule, the
    random streams), reading what the earlier steps laid out."""

    def __init__(self, sc: Scenario):
        self.sc = sc
        self.order = sc.topological_order()
        self.sidx = {name: i for i, name in enumerate(self.order)}
        self.zones = list(sc.zones)
        self.zidx = {name: i for i, name in enumerate(self.zones)}
        self.S, self.Z = len(self.order), len(self.zones)
        self.dists = _Dists()


def _pools(p: _Parts) -> None:
    """Services, their shards and instances: modes, laws, failover settings, quorum sizes, edges."""
    sc, S = p.sc, p.S
    p.svc_mode = np.zeros(S, dtype=np.int64)
    p.svc_has_inst = np.zeros(S, dtype=np.int64)
    p.svc_k = np.ones(S, dtype=np.float64)
    p.svc_fail = np.full(S, -1, dtype=np.int64)
    p.svc_rep = np.full(S, -1, dtype=np.int64)
    p.svc_idle = np.ones(S, dtype=np.float64)
    p.svc_fo = np.zeros((S, 4), dtype=np.float64)
    p.svc_rp = np.zeros(S, dtype=np.int64)
    p.svc_rp_lag = np.full(S, -1, dtype=np.int64)
    p.svc_rp_t = np.zeros(S, dtype=np.float64)
    p.svc_route = np.zeros(S, dtype=np.int64)
    p.shard_rows, p.dep_rows, p.tgt_rows, p.req_rows = [], [], [], []
    p.tgt_w, p.sh_svc, p.sh_inst, p.inst_shard, p.inst_zone = [], [], [], [], []
    for v, name in enumerate(p.order):
        svc = sc.services[name]
        p.svc_route[v] = _ROUTE[svc.route]
        p.dep_rows.append([p.sidx[d] for d in svc.dependencies])
        p.tgt_rows.append([p.sidx[t] for t in svc.targets])
        if svc.is_router:
            p.tgt_w.extend(svc.weights or [1.0] * len(svc.targets))
        fo = svc.failover
        p.req_rows.append([p.sidx[r] for r in fo.requires] if fo is not None else [])
        if fo is not None:
            manual = math.inf if fo.manual is None else fo.manual
            p.svc_fo[v] = (fo.detection, fo.promotion, fo.success, manual)
        else:  # instant failover / election
            p.svc_fo[v] = (0.0, 0.0, 1.0, math.inf)
        rows = []
        if svc.has_instances:
            p.svc_has_inst[v] = 1
            p.svc_mode[v] = _MODE[svc.mode]
            p.svc_k[v] = needed(sc, name)
            if svc.mode == "standby":
                p.svc_idle[v] = {"hot": 1.0, "warm": svc.warm_factor, "cold": 0.0}[svc.standby]
            rep = svc.replication
            if rep is not None:
                p.svc_rp[v] = _REPL[rep.mode]
                if rep.lag is not None:
                    p.svc_rp_lag[v] = p.dists.add(rep.lag)
                p.svc_rp_t[v] = rep.interval or 0.0
            p.svc_fail[v] = p.dists.add(svc.failure)
            p.svc_rep[v] = p.dists.add(svc.repair)
            for _ in range(svc.shards):
                sh = len(p.sh_svc)
                rows.append(sh)
                p.sh_svc.append(v)
                members = []
                for i in range(svc.replicas):
                    members.append(len(p.inst_shard))
                    p.inst_shard.append(sh)
                p.sh_inst.append(members)
        p.shard_rows.append(rows)
    p.inst_zone = [-1 if z is None else p.zidx[z] for _, _, _, z in placement(sc)]
    p.N, p.H = len(p.inst_shard), len(p.sh_svc)


def _graph(p: _Parts) -> None:
    """Who reads each service's state (dependencies, targets, failover.requires), transitively, and
    what the entry's served fraction can depend on (optional dependencies excluded)."""
    S, order, sidx = p.S, p.order, p.sidx
    readers = read_by(p.sc)
    p.parents = [[sidx[r] for r in readers[name]] for name in order]
    p.ancestors = []
    for v in range(S):
        seen, stack = set(), list(p.parents[v])
        while stack:
            q = stack.pop()
            if q not in seen:
                seen.add(q)
                stack.extend(p.parents[q])
        p.ancestors.append(sorted(seen))  # kernel order is topological
    p.entry = sidx[p.sc.entry]
    reached = _reach(p.sc)
    p.reach = np.array([int(name in reached) for name in order], dtype=np.int64)


def _zones(p: _Parts) -> None:
    """Zone laws, chains (a zone and those it is within), descendants and the instances placed in each;
    root causes: services, then zones (the SimPy engine's labels)."""
    sc, Z, zones = p.sc, p.Z, p.zones
    p.zone_fail = np.array([p.dists.add(sc.zones[z].failure) for z in zones], dtype=np.int64)
    p.zone_rep = np.array([p.dists.add(sc.zones[z].repair) for z in zones], dtype=np.int64)
    p.chains = [[p.zidx[c] for c in sc.zone_chain(z)] for z in zones]
    below = zone_descendants(sc)
    p.desc = [[p.zidx[d] for d in below[z]] for z in zones]
    p.zone_inst = [[i for i, zi in enumerate(p.inst_zone) if zi == z] for z in range(Z)]
    p.causes, p.kinds = cause_labels(sc)
    p.svc_cause = np.arange(p.S, dtype=np.int64)
    p.zone_cause = np.arange(p.S, p.S + Z, dtype=np.int64)


def _delays(p: _Parts) -> None:
    """Health checks, DNS ramps and caches; each gets auxiliary timers numbered after the instances,
    zones and shard timers."""
    sc, S, N = p.sc, p.S, p.N
    p.aux_kind, p.aux_obj = [], []

    def aux(kind: int, obj: int) -> int:
        p.aux_kind.append(kind)
        p.aux_obj.append(obj)
        return N + p.Z + p.H + len(p.aux_kind) - 1

    p.add_aux = aux

    p.svc_hc = np.zeros((S, 3), dtype=np.float64)
    p.svc_hc_on = np.zeros(S, dtype=np.int64)
    p.svc_hc_loss = np.zeros(S, dtype=np.int64)
    p.svc_dns = np.zeros((S, 3), dtype=np.float64)
    p.svc_ramp = np.full(S, -1, dtype=np.int64)
    p.end_rows = []
    p.inst_probe = np.full(N, -1, dtype=np.int64)
    p.tgt_owner = np.array([v for v in range(S) for _ in p.tgt_rows[v]], dtype=np.int64)
    p.tgt_probe = np.full(len(p.tgt_owner), -1, dtype=np.int64)
    copies = dr_copies(sc)
    p.tgt_copy = np.array([-1 if (c := copies.get(name, [None] * len(p.tgt_rows[v]))[k]) is None else p.sidx[c]
                           for v, name in enumerate(p.order) for k in range(len(p.tgt_rows[v]))], dtype=np.int64)
    p.cache_rows, p.cache_owner, p.cache_dep, p.cache_ttl, p.cache_aux, p.dep_cache = [], [], [], [], [], []
    p.svc_tgt_ptr, p.svc_tgt = _csr(p.tgt_rows)
    for v, name in enumerate(p.order):
        svc = sc.services[name]
        hc = svc.health_check
        ends: list[float] = []
        if hc is not None:
            p.svc_hc[v] = (hc.interval, hc.unhealthy_threshold, hc.healthy_threshold)
            p.svc_hc_on[v] = int(not svc.is_router)  # a router's own instances are not probed
            p.svc_hc_loss[v] = int(not svc.is_router and not svc.retry)
            if svc.is_router:
                for a in range(p.svc_tgt_ptr[v], p.svc_tgt_ptr[v + 1]):
                    p.tgt_probe[a] = aux(AUX_PROBE_TGT, a)
            else:
                for sh in p.shard_rows[v]:
                    for i in p.sh_inst[sh]:
                        p.inst_probe[i] = aux(AUX_PROBE_INST, i)
        if svc.is_router and svc.dns is not None:
            stale = svc.dns.stale_fraction
            stale_for = svc.dns.stale_for if stale > 0 else 0.0
            p.svc_dns[v] = (svc.dns.ttl, stale, stale_for)
            ends = sorted({e for e in (svc.dns.ttl, stale_for) if e > 0})
            if ends:
                p.svc_ramp[v] = aux(AUX_RAMP, v)
        p.end_rows.append(ends)
        ttl_of = {c.service: c.ttl for c in svc.cached if c.ttl > 0}
        mine = []
        for d in svc.dependencies:
            if d in ttl_of:
                c = len(p.cache_owner)
                p.cache_owner.append(v)
                p.cache_dep.append(p.sidx[d])
                p.cache_ttl.append(float(ttl_of[d]))
                p.cache_aux.append(aux(AUX_CACHE, c))
                mine.append(c)
                p.dep_cache.append(c)
            else:
                p.dep_cache.append(-1)
        p.cache_rows.append(mine)


def _load(p: _Parts) -> None:
    """Daily needs and request weights (one hourly tick if a profile varies anything), overload settings and
    their grace timers, client retries."""
    sc, S = p.sc, p.S
    p.sh_kt = np.zeros((p.H, 24), dtype=np.float64)
    p.svc_ov_on = np.zeros(S, dtype=np.int64)
    p.svc_ov = np.zeros((S, 5), dtype=np.float64)
    p.svc_rt = np.ones((S, 2), dtype=np.float64)
    p.sh_ov_aux = np.full(p.H, -1, dtype=np.int64)
    p.wt_day = np.ascontiguousarray(request_weights(sc), dtype=np.float64)
    p.wt_cum = np.concatenate([[0.0], np.cumsum(p.wt_day)]).astype(np.float64)
    varying = []
    p.sh_kx = np.zeros(p.H, dtype=np.float64)
    p.sh_ke = np.zeros((p.H, 24), dtype=np.float64)
    for v, name in enumerate(p.order):
        svc = sc.services[name]
        daily = needed_daily(sc, name)
        # Below this many instances a shard may serve (or scale) differently at another hour.
        lowest = min([1.0] + ([svc.overload.threshold, svc.overload.admits] if svc.overload is not None else [])
                     + ([svc.autoscaling.target] if svc.autoscaling is not None else []))
        for sh in p.shard_rows[v]:
            p.sh_kt[sh] = daily
            p.sh_ke[sh] = daily / lowest
            p.sh_kx[sh] = float(daily.max()) / lowest
            if np.ptp(daily) > 0:
                varying.append(sh)
        if svc.overload is not None:
            ov = svc.overload
            p.svc_ov_on[v] = 1
            p.svc_ov[v] = (ov.threshold, ov.grace, ov.recovers_below, ov.goodput, ov.admits)
            if svc.retries is not None:
                p.svc_rt[v] = (float(svc.retries.attempts), svc.retries.cap)
            for sh in p.shard_rows[v]:
                p.sh_ov_aux[sh] = p.add_aux(AUX_OVERLOAD, sh)
    p.svc_as_on = np.zeros(S, dtype=np.int64)
    p.svc_as = np.zeros((S, 4), dtype=np.float64)
    p.sh_as_aux = np.full(p.H, -1, dtype=np.int64)
    for v, name in enumerate(p.order):
        a = sc.services[name].autoscaling
        if a is not None:
            p.svc_as_on[v] = 1
            p.svc_as[v] = (a.target, a.delay, a.scale_in, float(a.max - sc.services[name].replicas))
            for sh in p.shard_rows[v]:
                p.sh_as_aux[sh] = p.add_aux(AUX_SCALE, sh)
    p.day_sh = np.array(varying, dtype=np.int64)
    p.sh_day = np.zeros(p.H, dtype=np.int64)
    p.sh_day[p.day_sh] = 1
    p.day_on = int(bool(varying) or np.ptp(p.wt_day) > 0)
    p.day_aux = p.add_aux(AUX_HOUR, 0) if p.day_on else -1
    # Hours to the next boundary where a need or an external load changes (24: none does).
    signature = [tuple(p.sh_kt[p.day_sh, h]) + tuple(external(sc.services[name])[h] for name in p.order)
                 for h in range(24)]
    p.day_next = np.array([next((d for d in range(1, 24) if signature[(h + d) % 24] != signature[h]), 24)
                           for h in range(24)], dtype=np.float64)


def _breakers(p: _Parts) -> None:
    """Watched dependency edges (timeouts, circuit breakers and their timers), and the load flow an open
    breaker cuts: the edges in caller-first order, each service's external and full offered load by hour."""
    sc, S, sidx = p.sc, p.S, p.sidx
    rows, dep, owner, hold, on, par, serve, aux = [], [], [], [], [], [], [], []
    by_edge = {}
    for v, name in enumerate(p.order):
        svc = sc.services[name]
        row = []
        for d in watched(svc):
            b = len(dep)
            row.append(b)
            dep.append(sidx[d])
            owner.append(v)
            hold.append(hold_per_failure(svc, d))
            br = svc.breakers.get(d)
            on.append(int(br is not None))
            par.append((br.threshold, br.window, br.reset_timeout) if br is not None else (1.0, 0.0, 0.0))
            serve.append(int(br is not None and br.fallback == "serve"))
            aux.append(-1)
            if br is not None:
                by_edge[(name, d)] = b
                aux[b] = p.add_aux(AUX_BREAKER, b)
        rows.append(row)
    p.svc_cb_ptr = _csr(rows)[0]
    p.cb_dep, p.cb_svc, p.cb_on, p.cb_serve, p.cb_aux = (np.array(x, dtype=np.int64)
                                                         for x in (dep, owner, on, serve, aux))
    p.cb_hold = np.array(hold, dtype=np.float64)
    p.cb_par = np.array(par, dtype=np.float64).reshape(-1, 3)
    p.dep_cb = np.array([by_edge.get((name, d), -1) for name in p.order for d in sc.services[name].dependencies],
                        dtype=np.int64)
    edges = flow_edges(sc)
    p.fe_src = np.array([sidx[a] for a, _, _ in edges], dtype=np.int64)
    p.fe_dst = np.array([sidx[b] for _, b, _ in edges], dtype=np.int64)
    p.fe_mult = np.array([c for _, _, c in edges], dtype=np.float64)
    p.fe_cb = np.array([by_edge.get((a, b), -1) for a, b, _ in edges], dtype=np.int64)
    p.svc_ext = np.array([external(sc.services[name]) for name in p.order], dtype=np.float64).reshape(S, 24)
    full = daily_demand(sc)
    p.svc_dfull = np.array([full[name] for name in p.order], dtype=np.float64).reshape(S, 24)
    p.svc_cap = np.array([int(sc.services[name].capacity is not None) for name in p.order], dtype=np.int64)
    any_breaker = bool(by_edge)
    p.svc_dyn = np.array([int(p.svc_cap[v] == 1 and (any_breaker or bool(sc.services[name].timeouts)))
                          for v, name in enumerate(p.order)], dtype=np.int64)
    p.st_hold_sh = np.array([sh for v in range(S) if p.reach[v] and any(hold[b] > 0 for b in rows[v])
                             for sh in p.shard_rows[v]], dtype=np.int64)
    p.st_cb = np.array([b for b in range(len(dep)) if on[b] and not serve[b] and p.reach[owner[b]]
                        and p.order[dep[b]] in sc.services[p.order[owner[b]]].dependencies], dtype=np.int64)


def _deploys(p: _Parts) -> None:
    """One process per service with deploys and per config push (:mod:`hasim.model.deploys`), each
    with a timer of its own."""
    sc, S = p.sc, p.S
    rows, by_svc, aux, codes, params, keys = [], [[] for _ in range(S)], [], [], [], []
    n_push = 0
    for d, change in enumerate(changed(sc)):
        dp = change.spec
        vs = [p.sidx[n] for n in change.services]
        rows.append(vs)
        for v in vs:
            by_svc[v].append(d)
        aux.append(p.add_aux(AUX_DEPLOY, d))
        # Keyed by what it is (the service, or the push's place): other changes do not move its draws.
        if change.cause.startswith("config "):
            keys.append((7 << 60) | (n_push << 36))
            n_push += 1
        else:
            keys.append((6 << 60) | (vs[0] << 36))
        rule = -1 if dp.alert is None else list(sc.alerts).index(dp.alert)
        codes.append((STRATEGIES.index(dp.strategy), p.dists.add(dp.detect), p.dists.add(dp.rollback), int(dp.paged), rule))
        gap = 1.0 / releases_per_hour(dp)
        share = dp.batch if dp.strategy == "rolling" else (dp.canary if dp.strategy == "canary" else 1.0)
        wait = dp.pause if dp.strategy == "rolling" else (dp.bake if dp.strategy == "canary" else 0.0)
        params.append((gap, float(dp.every is not None), dp.bad, dp.errors, share, wait, dp.caught))
    oc = sc.oncall
    p.oc_row = np.array([-1, -1] if oc is None else [p.dists.add(oc.respond),
                                                     -1 if oc.night is None else p.dists.add(oc.night)], dtype=np.int64)
    p.oc_hours = np.array([0.0, 24.0] if oc is None or oc.night is None else oc.business_hours, dtype=np.float64)
    p.dp_svc_ptr, p.dp_svc = _csr(rows)
    p.svc_dp_ptr, p.svc_dp = _csr(by_svc)
    p.dp_aux = np.array(aux, dtype=np.int64)
    p.dp_key = keys
    p.dp_i = np.array(codes, dtype=np.int64).reshape(-1, 5)
    p.dp_f = np.array(params, dtype=np.float64).reshape(-1, 7)
    p.dp_cause = np.array([S + p.Z + d for d in range(len(rows))], dtype=np.int64)
    p.dp_rows = rows


def _repairs_and_windows(p: _Parts) -> None:
    """Paged repairs (:mod:`hasim.model.oncall`) and maintenance windows (:mod:`hasim.model.maintenance`):
    a timer per maintained service, the first ``takes`` instances of each shard."""
    sc, S = p.sc, p.S
    p.svc_rpg = np.array([int(sc.services[n].repair_paged) for n in p.order], dtype=np.int64)
    p.svc_mt_aux = np.full(S, -1, dtype=np.int64)
    p.svc_mt = np.zeros((S, 2), dtype=np.float64)
    p.inst_mt = np.zeros(p.N, dtype=np.int64)
    p.mt_cause = []
    first_mt = S + p.Z + len(p.dp_rows)  # after the changes' causes
    for v, name in enumerate(p.order):
        mt = sc.services[name].maintenance
        if mt is None:
            continue
        p.svc_mt_aux[v] = p.add_aux(AUX_MAINT, v)
        p.mt_cause.append((p.svc_mt_aux[v], first_mt + len(p.mt_cause)))
        p.svc_mt[v] = (mt.every, mt.lasting)
        for sh in p.shard_rows[v]:
            for i in p.sh_inst[sh][:mt.takes]:
                p.inst_mt[i] = 1


def _alerts(p: _Parts) -> None:
    """One timer per alert rule (:mod:`hasim.model.alerts`): its threshold, windows and ring."""
    sc = p.sc
    aux, params, wins, sizes, keys = [], [], [], [], []
    for k, rule in enumerate(sc.alerts.values()):
        aux.append(p.add_aux(AUX_ALERT, k))
        keys.append((5 << 60) | (AUX_ALERT << 40) | (1 << 36) | k)  # apart from the keys that draw nothing
        params.append((threshold(rule, sc.slo), rule.for_, rule.every, float(rule.burn_rate is not None)))
        w1, w2 = windows(rule)
        wins.append((w1, w2))
        sizes.append(max(w1, w2) + 2)  # every evaluation in the longest window, and the one before it
    p.al_aux = np.array(aux, dtype=np.int64)
    p.al_key = keys
    p.al_f = np.array(params, dtype=np.float64).reshape(-1, 4)
    p.al_w = np.array(wins, dtype=np.int64).reshape(-1, 2)
    p.al_ring_ptr = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)
    noise = sc.alert_noise
    p.nz_aux, p.nz_row, p.nz_f = -1, -1, np.zeros(2, dtype=np.float64)
    if noise is not None:
        p.nz_aux = p.add_aux(AUX_NOISE, 0)
        p.nz_row = p.dists.add(noise.lasting)
        p.nz_f = np.array([24.0 / noise.per_day, noise.errors], dtype=np.float64)


def _stage_sets(p: _Parts) -> None:
    """What the stage rule looks at (the SimPy engine's ``_stage``): reachable parts only."""
    S, reach = p.S, p.reach

    def shards_where(pred) -> np.ndarray:
        return np.array([sh for v in range(S) if reach[v] and pred(v) for sh in p.shard_rows[v]], dtype=np.int64)

    p.st_router = np.array([v for v in range(S) if reach[v] and p.svc_route[v] != NO_ROUTE], dtype=np.int64)
    p.st_hc_sh = shards_where(lambda v: p.svc_hc_loss[v] == 1)
    p.st_fo_sh = shards_where(lambda v: p.svc_mode[v] != ACTIVE)
    p.st_cap_sh = shards_where(lambda v: p.svc_mode[v] == ACTIVE and (p.svc_k[v] > 1 or
                                                                       p.sc.services[p.order[v]].capacity is not None))
    p.st_ov_sh = shards_where(lambda v: p.svc_ov_on[v] == 1)
    p.st_as_sh = shards_where(lambda v: p.svc_as_on[v] == 1)
    p.st_dp = np.array([d for d, vs in enumerate(p.dp_rows) if any(reach[v] for v in vs)], dtype=np.int64)
    p.st_mt_sh = np.array([sh for v in range(p.S) if reach[v] and p.svc_mt_aux[v] >= 0 for sh in p.shard_rows[v]],
                          dtype=np.int64)
    p.st_rpg = np.array([i for v in range(p.S) if reach[v] and p.svc_rpg[v] for sh in p.shard_rows[v]
                         for i in p.sh_inst[sh]], dtype=np.int64)
    p.st_cache = np.array([c for c, v in enumerate(p.cache_owner) if reach[v]], dtype=np.int64)
    matter = zones_that_matter(p.sc)
    p.st_zone = np.array([p.zidx[z] for z in p.zones if z in matter], dtype=np.int64)


def _streams(p: _Parts) -> None:
    """Stream keys (a tag in the top bits, then the component's stable coordinates) and the root
    cause each event source starts an outage with."""
    S, N, H, Z = p.S, p.N, p.H, p.Z
    inst_key: list[int] = []
    for v in range(S):
        for k, sh in enumerate(p.shard_rows[v]):
            inst_key.extend((1 << 60) | (v << 36) | (k << 20) | j for j in range(len(p.sh_inst[sh])))
    shard_key = [(3 << 60) | (v << 36) | (k << 20) for v in range(S) for k in range(len(p.shard_rows[v]))]
    aux_key = []
    for kind, obj in zip(p.aux_kind, p.aux_obj):
        if kind == AUX_PROBE_INST:
            aux_key.append(inst_key[obj] | (1 << 58))
        elif kind == AUX_PROBE_TGT:
            router = int(p.tgt_owner[obj])
            aux_key.append((4 << 60) | (router << 36) | (obj - int(p.svc_tgt_ptr[router])))
        elif kind == AUX_DEPLOY:
            aux_key.append(p.dp_key[obj])
        elif kind == AUX_ALERT:
            aux_key.append(p.al_key[obj])
        elif kind == AUX_NOISE:
            aux_key.append((5 << 60) | (AUX_NOISE << 40) | (1 << 36))  # apart from the keys that draw nothing
        elif kind == AUX_MAINT:
            aux_key.append((5 << 60) | (AUX_MAINT << 40) | (1 << 36) | obj)
        else:  # DNS ramps and caches draw nothing; any distinct key
            aux_key.append((5 << 60) | (kind << 40) | obj)
    p.src_key = np.array(inst_key + [(2 << 60) | z for z in range(Z)] + shard_key + aux_key, dtype=np.int64)
    p.src_cause = np.concatenate([
        p.svc_cause[np.asarray(p.sh_svc, dtype=np.int64)[np.asarray(p.inst_shard, dtype=np.int64)]] if N else
        np.zeros(0, dtype=np.int64),
        p.zone_cause,
        np.full(H + len(p.aux_kind), -1, dtype=np.int64),  # timers: the cause is inherited
    ]).astype(np.int64)
    for d, a in enumerate(p.dp_aux):  # but a release's timer starts outages of its own: "change <service>"
        p.src_cause[a] = p.dp_cause[d]
    for a, cause in p.mt_cause:  # and a window's: "maintenance <service>"
        p.src_cause[a] = cause


def _model(p: _Parts) -> CompiledModel:
    """The flat arrays, in the kernel's layout."""
    N, Z, H = p.N, p.Z, p.H
    dists = p.dists
    gl_x, gl_w = _gauss_legendre()
    svc_dep_ptr, svc_dep = _csr(p.dep_rows)
    svc_req_ptr, svc_req = _csr(p.req_rows)
    svc_par_ptr, svc_par = _csr(p.parents)
    svc_anc_ptr, svc_anc = _csr(p.ancestors)
    svc_shard_ptr, _ = _csr(p.shard_rows)  # shards are numbered by service: the offsets suffice
    sh_inst_ptr, _ = _csr(p.sh_inst)
    zone_chain_ptr, zone_chain = _csr(p.chains)
    zone_desc_ptr, zone_desc = _csr(p.desc)
    zone_inst_ptr, zone_inst_flat = _csr(p.zone_inst)
    svc_cache_ptr, svc_cache = _csr(p.cache_rows)
    svc_end_ptr, svc_end = _csr(p.end_rows, dtype=np.float64)
    i64 = lambda xs: np.array(xs, dtype=np.int64)  # noqa: E731
    inst_svc = np.array([p.sh_svc[sh] for sh in p.inst_shard], dtype=np.int64)
    n_sources = N + Z + H + len(p.aux_kind)
    return CompiledModel(
        n_services=p.S, n_shards=H, n_instances=N, n_zones=Z, n_causes=len(p.causes),
        n_sources=n_sources, scan_queue=n_sources <= SCAN_MAX, entry=p.entry,
        dist=np.ascontiguousarray(np.array(dists.rows, dtype=np.float64).reshape(-1, 4)),
        dist_code=np.array([int(r[0]) for r in dists.rows], dtype=np.int64),
        samples=np.array(dists.samples if dists.samples else [0.0], dtype=np.float64),
        svc_mode=p.svc_mode, svc_has_inst=p.svc_has_inst, svc_k=p.svc_k, svc_fail=p.svc_fail, svc_rep=p.svc_rep,
        svc_idle=p.svc_idle, svc_fo=p.svc_fo, svc_rp=p.svc_rp, svc_rp_lag=p.svc_rp_lag, svc_rp_t=p.svc_rp_t,
        svc_route=p.svc_route, svc_reach=p.reach,
        svc_shard_ptr=svc_shard_ptr, svc_dep_ptr=svc_dep_ptr, svc_dep=svc_dep,
        svc_tgt_ptr=p.svc_tgt_ptr, svc_tgt=p.svc_tgt, svc_tgt_w=np.array(p.tgt_w, dtype=np.float64),
        svc_req_ptr=svc_req_ptr, svc_req=svc_req, svc_par_ptr=svc_par_ptr, svc_par=svc_par,
        svc_anc_ptr=svc_anc_ptr, svc_anc=svc_anc, svc_cause=p.svc_cause,
        svc_hc=p.svc_hc, svc_hc_on=p.svc_hc_on, svc_hc_loss=p.svc_hc_loss, svc_dns=p.svc_dns,
        svc_end_ptr=svc_end_ptr, svc_end=svc_end, svc_ramp=p.svc_ramp,
        svc_cache_ptr=svc_cache_ptr, svc_cache=svc_cache, tgt_owner=p.tgt_owner, tgt_probe=p.tgt_probe,
        tgt_copy=p.tgt_copy,
        dep_cache=i64(p.dep_cache), cache_owner=i64(p.cache_owner), cache_dep=i64(p.cache_dep),
        cache_ttl=np.array(p.cache_ttl, dtype=np.float64), cache_aux=i64(p.cache_aux), inst_probe=p.inst_probe,
        aux_kind=i64(p.aux_kind), aux_obj=i64(p.aux_obj), st_router=p.st_router, st_hc_sh=p.st_hc_sh,
        st_fo_sh=p.st_fo_sh, st_cache=p.st_cache, st_zone=p.st_zone, st_cap_sh=p.st_cap_sh, gl_x=gl_x, gl_w=gl_w,
        sh_svc=np.array(p.sh_svc, dtype=np.int64), sh_inst_ptr=sh_inst_ptr,
        inst_shard=np.array(p.inst_shard, dtype=np.int64), inst_zone=np.array(p.inst_zone, dtype=np.int64),
        inst_fail=p.svc_fail[inst_svc], inst_rep=p.svc_rep[inst_svc],
        inst_plain=_plain_codes(p, inst_svc),
        sh_k=p.svc_k[np.array(p.sh_svc, dtype=np.int64)],
        sh_kt=p.sh_kt, wt_day=p.wt_day, wt_cum=p.wt_cum, day_on=p.day_on, day_aux=p.day_aux, day_sh=p.day_sh, sh_day=p.sh_day, sh_kx=p.sh_kx,
        sh_ke=p.sh_ke,
        svc_ov_on=p.svc_ov_on, svc_ov=p.svc_ov, svc_rt=p.svc_rt, sh_ov_aux=p.sh_ov_aux, st_ov_sh=p.st_ov_sh,
        svc_cb_ptr=p.svc_cb_ptr, cb_dep=p.cb_dep, cb_svc=p.cb_svc, cb_hold=p.cb_hold, cb_on=p.cb_on,
        cb_par=p.cb_par, cb_serve=p.cb_serve, cb_aux=p.cb_aux, dep_cb=p.dep_cb, svc_dyn=p.svc_dyn,
        svc_cap=p.svc_cap, fe_src=p.fe_src, fe_dst=p.fe_dst, fe_mult=p.fe_mult, fe_cb=p.fe_cb,
        svc_ext=p.svc_ext, svc_dfull=p.svc_dfull, st_cb=p.st_cb, st_hold_sh=p.st_hold_sh,
        svc_as_on=p.svc_as_on, svc_as=p.svc_as, sh_as_aux=p.sh_as_aux, st_as_sh=p.st_as_sh,
        day_next=p.day_next, sh_capx=np.array([1.0 / min(1.0, float(p.svc_ov[v, 4])) if p.svc_ov_on[v] else 1.0 for v in p.sh_svc],
                         dtype=np.float64),
        zone_fail=p.zone_fail, zone_rep=p.zone_rep, zone_chain_ptr=zone_chain_ptr, zone_chain=zone_chain,
        zone_desc_ptr=zone_desc_ptr, zone_desc=zone_desc, zone_inst_ptr=zone_inst_ptr, zone_inst=zone_inst_flat,
        zone_cause=p.zone_cause, src_cause=p.src_cause, src_key=p.src_key,
        svc_dp_ptr=p.svc_dp_ptr, svc_dp=p.svc_dp, dp_svc_ptr=p.dp_svc_ptr, dp_svc=p.dp_svc, dp_aux=p.dp_aux,
        dp_i=p.dp_i, dp_f=p.dp_f, st_dp=p.st_dp, oc_row=p.oc_row, oc_hours=p.oc_hours,
        n_alerts=len(p.al_aux), al_aux=p.al_aux, al_f=p.al_f, al_w=p.al_w, al_ring_ptr=p.al_ring_ptr,
        nz_aux=p.nz_aux, nz_f=p.nz_f, nz_row=p.nz_row, svc_rpg=p.svc_rpg, st_rpg=p.st_rpg,
        svc_mt_aux=p.svc_mt_aux, svc_mt=p.svc_mt, inst_mt=p.inst_mt, st_mt_sh=p.st_mt_sh,
    )


#: The steps of :func:`compile_scenario`, in order (each reads what the earlier ones laid out).
_STEPS = (_pools, _graph, _zones, _delays, _load, _breakers, _deploys, _repairs_and_windows, _alerts, _stage_sets,
          _streams)


def _plain_codes(p: _Parts, inst_svc: np.ndarray) -> np.ndarray:
    """``inst_plain`` (see the table above)."""
    simple = (p.svc_mode[inst_svc] == ACTIVE) & (p.svc_hc_on[inst_svc] == 0) & (p.svc_dyn[inst_svc] == 0) \
        & (p.svc_as_on[inst_svc] == 0) & (p.svc_rpg[inst_svc] == 0) & (p.svc_mt_aux[inst_svc] < 0)
    plain = (p.svc_ov_on[inst_svc] == 0) & (p.sh_day[np.asarray(p.inst_shard, dtype=np.int64)] == 0)
    return np.where(simple, np.where(plain, 1, 2), 0).astype(np.int64)


def compile_scenario(scenario: Scenario) -> Compiled:
    """Flatten ``scenario`` for the kernel (the model is already valid: nothing can fail here)."""
    parts = _Parts(scenario)
    for step in _STEPS:
        step(parts)
    return Compiled(model=_model(parts), scenario=scenario, services=list(parts.order), zones=parts.zones,
                    causes=parts.causes, cause_kinds=parts.kinds)
