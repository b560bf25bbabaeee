"""The numba event loop: replicas of a :class:`~hasim.compile.CompiledModel`, arrays in, arrays out.

:func:`simulate_replicas` runs replicas ``first_replica .. first_replica +
n_replicas - 1`` of a compiled scenario in parallel (``prange`` over blocks of
replicas; each block allocates its scratch once and reuses it).  Replica ``r``
draws only from the xoshiro256** stream ``(seed, first_replica + r)`` of
:mod:`hasim._rng`, and every tie in the event queue is broken by ``(time,
kind, seq)`` with ``seq`` restarted per replica, so a replica's result does not
depend on the thread count or on how replicas are split into calls.

One replica
-----------
Everything starts up at time 0.  Pending events live in an indexed 4-ary heap
(:class:`Queue`, the ordering contract of :mod:`hasim._heap`), one slot per
event source: instances, zones, one timer
per shard (failover detection / promotion / manual recovery, quorum election)
and one timer per service reserved for time-dependent behaviour (health
checks, DNS, caches: issue 4).  An event changes one component; the kernel
then updates the affected shards, marks their services dirty and re-evaluates
dirty services in topological order, propagating to parents only when a
served fraction actually changed.  The entry's served fraction ``s`` is
piecewise constant between events, so every measure is integrated exactly
(no time stepping).  A served fraction that varies between events (DNS TTL
ramps) would integrate its closed form over the same intervals.

Root causes: an outage (maximal interval with s < 1) is attributed to the
source of the event that started it (instance failure of service X: "X", zone
Z: "zone Z").  Lost request-hours ``(1 - s) dt`` go to that root cause, except
while a shard of a service the entry depends on is in a failover or election
phase (DETECT, WAIT_REQ, PROMOTE, FAILED, ELECT): then they go to
"<service> failover" (the first such service in topological order).

Performance notes: every helper is compiled without reference counting and
the hot path (instance events of active pools, the re-evaluation sweep, the
queue) is inlined into the event loop, because a call that passes the model
and scratch tuples costs about a kilobyte of argument copying.

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
available becomes active), ``ELECT`` (quorum election timer) and
``NO_LEADER`` (quorum without a leader and without a majority; when a
majority is regained the lowest-index available instance is elected at once).
A leader or active instance that becomes unavailable is never reinstated
without a failover or election (no failback).

Outputs (row ``r`` of each array of :class:`KernelOut` is replica ``first_replica + r``)
---------------------------------------------------------------------------------------
=============  ====================  ================================================
field          dtype[shape]          content
=============  ====================  ================================================
ra             float64[R]            mean of s over the horizon (request availability)
ta             float64[R]            fraction of time with s == 1
degraded       float64[R]            fraction of time with 0 < s < 1
down           float64[R]            fraction of time with s == 0
outages        int64[R]              maximal intervals with s < 1 (zero-length ones dropped)
longest        float64[R]            longest outage, hours
events         int64[R]              events processed (component state changes and timers)
loss           float64[R, C]         lost request-hours (1 - s) dt by cause
svc_ra         float64[R, S]         mean served fraction of every service
win            float64[R, Wk]        availability of the first Wk windows
breaches       int64[R]              windows with availability < threshold (all windows)
worst          float64[R]            lowest window availability
out_start      float64[R, K]         first K outages: start (hours), NaN if fewer
out_dur        float64[R, K]         duration (hours)
out_cause      int64[R, K]           root cause index, -1 if fewer
=============  ====================  ================================================
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import prange

from ._jit import njit, njit_parallel
from ._rng import EXPONENTIAL, exponential, next_double, sample, seed_state
from ._output import SimOutput
from .compile import ACTIVE, QUORUM, ROUTE_FAILOVER, ROUTE_WEIGHTED, STANDBY

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
KIND_SVC_TIMER = 3

# Shard states.
UP = 0
DETECT = 1
WAIT_REQ = 2
PROMOTE = 3
FAILED = 4
NO_STANDBY = 5
ELECT = 6
NO_LEADER = 7

# Slots of Work.ctl.
_LO = 0        # lowest dirty service index (n_services when clean)
_FO = 1        # shards of reachable services in a failover / election phase


#: The output arrays, shared with the SimPy engine (:mod:`hasim._output`); the kernel
#: still records ``loss`` by cause only (``float64[R, C]``) until it tracks stages.
KernelOut = SimOutput


def new_output(n: int, n_causes: int, n_services: int, keep_windows: int, keep_outages: int) -> KernelOut:
    """Zeroed output arrays for ``n`` replicas."""
    return KernelOut(
        ra=np.zeros(n), ta=np.zeros(n), degraded=np.zeros(n), down=np.zeros(n),
        outages=np.zeros(n, dtype=np.int64), longest=np.zeros(n), events=np.zeros(n, dtype=np.int64),
        loss=np.zeros((n, n_causes)), svc_ra=np.zeros((n, n_services)),
        win=np.full((n, keep_windows), np.nan), breaches=np.zeros(n, dtype=np.int64), worst=np.ones(n),
        out_start=np.full((n, keep_outages), np.nan), out_dur=np.full((n, keep_outages), np.nan),
        out_cause=np.full((n, keep_outages), -1, dtype=np.int64),
    )


class Work(NamedTuple):
    """Scratch state of one replica (allocated once per block, reset per replica)."""

    heap: Queue
    rng: np.ndarray        # uint64[4]
    inst_up: np.ndarray    # uint8[N]
    inst_speed: np.ndarray  # float64[N]
    inst_rem: np.ndarray   # float64[N]
    zone_up: np.ndarray    # uint8[Z]
    zone_down: np.ndarray  # int64[Z]: down zones in the chain of each zone
    sh_h: np.ndarray       # int64[H]: available instances
    sh_state: np.ndarray   # int64[H]
    sh_active: np.ndarray  # int64[H]: active instance / leader, -1 if none
    sh_own: np.ndarray     # float64[H]
    svc_s: np.ndarray      # float64[S]: served fraction
    svc_dirty: np.ndarray  # uint8[S]
    svc_nwait: np.ndarray  # int64[S]: shards in WAIT_REQ
    svc_nfo: np.ndarray    # int64[S]: shards in a failover phase
    svc_acc: np.ndarray    # float64[S]: integral of s up to svc_t
    svc_t: np.ndarray      # float64[S]
    buf: np.ndarray        # int64[N]: instances touched by a zone event
    ctl: np.ndarray        # int64[2]: see _LO, _FO


@njit
def _new_work(m):
    return Work(
        _queue_new(max(m.n_sources, 1)),
        np.zeros(4, dtype=np.uint64),
        np.zeros(m.n_instances, dtype=np.uint8),
        np.zeros(m.n_instances, dtype=np.float64),
        np.zeros(m.n_instances, dtype=np.float64),
        np.zeros(m.n_zones, dtype=np.uint8),
        np.zeros(m.n_zones, dtype=np.int64),
        np.zeros(m.n_shards, dtype=np.int64),
        np.zeros(m.n_shards, dtype=np.int64),
        np.zeros(m.n_shards, dtype=np.int64),
        np.zeros(m.n_shards, dtype=np.float64),
        np.zeros(m.n_services, dtype=np.float64),
        np.zeros(m.n_services, dtype=np.uint8),
        np.zeros(m.n_services, dtype=np.int64),
        np.zeros(m.n_services, dtype=np.int64),
        np.zeros(m.n_services, dtype=np.float64),
        np.zeros(m.n_services, dtype=np.float64),
        np.zeros(max(m.n_instances, 1), dtype=np.int64),
        np.zeros(2, dtype=np.int64),
    )


# --- the event queue -------------------------------------------------------------------------
# An indexed 4-ary min-heap with the ordering contract of :mod:`hasim._heap` (one pending
# event per source id, ordered by (time, kind, seq), seq stamped on every schedule), laid
# out for the event loop: keys live by heap slot, so the four children of a node share a
# cache line and are compared without indirection, and the tree is half as deep as a
# binary one (the cost per event grows ~2x from 10 to 10 000 instances instead of ~3x).
# ``tie`` packs ``kind << 40 | seq``.  (``_heap.EventHeap`` keeps keys by id, and its
# functions, compiled with reference counting, cost ~90 ns per pop + push here.)

_TIE_SHIFT = 40


class Queue(NamedTuple):
    """Pending events: ``key``, ``tie``, ``ids`` by heap slot, ``pos`` by id (-1: none), ``meta`` [size, seq]."""

    key: np.ndarray
    tie: np.ndarray
    ids: np.ndarray
    pos: np.ndarray
    meta: np.ndarray


@njit
def _queue_new(capacity):
    return Queue(np.full(capacity, np.inf), np.zeros(capacity, dtype=np.int64),
                 np.full(capacity, -1, dtype=np.int64), np.full(capacity, -1, dtype=np.int64),
                 np.zeros(2, dtype=np.int64))


@_fast
def _qclear(q):
    for k in range(q.meta[0]):
        q.pos[q.ids[k]] = -1
    q.meta[0] = 0
    q.meta[1] = 0


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
    """Put ``(key, tie, i)`` into the hole at slot ``k``, moving it down."""
    n = q.meta[0]
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
    """Put ``(key, tie, i)`` into the hole at slot ``k``, moving it up; return whether it moved."""
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
    seq = q.meta[1]
    q.meta[1] = seq + 1
    return (np.int64(kind) << _TIE_SHIFT) | seq


@_inline
def _qtime(q, i):
    """Pending time of id ``i`` (which must be pending)."""
    return q.key[q.pos[i]]


@_inline
def _qreplace_top(q, time):
    """Reschedule the id at the top of the queue at ``time`` (same kind, new seq)."""
    i = q.ids[0]
    kind = q.tie[0] >> _TIE_SHIFT
    _qdown(q, 0, time, _qtie(q, kind), i)


@_inline
def _qpop(q):
    """Remove the top event."""
    i = q.ids[0]
    n = q.meta[0] - 1
    q.meta[0] = n
    q.pos[i] = -1
    if n > 0:
        _qdown(q, 0, q.key[n], q.tie[n], q.ids[n])
    q.ids[n] = -1
    q.key[n] = np.inf


@_fast
def _qschedule(q, i, time, kind):
    """Schedule id ``i`` at ``(time, kind)``, replacing its pending event if any."""
    tie = _qtie(q, kind)
    k = q.pos[i]
    if k < 0:
        k = q.meta[0]
        q.meta[0] = k + 1
        _qup(q, k, time, tie, i)
    elif not _qup(q, k, time, tie, i):
        _qdown(q, k, time, tie, i)


@_fast
def _qremove(q, i):
    """Cancel the pending event of id ``i`` (no-op if none)."""
    k = q.pos[i]
    if k < 0:
        return
    n = q.meta[0] - 1
    q.meta[0] = n
    q.pos[i] = -1
    if k != n:
        key, tie, j = q.key[n], q.tie[n], q.ids[n]
        if not _qup(q, k, key, tie, j):
            _qdown(q, k, key, tie, j)
    q.ids[n] = -1
    q.key[n] = np.inf


# --- sampling ------------------------------------------------------------------------------


@_inline
def _draw(m, w, row):
    """One draw from distribution ``row`` of ``m.dist`` (exponential inlined: the hot path)."""
    code = m.dist_code[row]
    if code == EXPONENTIAL:
        return exponential(w.rng, m.dist[row, 1])
    return sample(w.rng, code, m.dist[row, 1], m.dist[row, 2], m.dist[row, 3], m.samples)


# --- small helpers -------------------------------------------------------------------------


@_inline
def _mark_dirty(m, w, v):
    w.svc_dirty[v] = 1
    if v < w.ctl[_LO]:
        w.ctl[_LO] = v


@_inline
def _in_failover(state):
    return state == DETECT or state == WAIT_REQ or state == PROMOTE or state == FAILED or state == ELECT


@_inline
def _set_state(m, w, sh, new):
    old = w.sh_state[sh]
    if old == new:
        return
    v = m.sh_svc[sh]
    if old == WAIT_REQ:
        w.svc_nwait[v] -= 1
    if new == WAIT_REQ:
        w.svc_nwait[v] += 1
    was, now_fo = _in_failover(old), _in_failover(new)
    if was != now_fo:
        d = 1 if now_fo else -1
        w.svc_nfo[v] += d
        if m.svc_reach[v]:
            w.ctl[_FO] += d
    w.sh_state[sh] = new


@_inline
def _timer_id(m, sh):
    return m.n_instances + m.n_zones + sh


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
def _update_own(m, w, sh):
    v = m.sh_svc[sh]
    mode = m.svc_mode[v]
    if mode == ACTIVE:
        h = w.sh_h[sh]
        k = m.svc_k[v]
        own = 1.0 if h >= k else h / k
    elif mode == STANDBY:
        own = 1.0 if w.sh_state[sh] == UP else 0.0
    else:
        own = 1.0 if (w.sh_state[sh] == UP and w.sh_h[sh] >= m.svc_k[v]) else 0.0
    if own != w.sh_own[sh]:
        w.sh_own[sh] = own
        _mark_dirty(m, w, v)


# --- standby and quorum logic ----------------------------------------------------------------


@_fast
def _complete_promotion(m, w, sh, now):
    v = m.sh_svc[sh]
    success = m.svc_fo[v, 2]
    ok = True
    if success < 1.0:
        ok = next_double(w.rng) < success
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
    promotion = m.svc_fo[m.sh_svc[sh], 1]
    if promotion > 0.0:
        _set_state(m, w, sh, PROMOTE)
        _qschedule(w.heap, _timer_id(m, sh), now + promotion, KIND_TIMER)
    else:
        _complete_promotion(m, w, sh, now)


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
                detection = m.svc_fo[v, 0]
                if detection > 0.0:
                    _set_state(m, w, sh, DETECT)
                    _qschedule(w.heap, _timer_id(m, sh), now + detection, KIND_TIMER)
                else:
                    _set_state(m, w, sh, WAIT_REQ)  # resolved while re-evaluating
                    _mark_dirty(m, w, v)
            else:
                _set_state(m, w, sh, NO_STANDBY)
    elif mode == QUORUM:
        k = m.svc_k[v]
        if w.sh_active[sh] == i:
            w.sh_active[sh] = -1
            if w.sh_h[sh] >= k:
                delay = m.svc_fo[v, 0] + m.svc_fo[v, 1]
                if delay > 0.0:
                    _set_state(m, w, sh, ELECT)
                    _qschedule(w.heap, _timer_id(m, sh), now + delay, KIND_TIMER)
                else:
                    _elect(m, w, sh)
            else:
                _set_state(m, w, sh, NO_LEADER)
        elif w.sh_state[sh] == ELECT and w.sh_h[sh] < k:
            _qremove(w.heap, _timer_id(m, sh))
            _set_state(m, w, sh, NO_LEADER)
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
            _elect(m, w, sh)
    _update_own(m, w, sh)


# --- events ----------------------------------------------------------------------------------


@_inline
def _instance_event(m, w, i, now):
    """The pending event of instance ``i`` (at the top of the queue) fires: failure or repair."""
    sh = m.inst_shard[i]
    v = m.sh_svc[sh]
    if m.svc_mode[v] == ACTIVE:
        # The hot path: no roles, no idle clocks.  Failure if up (repair starts at once:
        # an instance with a pending event has its zones up), else repair.
        up = w.inst_up[i]
        row = m.svc_rep[v] if up else m.svc_fail[v]
        w.inst_up[i] = 1 - up
        w.sh_h[sh] += 1 - 2 * np.int64(up)
        _qreplace_top(w.heap, now + _draw(m, w, row))
        _update_own(m, w, sh)
        return
    # Standby and quorum: roles, and idle standbys whose life clock runs slower.
    if w.inst_up[i]:
        w.inst_up[i] = 0
        w.inst_speed[i] = 1.0
        _qreplace_top(w.heap, now + _draw(m, w, m.svc_rep[v]))
        w.sh_h[sh] -= 1
        _lost(m, w, i, now)
    else:
        w.inst_up[i] = 1
        life = _draw(m, w, m.svc_fail[v])
        w.sh_h[sh] += 1
        if m.svc_idle[v] == 1.0:
            w.inst_speed[i] = 1.0
            _qreplace_top(w.heap, now + life)
            _gained(m, w, i, now)
        else:
            # Frozen until its role is known (_gained may make it active).
            _qpop(w.heap)
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
        _qreplace_top(w.heap, now + _draw(m, w, m.zone_rep[z]))
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
        _qreplace_top(w.heap, now + _draw(m, w, m.zone_fail[z]))
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


# --- re-evaluation -------------------------------------------------------------------------


@_inline
def _sweep(m, w, now):
    """Re-evaluate dirty services in topological order; parents only when s changed."""
    S = m.n_services
    v = w.ctl[_LO]
    while v < S:
        if w.svc_dirty[v]:
            if w.svc_nwait[v] > 0:
                ok = True
                for a in range(m.svc_req_ptr[v], m.svc_req_ptr[v + 1]):
                    if w.svc_s[m.svc_req[a]] <= 0.0:
                        ok = False
                        break
                if ok:
                    for sh in range(m.svc_shard_ptr[v], m.svc_shard_ptr[v + 1]):
                        if w.sh_state[sh] == WAIT_REQ:
                            _start_promotion(m, w, sh, now)
            w.svc_dirty[v] = 0
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
            route = m.svc_route[v]
            if route == ROUTE_FAILOVER:
                r = 0.0
                for a in range(m.svc_tgt_ptr[v], m.svc_tgt_ptr[v + 1]):
                    x = w.svc_s[m.svc_tgt[a]]
                    if x > 0.0:
                        r = x
                        break
                val *= r
            elif route == ROUTE_WEIGHTED:
                num = 0.0
                den = 0.0
                for a in range(m.svc_tgt_ptr[v], m.svc_tgt_ptr[v + 1]):
                    x = w.svc_s[m.svc_tgt[a]]
                    if x > 0.0:
                        num += m.svc_tgt_w[a] * x
                        den += m.svc_tgt_w[a]
                val *= num / den if den > 0.0 else 0.0
            for a in range(m.svc_dep_ptr[v], m.svc_dep_ptr[v + 1]):
                val *= w.svc_s[m.svc_dep[a]]
            if val != w.svc_s[v]:
                w.svc_acc[v] += w.svc_s[v] * (now - w.svc_t[v])
                w.svc_t[v] = now
                w.svc_s[v] = val
                for a in range(m.svc_par_ptr[v], m.svc_par_ptr[v + 1]):
                    w.svc_dirty[m.svc_par[a]] = 1
        v += 1
    w.ctl[_LO] = S


@_fast
def _charge_cause(m, w, outage_cause):
    """Cause charged for loss right now: a failover phase of a reachable service, else the outage's."""
    if w.ctl[_FO] > 0:
        for v in range(m.n_services):
            if w.svc_nfo[v] > 0 and m.svc_reach[v]:
                return m.svc_fo_cause[v]
    return outage_cause


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
    seed_state(seed, stream, w.rng)
    _qclear(w.heap)
    w.ctl[_LO] = 0
    w.ctl[_FO] = 0
    for v in range(m.n_services):
        w.svc_s[v] = -1.0  # forces the first evaluation to record every service
        w.svc_dirty[v] = 1
        w.svc_nwait[v] = 0
        w.svc_nfo[v] = 0
        w.svc_acc[v] = 0.0
        w.svc_t[v] = 0.0
    for sh in range(m.n_shards):
        v = m.sh_svc[sh]
        w.sh_h[sh] = m.sh_inst_ptr[sh + 1] - m.sh_inst_ptr[sh]
        w.sh_state[sh] = UP
        w.sh_active[sh] = m.sh_inst_ptr[sh] if m.svc_mode[v] != ACTIVE else -1
        w.sh_own[sh] = -1.0
    for z in range(m.n_zones):
        w.zone_up[z] = 1
        w.zone_down[z] = 0
        _qschedule(w.heap, m.n_instances + z, _draw(m, w, m.zone_fail[z]), KIND_ZONE)
    for i in range(m.n_instances):
        sh = m.inst_shard[i]
        w.inst_up[i] = 1
        w.inst_speed[i] = 0.0
        w.inst_rem[i] = _draw(m, w, m.svc_fail[m.sh_svc[sh]])
        _set_speed(m, w, i, _life_speed(m, w, i), 0.0)
    for sh in range(m.n_shards):
        _update_own(m, w, sh)


