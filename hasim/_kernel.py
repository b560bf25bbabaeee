"""The numba event loop: replicas of a :class:`~hasim.compile.CompiledModel`, arrays in, arrays out.

:func:`simulate_replicas` runs replicas ``first_replica .. first_replica +
n_replicas - 1`` of a compiled scenario in parallel (``prange`` over blocks of
replicas; each block allocates its scratch once and reuses it).  Replica ``r``
draws only from streams derived from the xoshiro256** stream ``(seed,
first_replica + r)`` of :mod:`hasim._rng`, and every tie in the event queue is
broken by ``(time, kind, seq)`` with ``seq`` restarted per replica, so a
replica's result does not depend on the thread count or on how replicas are
split into calls.

Within a replica every component (each instance, zone, shard's promotion draws,
health probe) has its own stream, seeded from the replica's first word and the
component's stable key (``src_key``: service, shard and replica number,
...).  A component's durations therefore depend only on its own laws:
halving one service's MTBF changes that service's history and what follows
from it, and leaves every other component's draws exactly as they were.
That is what makes common random numbers work in sensitivity runs,
comparisons and sweeps (a single stream per replica would hand the same
numbers to different components as soon as one event moved).

The semantics are the README's "Semantics, precisely"; where it is silent the
kernel makes the choices listed in :mod:`hasim.reference` (the SimPy engine it
is tested against), and it processes one instant the same way.

One replica
-----------
Everything starts up at time 0.  Pending events live in a :class:`Queue`
(the ordering contract of ``tests/_heap.py``, the queue's test oracle: a flat array scanned for its
minimum in models with few sources, an indexed 4-ary heap in large ones), one
slot per event source: instances, zones, one timer per shard (failover detection /
promotion / manual recovery, quorum election) and the auxiliary timers of the
delays (health probes, DNS ramps, caches).  An event changes one component;
the kernel then updates the affected shards, marks their services dirty and
re-evaluates dirty services in topological order (:func:`_sweep`),
propagating to parents only when something they read changed.  Before a
service is evaluated, its own mechanisms react to what its dependencies
became at this instant (a promotion that may start, a cache that starts
serving stale data, a router that sees a target fail or changes its DNS
answer), so no service ever sees a transient value of one below it.

Served fractions
----------------
Every service has a status (FULL: s = 1, ZERO: s = 0, PARTIAL) known
structurally, and a value.  Values are constant between events except during
a DNS ramp, where a router serves ``a + w(t) (m0 - a)`` with ``w`` linear in
time; a service that multiplies ramps is a polynomial in time.  Such
*varying* services (PARTIAL ones whose value depends on a ramp) are listed in
topological order with their polynomial degree, and every measure is
integrated exactly over each interval between events: constants in closed
form, varying services by Gauss-Legendre quadrature with enough nodes for
their degree (:data:`hasim.compile.GAUSS_NODES` nodes: exact to degree 31).
Nothing is time-stepped.

Root causes and stages
----------------------
When a service's status leaves FULL it opens an *episode* whose root cause is
the source of the event (an instance failure of service X: "X"; zone Z: "zone
Z"); at a timer (a cache expiring, a router switching) the cause is inherited
from the dependency whose degradation shows.  An outage of the entry takes its
episode's cause.  Lost request-hours ``(1 - s) dt`` are charged to that cause
and to the first stage of ``dns > detection > failover > zone > capacity >
stale-cache > repair`` that applies to a part the entry depends on
(:func:`_stage`): an expired cache is charged only when nothing above it is
still running (a zone outage that outlasts the cache's ttl is the zone's).

Performance notes: every helper is compiled without reference counting and
the hot path (instance events of active pools, the re-evaluation sweep, the
queue, the ziggurat sampler) is inlined into the event loop, because a call
that passes the model and scratch tuples costs about a kilobyte of argument
copying.  Consecutive events form one dependency chain (the next event is the
minimum of times that the last event's draw just changed), so the hot path
keeps loads off it: the law's row is read per instance, the id of the event
is passed rather than read back, the next event is found without
data-dependent branches.  Health probes cost one event per change of rotation
state, not one per probe (see "health probes" below).

Clocks
------
An instance's pending event runs at a *speed*: 1 normally, 0 while a zone of
its chain is down (suspended: the remaining time is stored), ``warm_factor``
or 0 for the remaining life of an idle warm or cold standby (accelerated
life).  Invariant: an instance has a pending event iff its speed is > 0, and
``inst_rem`` holds its remaining nominal time iff the speed is 0.

Shard states (standby / quorum)
-------------------------------
``UP`` (standby: the active instance is available; quorum: a leader exists),
``DETECT`` and ``PROMOTE`` (failover timers), ``WAIT_REQ`` (detection done,
waiting for every ``failover.requires`` service to serve something; checked
during re-evaluation, where those services are current), ``FAILED``
(promotion failed: waiting for the manual timer or for an instance to become
available again), ``NO_STANDBY`` (no available instance: the first to become
available becomes active), ``ELECT`` (quorum election: the promotion timer),
``NO_LEADER`` (quorum without a leader and without a majority; when a
majority is regained the lowest-index available instance is elected at once)
and ``REGAINED`` (the majority is back but ``failover.requires`` do not
serve yet: elected at once when they do).  A quorum election with
``failover.requires`` goes ``DETECT -> WAIT_REQ -> ELECT -> UP`` like a standby
promotion; without, one ``ELECT`` timer of detection + promotion.  Either is
abandoned for ``NO_LEADER`` whenever the majority is lost on the way.
A leader or active instance that becomes unavailable is never reinstated
without a failover or election (no failback).

Outputs
-------
The arrays of :class:`hasim._output.SimOutput` (row ``r`` is replica
``first_replica + r``), ``loss`` by root cause and stage.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import prange

from ._jit import njit, njit_parallel
from ._output import CAPACITY, DETECTION, DNS, FAILOVER, REPAIR, STALE_CACHE, ZONE, SimOutput
from ._output import new_output as _new_output
from ._rng import EXPONENTIAL, exponential, next_double, sample, sample_key, seed_state
from .sim.compile import (ACTIVE, AUX_CACHE, AUX_PROBE_INST, AUX_PROBE_TGT, AUX_RAMP, GAUSS_NODES, NO_ROUTE, QUORUM,
                      ROUTE_FAILOVER, STANDBY)

__all__ = ["KernelOut", "new_output", "simulate_replicas", "BLOCK"]

#: Replicas per parallel block (each block allocates its scratch once).
BLOCK = 16

#: Decorator of every function below that allocates nothing: compiled without numba's
#: reference counting (``_nrt=False``).  Passing the model and scratch named tuples to
#: a function that is not inlined otherwise costs an incref/decref per array per call,
#: which measured at 30-90 ns per call and dominated the event loop.
_fast = njit(_nrt=False, no_cpython_wrapper=True, no_cfunc_wrapper=True)
#: The same, inlined into every caller by numba (small helpers and the hot path: a call that
#: passes the model and scratch tuples costs about a kilobyte of argument copying).
_inline = njit(_nrt=False, no_cpython_wrapper=True, no_cfunc_wrapper=True, inline="always")

# Event kinds, in tie-break priority order.
KIND_ZONE = 0
KIND_INST = 1
KIND_TIMER = 2
KIND_AUX = 3

# Shard states.
UP = 0
DETECT = 1
WAIT_REQ = 2
PROMOTE = 3
FAILED = 4
NO_STANDBY = 5
ELECT = 6
NO_LEADER = 7
REGAINED = 8

# Service statuses.
ST_ZERO = 0
ST_PARTIAL = 1
ST_FULL = 2

# Cache states.
FRESH = 0
SERVING = 1
EXPIRED = 2

# Slots of Work.ctl.
_LO = 0        # lowest dirty service index (n_services when clean)
_NVAR = 1      # varying services listed in Work.var
_VARCHG = 2    # 1 if a service became or stopped being varying in the last sweep
_EVC = 3       # cause of the event being processed (-1: a timer, the cause is inherited)
_MAXDEG = 4    # highest polynomial degree among the varying services

#: The output arrays, shared with the SimPy engine (:mod:`hasim._output`).
KernelOut = SimOutput
new_output = _new_output


class Work(NamedTuple):
    """Scratch state of one replica (allocated once per block, reset per replica)."""

    heap: Queue
    rng: np.ndarray         # uint64[E, 4]: the random stream of every component (event source)
    seedbuf: np.ndarray     # uint64[4]: the replica's stream, from which the components' are seeded
    inst_up: np.ndarray     # uint8[N]
    inst_speed: np.ndarray  # float64[N]
    inst_rem: np.ndarray    # float64[N]
    inst_routed: np.ndarray  # uint8[N]: in the load balancer's rotation
    zone_up: np.ndarray     # uint8[Z]
    zone_down: np.ndarray   # int64[Z]: down zones in the chain of each zone
    sh_h: np.ndarray        # int64[H]: available instances
    sh_ru: np.ndarray       # int64[H]: available and routed (health-checked pools)
    sh_rd: np.ndarray       # int64[H]: unavailable but still routed
    sh_state: np.ndarray    # int64[H]
    sh_active: np.ndarray   # int64[H]: active instance / leader, -1 if none
    sh_own: np.ndarray      # float64[H]
    svc_s: np.ndarray       # float64[S]: served fraction (varying services: at the last event)
    svc_st: np.ndarray      # int64[S]: status
    svc_var: np.ndarray     # uint8[S]: varies between events
    svc_deg: np.ndarray     # int64[S]: polynomial degree in time while varying
    svc_own: np.ndarray     # float64[S]: mean over shards of the shards' own fractions
    svc_ep: np.ndarray      # int64[S]: root cause of the current episode (status not FULL)
    svc_dirty: np.ndarray   # uint8[S]
    svc_nwait: np.ndarray   # int64[S]: shards in WAIT_REQ
    svc_acc: np.ndarray     # float64[S]: integral of s up to svc_t
    svc_t: np.ndarray       # float64[S]
    rt_t0: np.ndarray       # float64[S]: routers: time of the current DNS answer
    rt_mixing: np.ndarray   # uint8[S]: routers: clients still partly on the previous mixture
    rt_endk: np.ndarray     # int64[S]: routers: ramp ends already passed
    tg_seen: np.ndarray     # uint8[T]: the router sees the target up
    tg_ans: np.ndarray      # float64[T]: raw weight in the DNS answer (0: not in it)
    tg_mix: np.ndarray      # float64[T]: normalised mixture when the answer changed
    tg_des: np.ndarray      # float64[T]: scratch: the answer the router wants
    cache_st: np.ndarray    # int64[C]
    pr_phase: np.ndarray    # float64[A]: health probes: first probe time
    pr_run0: np.ndarray     # int64[A]: first probe of the current run of disagreeing probes
    pr_end: np.ndarray      # int64[A]: the probe that ends a run interrupted without a flip (-1: none)
    var: np.ndarray         # int64[S]: the varying services, topological order
    q_acc: np.ndarray       # float64[S]: quadrature accumulator
    buf: np.ndarray         # int64[N]: instances touched by a zone event
    ctl: np.ndarray         # int64[5]: see _LO ...


@njit
def _new_work(m):
    S, H, N, T = m.n_services, m.n_shards, m.n_instances, len(m.svc_tgt)
    A = max(m.n_sources - (m.n_instances + m.n_zones + m.n_shards), 0)
    return Work(
        _queue_new(max(m.n_sources, 1), m.scan_queue),
        np.zeros((max(m.n_sources, 1), 4), dtype=np.uint64),
        np.zeros(4, dtype=np.uint64),
        np.zeros(N, dtype=np.uint8), np.zeros(N, dtype=np.float64), np.zeros(N, dtype=np.float64),
        np.zeros(N, dtype=np.uint8),
        np.zeros(m.n_zones, dtype=np.uint8), np.zeros(m.n_zones, dtype=np.int64),
        np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.int64),
        np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.float64),
        np.zeros(S, dtype=np.float64), np.zeros(S, dtype=np.int64), np.zeros(S, dtype=np.uint8),
        np.zeros(S, dtype=np.int64), np.zeros(S, dtype=np.float64), np.zeros(S, dtype=np.int64),
        np.zeros(S, dtype=np.uint8), np.zeros(S, dtype=np.int64), np.zeros(S, dtype=np.float64),
        np.zeros(S, dtype=np.float64),
        np.zeros(S, dtype=np.float64), np.zeros(S, dtype=np.uint8), np.zeros(S, dtype=np.int64),
        np.zeros(T, dtype=np.uint8), np.zeros(T, dtype=np.float64), np.zeros(T, dtype=np.float64),
        np.zeros(T, dtype=np.float64),
        np.zeros(len(m.cache_owner), dtype=np.int64),
        np.zeros(A, dtype=np.float64), np.zeros(A, dtype=np.int64), np.zeros(A, dtype=np.int64),
        np.zeros(S, dtype=np.int64), np.zeros(S, dtype=np.float64),
        np.zeros(max(N, 1), dtype=np.int64),
        np.zeros(5, dtype=np.int64),
    )


# --- the event queue -------------------------------------------------------------------------
# Pending events with the ordering contract of ``tests/_heap.py`` (one pending event per
# source id, ordered by (time, kind, seq), seq stamped on every schedule), in one of two
# layouts chosen per model (``CompiledModel.scan_queue``):
#
# * a linear scan for the few sources of most models (at most ``compile.SCAN_MAX``): keys
#   live by id (slot = id, inf when not pending), scheduling is a store and the next event a
#   branch-free minimum over the keys.  A heap's sift mispredicts a branch or two per event
#   (the order of random times is random); the scan does not: 3x faster per event than the
#   heap in a minimal loop from 3 to 16 sources, 1.3x in the kernel up to ~17 sources, even
#   at 25-33 (benchmarks/README.md);
# * an indexed 4-ary min-heap for many sources: keys live by heap slot, so the four children
#   of a node share a cache line and are compared without indirection, and the tree is half
#   as deep as a binary one.
#
# ``tie`` packs ``kind << 40 | seq`` (unique), so both layouts pop the same order and a run
# does not depend on the layout.  ``meta`` holds [pending count, next seq, scan layout (1/0)].
# (``_heap.EventHeap`` keeps keys by id, and its functions, compiled with reference counting,
# cost ~90 ns per pop + push here.)

_TIE_SHIFT = 40
_SIZE = 0
_SEQ = 1
_SCAN = 2


class Queue(NamedTuple):
    """Pending events: ``key``, ``tie``, ``ids`` by slot, ``pos`` (slot) by id (-1: none), ``meta``."""

    key: np.ndarray
    tie: np.ndarray
    ids: np.ndarray
    pos: np.ndarray
    meta: np.ndarray


@njit
def _queue_new(capacity, scan):
    q = Queue(np.full(capacity, np.inf), np.zeros(capacity, dtype=np.int64),
              np.full(capacity, -1, dtype=np.int64), np.full(capacity, -1, dtype=np.int64),
              np.zeros(3, dtype=np.int64))
    q.meta[_SCAN] = 1 if scan else 0
    return q


@_fast
def _qclear(q):
    if q.meta[_SCAN]:  # (``ids`` is not used: the slot of id i is i)
        for i in range(len(q.key)):
            q.key[i] = np.inf
            q.pos[i] = -1
    else:
        for k in range(q.meta[_SIZE]):
            q.pos[q.ids[k]] = -1
    q.meta[_SIZE] = 0
    q.meta[_SEQ] = 0


@_inline
def _qlt(q, a, b):
    """Whether slot ``a`` comes before slot ``b``."""
    ka = q.key[a]
    kb = q.key[b]
    if ka == kb:  # rare
        return q.tie[a] < q.tie[b]
    return ka < kb


@_inline
def _qset(q, k, key, tie, i):
    q.key[k] = key
    q.tie[k] = tie
    q.ids[k] = i
    q.pos[i] = k


@_inline
def _qdown(q, k, key, tie, i):
    """Heap layout: put ``(key, tie, i)`` into the hole at slot ``k``, moving it down."""
    n = q.meta[_SIZE]
    while True:
        c = 4 * k + 1
        if c + 3 < n:
            # Branch-free minimum of the four children (data-dependent branches mispredict);
            # exact ties, rare, take the slow path through the tie-breaking comparison.
            k0 = q.key[c]
            k1 = q.key[c + 1]
            k2 = q.key[c + 2]
            k3 = q.key[c + 3]
            a = c + np.int64(k1 < k0)
            ka = min(k0, k1)
            b = c + 2 + np.int64(k3 < k2)
            kb = min(k2, k3)
            best = b if kb < ka else a
            if k0 == k1 or k2 == k3 or ka == kb:
                a = c + 1 if _qlt(q, c + 1, c) else c
                b = c + 3 if _qlt(q, c + 3, c + 2) else c + 2
                best = b if _qlt(q, b, a) else a
        elif c < n:
            best = c
            for d in range(c + 1, n):
                if _qlt(q, d, best):
                    best = d
        else:
            break
        kb = q.key[best]
        if kb > key or (kb == key and q.tie[best] > tie):
            break
        _qset(q, k, kb, q.tie[best], q.ids[best])
        k = best
    _qset(q, k, key, tie, i)


@_inline
def _qup(q, k, key, tie, i):
    """Heap layout: put ``(key, tie, i)`` into the hole at slot ``k``, moving it up; return whether
    it moved."""
    moved = False
    while k > 0:
        p = (k - 1) >> 2
        kp = q.key[p]
        if kp < key or (kp == key and q.tie[p] < tie):
            break
        _qset(q, k, kp, q.tie[p], q.ids[p])
        k = p
        moved = True
    _qset(q, k, key, tie, i)
    return moved


@_inline
def _qtie(q, kind):
    seq = q.meta[_SEQ]
    q.meta[_SEQ] = seq + 1
    return (np.int64(kind) << _TIE_SHIFT) | seq


@_inline
def _qtime(q, i):
    """Pending time of id ``i`` (which must be pending)."""
    return q.key[q.pos[i]]


@_inline
def _qtop(q):
    """``(id, time, kind)`` of the next event, ``(-1, inf, -1)`` if none."""
    if q.meta[_SCAN]:
        # The minimum and its first slot, branch-free; then a count of the keys equal to it
        # (independent iterations, unlike tracking ties in the first loop).
        key = q.key
        best = 0
        kb = key[0]
        for j in range(1, len(key)):
            kj = key[j]
            lt = kj < kb
            best = j if lt else best
            kb = kj if lt else kb
        if kb == np.inf:
            return -1, np.inf, -1
        same = 0
        for j in range(len(key)):
            same += key[j] == kb
        if same > 1:  # exact ties (fixed durations, timers): the earliest kind, then seq
            for j in range(len(key)):
                if key[j] == kb and q.tie[j] < q.tie[best]:
                    best = j
        return best, kb, q.tie[best] >> _TIE_SHIFT
    if q.meta[_SIZE] == 0:
        return -1, np.inf, -1
    return q.ids[0], q.key[0], q.tie[0] >> _TIE_SHIFT


@_inline
def _qreplace_top(q, i, time):
    """Reschedule ``i``, the id :func:`_qtop` returned, at ``time`` (same kind, new seq).  (The
    caller passes ``i``: reading it back from memory would put a store and a load on the event
    loop's critical path.)"""
    if q.meta[_SCAN]:
        q.key[i] = time
        q.tie[i] = _qtie(q, q.tie[i] >> _TIE_SHIFT)
        return
    kind = q.tie[0] >> _TIE_SHIFT
    _qdown(q, 0, time, _qtie(q, kind), i)


@_inline
def _qpop(q, i):
    """Remove ``i``, the id :func:`_qtop` returned."""
    n = q.meta[_SIZE] - 1
    q.meta[_SIZE] = n
    q.pos[i] = -1
    if q.meta[_SCAN]:
        q.key[i] = np.inf
        return
    if n > 0:
        _qdown(q, 0, q.key[n], q.tie[n], q.ids[n])
    q.ids[n] = -1
    q.key[n] = np.inf


@_fast
def _qschedule(q, i, time, kind):
    """Schedule id ``i`` at ``(time, kind)``, replacing its pending event if any."""
    tie = _qtie(q, kind)
    k = q.pos[i]
    if q.meta[_SCAN]:
        if k < 0:
            q.pos[i] = i
            q.meta[_SIZE] += 1
        q.key[i] = time
        q.tie[i] = tie
    elif k < 0:
        k = q.meta[_SIZE]
        q.meta[_SIZE] = k + 1
        _qup(q, k, time, tie, i)
    elif not _qup(q, k, time, tie, i):
        _qdown(q, k, time, tie, i)


@_fast
def _qremove(q, i):
    """Cancel the pending event of id ``i`` (no-op if none)."""
    k = q.pos[i]
    if k < 0:
        return
    n = q.meta[_SIZE] - 1
    q.meta[_SIZE] = n
    q.pos[i] = -1
    if q.meta[_SCAN]:
        q.key[i] = np.inf
        return
    if k != n:
        key, tie, j = q.key[n], q.tie[n], q.ids[n]
        if not _qup(q, k, key, tie, j):
            _qdown(q, k, key, tie, j)
    q.ids[n] = -1
    q.key[n] = np.inf


# --- sampling ------------------------------------------------------------------------------


@_inline
def _draw(m, w, row, c):
    """One draw from distribution ``row`` of ``m.dist`` on component ``c``'s stream (exponential
    inlined: the hot path)."""
    code = m.dist_code[row]
    if code == EXPONENTIAL:
        return exponential(w.rng[c], m.dist[row, 1])
    return sample(w.rng[c], code, m.dist[row, 1], m.dist[row, 2], m.dist[row, 3], m.samples)


# --- small helpers -------------------------------------------------------------------------


@_inline
def _mark_dirty(m, w, v):
    w.svc_dirty[v] = 1
    if v < w.ctl[_LO]:
        w.ctl[_LO] = v


@_inline
def _in_failover(state):
    return (state == DETECT or state == WAIT_REQ or state == PROMOTE or state == FAILED or state == ELECT
            or state == REGAINED)


@_inline
def _set_state(m, w, sh, new):
    old = w.sh_state[sh]
    if old == new:
        return
    v = m.sh_svc[sh]
    if old == WAIT_REQ or old == REGAINED:
        w.svc_nwait[v] -= 1
    if new == WAIT_REQ or new == REGAINED:
        w.svc_nwait[v] += 1
    w.sh_state[sh] = new


@_inline
def _timer_id(m, sh):
    return m.n_instances + m.n_zones + sh


@_inline
def _aux_base(m):
    """Source id of the first auxiliary timer."""
    return m.n_instances + m.n_zones + m.n_shards


@_inline
def _available(m, w, i):
    z = m.inst_zone[i]
    return w.inst_up[i] != 0 and (z < 0 or w.zone_down[z] == 0)


@_fast
def _lowest_available(m, w, sh):
    for i in range(m.sh_inst_ptr[sh], m.sh_inst_ptr[sh + 1]):
        if _available(m, w, i):
            return i
    return -1


@_fast
def _set_speed(m, w, i, new, now):
    """Change the clock speed of instance ``i`` (see "Clocks" in the module docstring)."""
    old = w.inst_speed[i]
    if old == new:
        return
    if old > 0.0:
        w.inst_rem[i] = (_qtime(w.heap, i) - now) * old
    if new > 0.0:
        _qschedule(w.heap, i, now + w.inst_rem[i] / new, KIND_INST)
    else:
        _qremove(w.heap, i)
    w.inst_speed[i] = new


@_inline
def _life_speed(m, w, i):
    """Speed of the life clock of an up, available instance (idle standbys run slower)."""
    sh = m.inst_shard[i]
    idle = m.svc_idle[m.sh_svc[sh]]
    if idle == 1.0 or w.sh_active[sh] == i:
        return 1.0
    return idle


@_fast
def _make_active(m, w, sh, j, now):
    w.sh_active[sh] = j
    if m.svc_idle[m.sh_svc[sh]] != 1.0:
        _set_speed(m, w, j, 1.0, now)


@_inline
def _pool_share(h, k):
    """What an active pool serves with ``h`` instances carrying requests: ``min(1, h / k)``."""
    return 1.0 if h >= k else h / k


@_inline
def _set_own(m, w, sh, own):
    """Store what shard ``sh``'s own instances serve; mark its service dirty if it changed."""
    if own != w.sh_own[sh]:
        w.sh_own[sh] = own
        _mark_dirty(m, w, m.sh_svc[sh])


@_inline
def _update_own(m, w, sh):
    """Recompute what shard ``sh``'s own instances serve (see :func:`_set_own`)."""
    v = m.sh_svc[sh]
    mode = m.svc_mode[v]
    if mode == ACTIVE:
        k = m.svc_k[v]
        if m.svc_hc_on[v]:
            # Only healthy routed instances carry requests; without retry a failed instance
            # still routed takes its share 1 / (routed instances) and fails it.
            h = w.sh_ru[sh]
            if m.svc_hc_loss[v]:
                own = h / max(h + w.sh_rd[sh], k)
            else:
                own = _pool_share(h, k)
        else:
            own = _pool_share(w.sh_h[sh], k)
    elif mode == STANDBY:
        own = 1.0 if w.sh_state[sh] == UP else 0.0
    else:
        own = 1.0 if (w.sh_state[sh] == UP and w.sh_h[sh] >= m.svc_k[v]) else 0.0
    _set_own(m, w, sh, own)


# --- health probes ---------------------------------------------------------------------------
# One probe sequence per endpoint (an instance of a health-checked pool, a target of a
# health-checked router) on the grid phase + n * interval, with a uniformly random phase.
# Probes are not simulated one by one: while the endpoint's health disagrees with its
# rotation state, consecutive probes form a *run*, and the endpoint flips at the run's
# threshold-th probe, whose time is known when the run starts.  So one timer per flip is
# scheduled, and cancelled if the endpoint agrees again first.  A run that ends without a
# flip is continued if the endpoint disagrees again before the next probe (no probe saw it
# agree, so no streak was reset) -- the same outcome as probing every interval, as the SimPy
# engine does.


@_inline
def _probe_interval(m, a):
    """Interval of auxiliary timer ``a`` (counted from the first auxiliary timer), a probe."""
    if m.aux_kind[a] == AUX_PROBE_INST:
        return m.svc_hc[m.sh_svc[m.inst_shard[m.aux_obj[a]]], 0]
    return m.svc_hc[m.tgt_owner[m.aux_obj[a]], 0]


@_inline
def _probe_threshold(m, a, routed):
    """Consecutive probes that take the endpoint out of (routed) or back into rotation."""
    if m.aux_kind[a] == AUX_PROBE_INST:
        v = m.sh_svc[m.inst_shard[m.aux_obj[a]]]
    else:
        v = m.tgt_owner[m.aux_obj[a]]
    return np.int64(m.svc_hc[v, 1] if routed else m.svc_hc[v, 2])


@_inline
def _grid_after(phase, interval, now):
    """Index of the first probe strictly after ``now``."""
    n = np.int64(math.floor((now - phase) / interval)) + 1
    if phase + n * interval <= now:  # (rounding)
        n += 1
    elif n > 0 and phase + (n - 1) * interval > now:
        n -= 1
    return max(n, np.int64(0))


@_fast
def _probe_changed(m, w, p, healthy, routed, now):
    """The endpoint of probe source ``p`` may have changed health or rotation state at ``now``."""
    a = p - _aux_base(m)
    pending = w.heap.pos[p] >= 0
    if (healthy != routed) == pending:
        return  # a run goes on, or none is needed
    interval = _probe_interval(m, a)
    phase = w.pr_phase[a]
    n = _grid_after(phase, interval, now)
    if pending:  # agrees again: the next probe (at n) resets the streak unless it disagrees again first
        _qremove(w.heap, p)
        w.pr_end[a] = n
        return
    if n != w.pr_end[a]:  # a probe saw it agree since the last run (or there was none): a new run
        w.pr_run0[a] = n
    flip = w.pr_run0[a] + _probe_threshold(m, a, routed) - 1
    _qschedule(w.heap, p, phase + flip * interval, KIND_AUX)


@_fast
def _hc_moved(m, w, i, avail, now):
    """Instance ``i`` of a health-checked pool became available (``avail``) or not."""
    sh = m.inst_shard[i]
    routed = w.inst_routed[i] != 0
    if routed:
        d = 1 if avail else -1
        w.sh_ru[sh] += d
        w.sh_rd[sh] -= d
    _probe_changed(m, w, m.inst_probe[i], avail, routed, now)


# --- routers and DNS -------------------------------------------------------------------------


@_inline
def _ramp_weight(m, w, v, t):
    """Share of router ``v``'s clients still on the previous mixture at ``t`` (right-continuous)."""
    tau = t - w.rt_t0[v]
    ttl = m.svc_dns[v, 0]
    stale = m.svc_dns[v, 1]
    wt = 0.0
    if ttl > 0.0:
        wt = (1.0 - stale) * max(0.0, 1.0 - tau / ttl)
    if tau < m.svc_dns[v, 2]:
        wt += stale
    return wt


@_inline
def _mixture_value(m, weights, vals, p0, p1):
    """Mean of the targets' ``vals`` over router slots ``p0 .. p1 - 1`` weighted by ``weights``
    (0 when no target has weight)."""
    num = 0.0
    den = 0.0
    for a in range(p0, p1):
        x = weights[a]
        if x > 0.0:
            num += x * vals[m.svc_tgt[a]]
            den += x
    return num / den if den > 0.0 else 0.0


@_fast
def _router_value(m, w, v, vals, t):
    """What router ``v``'s clients get at ``t``: the answer's weighted mean of the targets,
    moved towards the previous mixture's by the share of clients still on it."""
    p0 = m.svc_tgt_ptr[v]
    p1 = m.svc_tgt_ptr[v + 1]
    avg = _mixture_value(m, w.tg_ans, vals, p0, p1)
    if w.rt_mixing[v]:
        wt = _ramp_weight(m, w, v, t)
        if wt != 0.0:
            avg = avg + wt * (_mixture_value(m, w.tg_mix, vals, p0, p1) - avg)
    return avg


@_fast
def _answer_for(m, w, v):
    """Fill ``tg_des`` with the DNS answer router ``v`` gives for the targets it sees up: failover,
    the first seen up (none: the first, as Route 53 treats all records healthy then); weighted,
    those seen up by weight (none: all of them)."""
    p0 = m.svc_tgt_ptr[v]
    p1 = m.svc_tgt_ptr[v + 1]
    if m.svc_route[v] == ROUTE_FAILOVER:
        first = p0
        for a in range(p0, p1):
            if w.tg_seen[a]:
                first = a
                break
        for a in range(p0, p1):
            w.tg_des[a] = 1.0 if a == first else 0.0
    else:
        seen = False
        for a in range(p0, p1):
            if w.tg_seen[a]:
                seen = True
        for a in range(p0, p1):
            w.tg_des[a] = m.svc_tgt_w[a] if (w.tg_seen[a] or not seen) else 0.0


@_fast
def _router_react(m, w, v, now):
    """Router ``v`` looks at its targets (settled at this instant): without a health check it sees
    their state at once, with one its probes start counting; a new answer starts a DNS ramp from
    the clients' current mixture (a ramp in progress included)."""
    p0 = m.svc_tgt_ptr[v]
    p1 = m.svc_tgt_ptr[v + 1]
    for a in range(p0, p1):
        healthy = w.svc_st[m.svc_tgt[a]] != ST_ZERO
        p = m.tgt_probe[a]
        if p < 0:
            w.tg_seen[a] = 1 if healthy else 0
        else:
            _probe_changed(m, w, p, healthy, w.tg_seen[a] != 0, now)
    _answer_for(m, w, v)
    same = True
    for a in range(p0, p1):
        if w.tg_des[a] != w.tg_ans[a]:
            same = False
            break
    if same:
        return
    e0 = m.svc_end_ptr[v]
    if m.svc_end_ptr[v + 1] > e0:
        total = 0.0
        for a in range(p0, p1):
            total += w.tg_ans[a]
        wt = _ramp_weight(m, w, v, now) if w.rt_mixing[v] else 0.0
        for a in range(p0, p1):
            x = w.tg_ans[a] / total
            w.tg_mix[a] = x if wt == 0.0 else (1.0 - wt) * x + wt * w.tg_mix[a]
        w.rt_mixing[v] = 1
        w.rt_endk[v] = 0
        _qschedule(w.heap, m.svc_ramp[v], now + m.svc_end[e0], KIND_AUX)
    for a in range(p0, p1):
        w.tg_ans[a] = w.tg_des[a]
    w.rt_t0[v] = now


@_fast
def _router_status(m, w, v, now):
    """(status, varying, degree) of router ``v``'s mixture over the targets clients use now."""
    p0 = m.svc_tgt_ptr[v]
    p1 = m.svc_tgt_ptr[v + 1]
    ramp = False
    linear = False
    if w.rt_mixing[v]:
        ramp = _ramp_weight(m, w, v, now) > 0.0
        ttl = m.svc_dns[v, 0]
        linear = ramp and ttl > 0.0 and now - w.rt_t0[v] < ttl
    full = True
    zero = True
    var = linear
    deg = 0
    for a in range(p0, p1):
        if w.tg_ans[a] > 0.0 or (ramp and w.tg_mix[a] > 0.0):
            u = m.svc_tgt[a]
            st = w.svc_st[u]
            full = full and st == ST_FULL
            zero = zero and st == ST_ZERO
            if w.svc_var[u]:
                var = True
                deg = max(deg, w.svc_deg[u])
    status = ST_FULL if full else (ST_ZERO if zero else ST_PARTIAL)
    return status, var, deg + (1 if linear else 0)


# --- caches ----------------------------------------------------------------------------------


@_fast
def _cache_react(m, w, v, now):
    """Service ``v``'s caches: one starts serving stale data when its service drops below 1, for
    ``ttl``; it is fresh again once the service is fully back."""
    for x in range(m.svc_cache_ptr[v], m.svc_cache_ptr[v + 1]):
        c = m.svc_cache[x]
        full = w.svc_st[m.cache_dep[c]] == ST_FULL
        st = w.cache_st[c]
        if st == FRESH and not full:
            w.cache_st[c] = SERVING
            _qschedule(w.heap, m.cache_aux[c], now + m.cache_ttl[c], KIND_AUX)
        elif st != FRESH and full:
            if st == SERVING:
                _qremove(w.heap, m.cache_aux[c])
            w.cache_st[c] = FRESH


# --- standby and quorum logic ----------------------------------------------------------------


@_fast
def _complete_promotion(m, w, sh, now):
    v = m.sh_svc[sh]
    success = m.svc_fo[v, 2]
    ok = True
    if success < 1.0:
        ok = next_double(w.rng[_timer_id(m, sh)]) < success
    if ok:
        j = _lowest_available(m, w, sh)
        if j >= 0:
            _make_active(m, w, sh, j, now)
            _set_state(m, w, sh, UP)
        else:
            _set_state(m, w, sh, NO_STANDBY)
    else:
        _set_state(m, w, sh, FAILED)
        manual = m.svc_fo[v, 3]
        if manual < math.inf:
            _qschedule(w.heap, _timer_id(m, sh), now + manual, KIND_TIMER)
    _update_own(m, w, sh)


@_fast
def _start_promotion(m, w, sh, now):
    """Every ``failover.requires`` service serves: promote a standby, or hold the election."""
    v = m.sh_svc[sh]
    quorum = m.svc_mode[v] == QUORUM
    promotion = m.svc_fo[v, 1]
    if promotion > 0.0:
        _set_state(m, w, sh, ELECT if quorum else PROMOTE)
        _qschedule(w.heap, _timer_id(m, sh), now + promotion, KIND_TIMER)
    elif quorum:
        _elect(m, w, sh)
        _update_own(m, w, sh)
    else:
        _complete_promotion(m, w, sh, now)


@_fast
def _begin_failover(m, w, sh, now):
    """The active instance (leader) is lost and a standby (majority) remains: detection first,
    then the wait for ``failover.requires``, resolved while re-evaluating."""
    detection = m.svc_fo[m.sh_svc[sh], 0]
    if detection > 0.0:
        _set_state(m, w, sh, DETECT)
        _qschedule(w.heap, _timer_id(m, sh), now + detection, KIND_TIMER)
    else:
        _set_state(m, w, sh, WAIT_REQ)
        _mark_dirty(m, w, m.sh_svc[sh])


@_fast
def _elect(m, w, sh):
    w.sh_active[sh] = _lowest_available(m, w, sh)
    _set_state(m, w, sh, UP)


@_fast
def _lost(m, w, i, now):
    """Instance ``i`` just became unavailable (its shard's count is already updated)."""
    sh = m.inst_shard[i]
    v = m.sh_svc[sh]
    mode = m.svc_mode[v]
    if mode == STANDBY:
        if w.sh_active[sh] == i:
            w.sh_active[sh] = -1
            if w.sh_h[sh] >= 1:
                _begin_failover(m, w, sh, now)
            else:
                _set_state(m, w, sh, NO_STANDBY)
    elif mode == QUORUM:
        k = m.svc_k[v]
        if w.sh_active[sh] == i:
            w.sh_active[sh] = -1
            if w.sh_h[sh] >= k:
                if m.svc_req_ptr[v + 1] > m.svc_req_ptr[v]:
                    _begin_failover(m, w, sh, now)  # an election: detection, requires, promotion
                else:
                    # Nothing to wait for between detection and promotion: one timer.
                    delay = m.svc_fo[v, 0] + m.svc_fo[v, 1]
                    if delay > 0.0:
                        _set_state(m, w, sh, ELECT)
                        _qschedule(w.heap, _timer_id(m, sh), now + delay, KIND_TIMER)
                    else:
                        _elect(m, w, sh)
            else:
                _set_state(m, w, sh, NO_LEADER)
        elif w.sh_h[sh] < k and _in_failover(w.sh_state[sh]):
            # The majority is lost mid-election: it is abandoned (no-op if no timer is pending).
            _qremove(w.heap, _timer_id(m, sh))
            _set_state(m, w, sh, NO_LEADER)
    elif m.svc_hc_on[v]:
        _hc_moved(m, w, i, False, now)
    _update_own(m, w, sh)


@_fast
def _gained(m, w, i, now):
    """Instance ``i`` just became available (its shard's count is already updated)."""
    sh = m.inst_shard[i]
    v = m.sh_svc[sh]
    mode = m.svc_mode[v]
    if mode == STANDBY:
        st = w.sh_state[sh]
        if st == NO_STANDBY or st == FAILED:
            if st == FAILED:
                _qremove(w.heap, _timer_id(m, sh))
            _make_active(m, w, sh, i, now)
            _set_state(m, w, sh, UP)
    elif mode == QUORUM:
        if w.sh_state[sh] == NO_LEADER and w.sh_h[sh] >= m.svc_k[v]:
            if m.svc_req_ptr[v + 1] > m.svc_req_ptr[v]:
                # A regained majority elects at once, but only once failover.requires serve:
                # resolved while re-evaluating, where those services are current.
                _set_state(m, w, sh, REGAINED)
                _mark_dirty(m, w, v)
            else:
                _elect(m, w, sh)
    elif m.svc_hc_on[v]:
        _hc_moved(m, w, i, True, now)
    _update_own(m, w, sh)


# --- events ----------------------------------------------------------------------------------


@_inline
def _instance_event(m, w, i, now):
    """The pending event of instance ``i`` (at the top of the queue) fires: failure or repair."""
    sh = m.inst_shard[i]
    if m.inst_plain[i]:
        # The hot path, an active pool without health check: no roles, no idle clocks, no
        # probes.  Failure if up (repair starts at once: an instance with a pending event has
        # its zones up), else repair.  The law's row is read per instance: its mean is on the
        # critical path from one event to the next.  (_update_own, for this case.)
        up = w.inst_up[i]
        row = m.inst_rep[i] if up else m.inst_fail[i]
        w.inst_up[i] = 1 - up
        h = w.sh_h[sh] + 1 - 2 * np.int64(up)
        w.sh_h[sh] = h
        _qreplace_top(w.heap, i, now + _draw(m, w, row, i))
        _set_own(m, w, sh, _pool_share(h, m.sh_k[sh]))
        return
    v = m.sh_svc[sh]
    if m.svc_mode[v] == ACTIVE:  # health-checked: the probes see the change
        up = w.inst_up[i]
        row = m.inst_rep[i] if up else m.inst_fail[i]
        w.inst_up[i] = 1 - up
        w.sh_h[sh] += 1 - 2 * np.int64(up)
        _qreplace_top(w.heap, i, now + _draw(m, w, row, i))
        _hc_moved(m, w, i, up == 0, now)
        _update_own(m, w, sh)
        return
    # Standby and quorum: roles, and idle standbys whose life clock runs slower.
    if w.inst_up[i]:
        w.inst_up[i] = 0
        w.inst_speed[i] = 1.0
        _qreplace_top(w.heap, i, now + _draw(m, w, m.inst_rep[i], i))
        w.sh_h[sh] -= 1
        _lost(m, w, i, now)
    else:
        w.inst_up[i] = 1
        life = _draw(m, w, m.inst_fail[i], i)
        w.sh_h[sh] += 1
        if m.svc_idle[v] == 1.0:
            w.inst_speed[i] = 1.0
            _qreplace_top(w.heap, i, now + life)
            _gained(m, w, i, now)
        else:
            # Frozen until its role is known (_gained may make it active).
            _qpop(w.heap, i)
            w.inst_speed[i] = 0.0
            w.inst_rem[i] = life
            _gained(m, w, i, now)
            _set_speed(m, w, i, _life_speed(m, w, i), now)


@_fast
def _sort_prefix(buf, n):
    """Insertion sort of ``buf[:n]`` in place (n is the few instances of one zone)."""
    for a in range(1, n):
        x = buf[a]
        b = a - 1
        while b >= 0 and buf[b] > x:
            buf[b + 1] = buf[b]
            b -= 1
        buf[b + 1] = x


@_fast
def _zone_event(m, w, z, now):
    buf = w.buf
    n = 0
    if w.zone_up[z]:
        w.zone_up[z] = 0
        _qreplace_top(w.heap, m.n_instances + z, now + _draw(m, w, m.zone_rep[z], m.n_instances + z))
        for a in range(m.zone_desc_ptr[z], m.zone_desc_ptr[z + 1]):
            d = m.zone_desc[a]
            w.zone_down[d] += 1
            if w.zone_down[d] == 1:
                for b in range(m.zone_inst_ptr[d], m.zone_inst_ptr[d + 1]):
                    i = m.zone_inst[b]
                    _set_speed(m, w, i, 0.0, now)
                    if w.inst_up[i]:
                        w.sh_h[m.inst_shard[i]] -= 1
                        buf[n] = i
                        n += 1
        _sort_prefix(buf, n)
        for a in range(n):
            _lost(m, w, buf[a], now)
    else:
        w.zone_up[z] = 1
        _qreplace_top(w.heap, m.n_instances + z, now + _draw(m, w, m.zone_fail[z], m.n_instances + z))
        for a in range(m.zone_desc_ptr[z], m.zone_desc_ptr[z + 1]):
            d = m.zone_desc[a]
            w.zone_down[d] -= 1
            if w.zone_down[d] == 0:
                for b in range(m.zone_inst_ptr[d], m.zone_inst_ptr[d + 1]):
                    i = m.zone_inst[b]
                    if w.inst_up[i]:
                        w.sh_h[m.inst_shard[i]] += 1
                        buf[n] = i
                        n += 1
                    else:
                        _set_speed(m, w, i, 1.0, now)  # the repair resumes
        # Lowest index first: the promotion rule, whatever the order of `zones:`.
        _sort_prefix(buf, n)
        for a in range(n):
            i = buf[a]
            _gained(m, w, i, now)
            _set_speed(m, w, i, _life_speed(m, w, i), now)


@_fast
def _timer_event(m, w, sh, now):
    st = w.sh_state[sh]
    v = m.sh_svc[sh]
    if st == DETECT:
        _set_state(m, w, sh, WAIT_REQ)
        _mark_dirty(m, w, v)
    elif st == PROMOTE:
        _complete_promotion(m, w, sh, now)
    elif st == FAILED:  # manual intervention
        j = _lowest_available(m, w, sh)
        if j >= 0:
            _make_active(m, w, sh, j, now)
            _set_state(m, w, sh, UP)
        else:
            _set_state(m, w, sh, NO_STANDBY)
        _update_own(m, w, sh)
    elif st == ELECT:
        if w.sh_h[sh] >= m.svc_k[v]:
            _elect(m, w, sh)
        else:
            _set_state(m, w, sh, NO_LEADER)
        _update_own(m, w, sh)


@_fast
def _aux_event(m, w, p, now):
    """Auxiliary timer ``p`` (already popped) fires: an endpoint flips in or out of rotation, a
    piece of a DNS ramp ends, or a cache's ttl runs out."""
    a = p - _aux_base(m)
    kind = m.aux_kind[a]
    obj = m.aux_obj[a]
    if kind == AUX_PROBE_INST:  # the run's threshold-th probe: out of / back into rotation
        i = obj
        sh = m.inst_shard[i]
        routed = w.inst_routed[i] == 0
        w.inst_routed[i] = 1 if routed else 0
        d = 1 if routed else -1
        if _available(m, w, i):
            w.sh_ru[sh] += d
        else:
            w.sh_rd[sh] += d
        w.pr_end[a] = -1  # the streak restarts from zero
        _update_own(m, w, sh)
    elif kind == AUX_PROBE_TGT:
        v = m.tgt_owner[obj]
        w.tg_seen[obj] = 1 - w.tg_seen[obj]
        w.pr_end[a] = -1
        _mark_dirty(m, w, v)
    elif kind == AUX_RAMP:
        v = obj
        k = w.rt_endk[v] + 1
        w.rt_endk[v] = k
        e0 = m.svc_end_ptr[v]
        if e0 + k >= m.svc_end_ptr[v + 1]:
            w.rt_mixing[v] = 0  # every client is on the current answer
        else:
            _qschedule(w.heap, p, w.rt_t0[v] + m.svc_end[e0 + k], KIND_AUX)
        _mark_dirty(m, w, v)
    else:  # AUX_CACHE: the stale data is too old, the outage shows
        w.cache_st[obj] = EXPIRED
        _mark_dirty(m, w, m.cache_owner[obj])


# --- re-evaluation -------------------------------------------------------------------------


@_fast
def _inherit(m, w, v):
    """Root cause of a drop of ``v`` at a timer: the episode of the dependency whose degradation shows."""
    if m.svc_route[v] != NO_ROUTE:
        for a in range(m.svc_tgt_ptr[v], m.svc_tgt_ptr[v + 1]):
            u = m.svc_tgt[a]
            if w.tg_ans[a] > 0.0 and w.svc_st[u] != ST_FULL:
                return w.svc_ep[u]
    for a in range(m.svc_dep_ptr[v], m.svc_dep_ptr[v + 1]):
        c = m.dep_cache[a]
        if c >= 0 and w.cache_st[c] == SERVING:
            continue
        d = m.svc_dep[a]
        if w.svc_st[d] != ST_FULL:
            return w.svc_ep[d]
    return m.svc_cause[v]


@_fast
def _value_at(m, w, v, t):
    """Served fraction of ``v`` at ``t`` from its dependencies' current values (``svc_s``)."""
    val = w.svc_own[v]
    if m.svc_route[v] != NO_ROUTE:
        val *= _router_value(m, w, v, w.svc_s, t)
    for a in range(m.svc_dep_ptr[v], m.svc_dep_ptr[v + 1]):
        c = m.dep_cache[a]
        if c >= 0 and w.cache_st[c] == SERVING:
            continue
        val *= w.svc_s[m.svc_dep[a]]
    return val


@_inline
def _sweep(m, w, now):
    """Re-evaluate dirty services in topological order; parents only when something they read
    (value, status, whether and how it varies) changed."""
    S = m.n_services
    v = w.ctl[_LO]
    while v < S:
        if w.svc_dirty[v]:
            # -- the service's own mechanisms react to its dependencies (settled at this instant)
            if w.svc_nwait[v] > 0:
                ok = True
                for a in range(m.svc_req_ptr[v], m.svc_req_ptr[v + 1]):
                    if w.svc_st[m.svc_req[a]] == ST_ZERO:
                        ok = False
                        break
                if ok:
                    for sh in range(m.svc_shard_ptr[v], m.svc_shard_ptr[v + 1]):
                        if w.sh_state[sh] == WAIT_REQ:
                            _start_promotion(m, w, sh, now)
                        elif w.sh_state[sh] == REGAINED:
                            _elect(m, w, sh)
                            _update_own(m, w, sh)
            if m.svc_cache_ptr[v + 1] > m.svc_cache_ptr[v]:
                _cache_react(m, w, v, now)
            route = m.svc_route[v]
            if route != NO_ROUTE:
                _router_react(m, w, v, now)
            w.svc_dirty[v] = 0
            # -- its value: own shards x the router's mixture x every unmasked dependency
            p0 = m.svc_shard_ptr[v]
            p1 = m.svc_shard_ptr[v + 1]
            if p1 - p0 == 1:
                val = w.sh_own[p0]
            elif p1 == p0:
                val = 1.0
            else:
                total = 0.0
                full = True
                for sh in range(p0, p1):
                    total += w.sh_own[sh]
                    if w.sh_own[sh] != 1.0:
                        full = False
                val = 1.0 if full else total / (p1 - p0)
            w.svc_own[v] = val
            full = val == 1.0
            zero = val == 0.0
            var = False
            deg = 0
            if route != NO_ROUTE:
                val *= _router_value(m, w, v, w.svc_s, now)
                rst, var, deg = _router_status(m, w, v, now)
                full = full and rst == ST_FULL
                zero = zero or rst == ST_ZERO
            for a in range(m.svc_dep_ptr[v], m.svc_dep_ptr[v + 1]):
                c = m.dep_cache[a]
                if c >= 0 and w.cache_st[c] == SERVING:
                    continue
                d = m.svc_dep[a]
                val *= w.svc_s[d]
                sd = w.svc_st[d]
                full = full and sd == ST_FULL
                zero = zero or sd == ST_ZERO
                if w.svc_var[d]:
                    var = True
                    deg += w.svc_deg[d]
            if zero:
                st = ST_ZERO
                val = 0.0
            elif full:
                st = ST_FULL
                val = 1.0
            else:
                st = ST_PARTIAL
            if st != ST_PARTIAL:  # exactly 0 or 1 whatever the ramps
                var = False
                deg = 0
            old = w.svc_st[v]
            if val != w.svc_s[v] or st != old or var != (w.svc_var[v] != 0) or deg != w.svc_deg[v]:
                if old == ST_FULL and st != ST_FULL:  # a new episode
                    evc = w.ctl[_EVC]
                    w.svc_ep[v] = evc if evc >= 0 else _inherit(m, w, v)
                if var != (w.svc_var[v] != 0):
                    w.ctl[_VARCHG] = 1
                w.svc_acc[v] += w.svc_s[v] * (now - w.svc_t[v])
                w.svc_t[v] = now
                w.svc_s[v] = val
                w.svc_st[v] = st
                w.svc_var[v] = 1 if var else 0
                w.svc_deg[v] = deg
                for a in range(m.svc_par_ptr[v], m.svc_par_ptr[v + 1]):
                    w.svc_dirty[m.svc_par[a]] = 1
        v += 1
    w.ctl[_LO] = S


@_fast
def _list_varying(m, w):
    """Rebuild the list of varying services (topological order) and their highest degree."""
    n = 0
    deg = 0
    for v in range(m.n_services):
        if w.svc_var[v]:
            w.var[n] = v
            n += 1
            deg = max(deg, w.svc_deg[v])
    w.ctl[_NVAR] = n
    w.ctl[_MAXDEG] = deg
    w.ctl[_VARCHG] = 0


@_fast
def _integrate_varying(m, w, a, b):
    """Integrate every varying service over ``[a, b]`` (Gauss-Legendre, exact for its degree)
    into ``svc_acc``; leave ``svc_s`` at the values at ``b``.  Return the entry's integral."""
    nv = w.ctl[_NVAR]
    n = min(w.ctl[_MAXDEG] // 2 + 1, GAUSS_NODES)
    half = 0.5 * (b - a)
    mid = 0.5 * (a + b)
    for j in range(nv):
        w.q_acc[w.var[j]] = 0.0
    for g in range(n):
        t = mid + half * m.gl_x[n - 1, g]
        wg = m.gl_w[n - 1, g]
        for j in range(nv):  # dependencies first: each sees the others at the same t
            v = w.var[j]
            x = _value_at(m, w, v, t)
            w.svc_s[v] = x
            w.q_acc[v] += wg * x
    for j in range(nv):
        v = w.var[j]
        w.svc_acc[v] += half * w.q_acc[v]
        w.svc_t[v] = b
        w.svc_s[v] = _value_at(m, w, v, b)
    return half * w.q_acc[m.entry]


@_inline  # called on every interval with loss: a call passing the model tuple would cost more than the rule
def _stage(m, w, now):
    """The mechanism responsible for loss from ``now`` on: the first of dns > detection >
    failover > zone > capacity > stale-cache > repair that applies to a part the entry can
    depend on (the SimPy engine's rule).  An expired cache comes after the mechanisms that can
    keep its dependency down (a zone, a failover, a capacity shortfall): it names the loss only
    when the dependency is down for a plain repair that outlasted the cache's ttl."""
    for x in range(len(m.st_router)):  # clients on a stale answer pointing to a target serving 0
        v = m.st_router[x]
        if w.rt_mixing[v] and _ramp_weight(m, w, v, now) > 0.0:
            for a in range(m.svc_tgt_ptr[v], m.svc_tgt_ptr[v + 1]):
                if w.tg_mix[a] > 0.0 and w.tg_ans[a] == 0.0 and w.svc_st[m.svc_tgt[a]] == ST_ZERO:
                    return DNS
    for x in range(len(m.st_router)):  # a router that has not noticed its target serves 0
        v = m.st_router[x]
        for a in range(m.svc_tgt_ptr[v], m.svc_tgt_ptr[v + 1]):
            if w.tg_ans[a] > 0.0 and w.tg_seen[a] and w.svc_st[m.svc_tgt[a]] == ST_ZERO:
                return DETECTION
    for x in range(len(m.st_hc_sh)):  # failed but still routed
        if w.sh_rd[m.st_hc_sh[x]] > 0:
            return DETECTION
    for x in range(len(m.st_fo_sh)):
        if _in_failover(w.sh_state[m.st_fo_sh[x]]):
            return FAILOVER
    for x in range(len(m.st_zone)):
        if not w.zone_up[m.st_zone[x]]:
            return ZONE
    for x in range(len(m.st_cap_sh)):
        sh = m.st_cap_sh[x]
        h = w.sh_h[sh]
        if 0 < h < m.svc_k[m.sh_svc[sh]]:
            return CAPACITY
    for x in range(len(m.st_cache)):
        if w.cache_st[m.st_cache[x]] == EXPIRED:
            return STALE_CACHE
    return REPAIR


# --- one replica -----------------------------------------------------------------------------


@_fast
def _close_window(out, r, k, lost, length, keep):
    """Store window ``k``'s availability (if kept) and return it; ``lost`` is the integral of 1 - s."""
    a = 1.0 - lost / length if length > 0.0 else 1.0
    if k < keep:
        out.win[r, k] = a
    return a


@_fast
def _reset(m, w, seed, stream):
    # One stream per component (event source) of the replica, so a component's draws do not
    # depend on anything else: changing one parameter leaves every other history unchanged.
    seed_state(seed, stream, w.seedbuf)
    for c in range(m.n_sources):
        seed_state(w.seedbuf[0], np.uint64(m.src_key[c]), w.rng[c])
    _qclear(w.heap)
    w.ctl[_LO] = 0
    w.ctl[_NVAR] = 0
    w.ctl[_VARCHG] = 0
    w.ctl[_EVC] = -1
    w.ctl[_MAXDEG] = 0
    for v in range(m.n_services):
        w.svc_s[v] = -1.0  # forces the first evaluation to record every service
        w.svc_st[v] = -1
        w.svc_var[v] = 0
        w.svc_deg[v] = 0
        w.svc_own[v] = 1.0
        w.svc_ep[v] = m.svc_cause[v]
        w.svc_dirty[v] = 1
        w.svc_nwait[v] = 0
        w.svc_acc[v] = 0.0
        w.svc_t[v] = 0.0
        w.rt_t0[v] = 0.0
        w.rt_mixing[v] = 0
        w.rt_endk[v] = 0
    for a in range(len(m.svc_tgt)):
        w.tg_seen[a] = 1
        w.tg_mix[a] = 0.0
    for v in range(m.n_services):
        if m.svc_route[v] != NO_ROUTE:
            _answer_for(m, w, v)
            for a in range(m.svc_tgt_ptr[v], m.svc_tgt_ptr[v + 1]):
                w.tg_ans[a] = w.tg_des[a]
    for c in range(len(m.cache_owner)):
        w.cache_st[c] = FRESH
    for sh in range(m.n_shards):
        v = m.sh_svc[sh]
        w.sh_h[sh] = m.sh_inst_ptr[sh + 1] - m.sh_inst_ptr[sh]
        w.sh_ru[sh] = w.sh_h[sh]
        w.sh_rd[sh] = 0
        w.sh_state[sh] = UP
        w.sh_active[sh] = m.sh_inst_ptr[sh] if m.svc_mode[v] != ACTIVE else -1
        w.sh_own[sh] = -1.0
    for z in range(m.n_zones):
        w.zone_up[z] = 1
        w.zone_down[z] = 0
        _qschedule(w.heap, m.n_instances + z, _draw(m, w, m.zone_fail[z], m.n_instances + z), KIND_ZONE)
    for i in range(m.n_instances):
        w.inst_up[i] = 1
        w.inst_routed[i] = 1
        w.inst_speed[i] = 0.0
        w.inst_rem[i] = _draw(m, w, m.inst_fail[i], i)
        _set_speed(m, w, i, _life_speed(m, w, i), 0.0)
    # Probe phases are drawn last, so a scenario without health checks draws what it always did.
    for a in range(len(m.aux_kind)):
        if m.aux_kind[a] == AUX_PROBE_INST or m.aux_kind[a] == AUX_PROBE_TGT:
            w.pr_phase[a] = next_double(w.rng[_aux_base(m) + a]) * _probe_interval(m, a)
            w.pr_run0[a] = -1
            w.pr_end[a] = -1
    for sh in range(m.n_shards):
        _update_own(m, w, sh)


@_fast
def _record_outage(out, r, keep_o, n_out, longest, start, d, cause, seed, stream):
    """Count an outage of length ``d`` (zero-length ones are dropped) and keep it if it is among the
    ``keep_o`` of its replica with the smallest sample keys; return the new (count, longest)."""
    if d > 0.0:
        slot = n_out
        if n_out >= keep_o:
            # Bottom-k: replace the kept outage with the largest key if this one's is smaller.
            # O(keep_o) hashes, but only per outage beyond the first keep_o, and outages are rare.
            slot = -1
            key = sample_key(seed, stream, n_out)
            for x in range(keep_o):
                kx = sample_key(seed, stream, out.out_index[r, x])
                if kx > key:
                    key = kx
                    slot = x
        if slot >= 0:
            out.out_start[r, slot] = start
            out.out_dur[r, slot] = d
            out.out_cause[r, slot] = cause
            out.out_index[r, slot] = n_out
        n_out += 1
        if d > longest:
            longest = d
    return n_out, longest


@_fast
def _run_replica(m, w, out, r, seed, stream, horizon, window, n_windows, threshold):
    _reset(m, w, seed, stream)
    entry = m.entry
    keep_w = out.win.shape[1]
    keep_o = out.out_start.shape[1]
    loss = out.loss[r]
    h = w.heap

    s = 1.0      # the entry's served fraction (at the last event if it varies)
    est = ST_FULL  # its status: the initial evaluation opens an outage if it starts below 1
    stage = -1   # stage of the current loss, computed when first needed after an event
    t = 0.0
    t_last = 0.0
    lost = 0.0  # integral of 1 - s
    t_full = 0.0
    t_down = 0.0
    n_events = 0
    # outages
    in_outage = False
    o_start = 0.0
    o_cause = m.svc_cause[entry]
    n_out = 0
    longest = 0.0
    # windows
    k_win = 0
    win_start = 0.0
    win_end = horizon if n_windows <= 1 else window
    win_lost = 0.0
    breaches = 0
    worst = 1.0

    evc = -1     # root cause carried by the last event (-1: a timer's, inherited)
    while True:
        # -- re-evaluate what the last event changed; outage bookkeeping (most events of a
        # -- redundant pool change no service: nothing is dirty, the entry's state stands) ----
        if w.ctl[_LO] < m.n_services:
            w.ctl[_EVC] = evc
            _sweep(m, w, t)
            if w.ctl[_VARCHG]:
                _list_varying(m, w)
            st = w.svc_st[entry]
            if st != est:
                if st != ST_FULL and not in_outage:
                    in_outage = True
                    o_start = t
                    o_cause = w.svc_ep[entry]
                elif st == ST_FULL and in_outage:
                    in_outage = False
                    n_out, longest = _record_outage(out, r, keep_o, n_out, longest, o_start, t - o_start, o_cause,
                                                    seed, stream)
                est = st
            s = w.svc_s[entry]
        stage = -1
        # -- the next event: peek (instance and zone events reschedule in place) -------------
        done = False
        src, t, kind = _qtop(h)
        if src < 0 or t >= horizon:
            t = horizon
            done = True
        # -- integrate [t_last, t) with the state as it stands ------------------------------
        if w.ctl[_NVAR] == 0 and t <= win_end:
            # The common case: every served fraction constant, inside one window.
            if est != ST_FULL:
                dt = t - t_last
                q = (1.0 - s) * dt
                lost += q
                win_lost += q
                if est == ST_ZERO:
                    t_down += dt
                stage = _stage(m, w, t_last)
                loss[o_cause, stage] += q
            else:
                t_full += t - t_last
        else:
            a0 = t_last
            while True:
                b0 = min(t, win_end)
                if b0 > a0:
                    ent = _integrate_varying(m, w, a0, b0) if w.ctl[_NVAR] > 0 else 0.0
                    piece = b0 - a0
                    if est == ST_FULL:
                        t_full += piece
                    else:
                        q = piece - ent if w.svc_var[entry] else (1.0 - s) * piece
                        lost += q
                        win_lost += q
                        if est == ST_ZERO:
                            t_down += piece
                        if stage < 0:
                            stage = _stage(m, w, a0)
                        loss[o_cause, stage] += q
                if t <= win_end:
                    break
                a = _close_window(out, r, k_win, win_lost, win_end - win_start, keep_w)
                if a < threshold:
                    breaches += 1
                worst = min(worst, a)
                k_win += 1
                a0 = win_end
                win_start = win_end
                win_end = horizon if k_win >= n_windows - 1 else (k_win + 1) * window
                win_lost = 0.0
        t_last = t
        if done:
            a = _close_window(out, r, k_win, win_lost, horizon - win_start, keep_w)
            if a < threshold:
                breaches += 1
            worst = min(worst, a)
            break
        # -- the event ----------------------------------------------------------------------
        n_events += 1
        if kind == KIND_INST:
            evc = m.src_cause[src]
            _instance_event(m, w, src, t)
        elif kind == KIND_ZONE:
            evc = m.src_cause[src]
            _zone_event(m, w, src - m.n_instances, t)
        elif kind == KIND_TIMER:
            evc = -1
            _qpop(h, src)
            _timer_event(m, w, src - m.n_instances - m.n_zones, t)
        else:
            evc = -1
            _qpop(h, src)
            _aux_event(m, w, src, t)
    if in_outage:  # truncated by the horizon
        n_out, longest = _record_outage(out, r, keep_o, n_out, longest, o_start, horizon - o_start, o_cause,
                                        seed, stream)
    out.ra[r] = 1.0 - lost / horizon
    out.ta[r] = t_full / horizon
    out.down[r] = t_down / horizon
    out.degraded[r] = max(0.0, 1.0 - (t_full + t_down) / horizon)
    out.outages[r] = n_out
    out.longest[r] = longest
    out.events[r] = n_events
    out.breaches[r] = breaches
    out.worst[r] = worst
    for v in range(m.n_services):
        out.svc_ra[r, v] = (w.svc_acc[v] + w.svc_s[v] * (horizon - w.svc_t[v])) / horizon


@njit_parallel
def simulate_replicas(m, seed, first_replica, n_replicas, horizon, window, n_windows, threshold, out):
    """Run replicas ``first_replica .. first_replica + n_replicas - 1`` of ``m``.

    Parameters
    ----------
    m : CompiledModel
        From :func:`hasim.compile.compile_scenario`.
    seed : uint64
        The scenario seed.
    first_replica : int64
        Global index of the first replica (its random stream number).
    n_replicas : int64
        Number of replicas; row ``r`` of ``out`` receives replica ``first_replica + r``.
    horizon, window : float64
        Hours simulated per replica; SLO window length in hours.
    n_windows : int64
        Windows per replica: ``ceil(horizon / window)`` (the last may be partial).
    threshold : float64
        A window whose availability is below this counts as a breach.
    out : KernelOut
        Output arrays with at least ``n_replicas`` rows (see :func:`new_output`).
    """
    n_blocks = (n_replicas + BLOCK - 1) // BLOCK
    for b in prange(n_blocks):
        w = _new_work(m)
        lo = b * BLOCK
        hi = min(lo + BLOCK, n_replicas)
        for r in range(lo, hi):
            stream = np.uint64(first_replica) + np.uint64(r)
            _run_replica(m, w, out, r, seed, stream, horizon, window, n_windows, threshold)