@_fast
def _record_outage(out, r, keep_o, n_out, longest, start, d, cause):
    """Count an outage of length ``d`` (zero-length ones are dropped), keep the first ``keep_o``;
    return the new (count, longest)."""
    if d > 0.0:
        if n_out < keep_o:
            out.out_start[r, n_out] = start
            out.out_dur[r, n_out] = d
            out.out_cause[r, n_out] = cause
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

    s = 1.0  # the initial evaluation below opens an outage if the entry starts below 1
    t = 0.0
    t_last = 0.0
    src = -1  # source of the event just processed (-1: the initial state)
    kind = -1
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

    while True:
        # -- re-evaluate what the last event changed; outage bookkeeping ----------------------
        _sweep(m, w, t)
        s_new = w.svc_s[entry]
        if s_new != s:
            if s_new < 1.0 and not in_outage:
                in_outage = True
                o_start = t
                if src >= 0:  # the root cause: the component whose event started the outage
                    o_cause = m.src_cause[src]
            elif s_new == 1.0 and in_outage:
                in_outage = False
                n_out, longest = _record_outage(out, r, keep_o, n_out, longest, o_start, t - o_start, o_cause)
            s = s_new
        # -- the next event: peek (instance and zone events reschedule in place) -------------
        done = False
        src = h.ids[0] if h.meta[0] > 0 else -1
        t = h.key[0] if src >= 0 else horizon
        kind = h.tie[0] >> _TIE_SHIFT if src >= 0 else -1
        if src < 0 or t >= horizon:
            t = horizon
            done = True
        # -- integrate [t_last, t) at the constant s ---------------------------------------
        dt = t - t_last
        if s == 1.0:
            t_full += dt
        else:
            q = (1.0 - s) * dt
            lost += q
            if s == 0.0:
                t_down += dt
            loss[_charge_cause(m, w, o_cause)] += q
        if t > win_end:  # crosses window boundaries
            t0 = t_last
            while t > win_end:
                win_lost += (1.0 - s) * (win_end - t0)
                a = _close_window(out, r, k_win, win_lost, win_end - win_start, keep_w)
                if a < threshold:
                    breaches += 1
                worst = min(worst, a)
                k_win += 1
                t0 = win_end
                win_start = win_end
                win_end = horizon if k_win >= n_windows - 1 else (k_win + 1) * window
                win_lost = 0.0
            win_lost += (1.0 - s) * (t - t0)
        elif s != 1.0:
            win_lost += (1.0 - s) * dt
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
            _instance_event(m, w, src, t)
        elif kind == KIND_ZONE:
            _zone_event(m, w, src - m.n_instances, t)
        elif kind == KIND_TIMER:
            _qpop(h)
            _timer_event(m, w, src - m.n_instances - m.n_zones, t)
        else:  # service timers: reserved (issue 4)
            _qpop(h)
    if in_outage:  # truncated by the horizon
        n_out, longest = _record_outage(out, r, keep_o, n_out, longest, o_start, horizon - o_start, o_cause)
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
