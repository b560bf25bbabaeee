"""Timeouts and circuit breakers on dependency edges (:mod:`hasim.model.breaker`).

A caller's watched edges (``svc_cb_ptr``: a timeout, a breaker or both) are looked at when the
caller is swept, after its dependencies (:func:`_cb_react`): the failed share ``f`` of each
dependency moves its breaker's window timer, and the workers held by calls that time out give the
caller's *hold* factor.  A breaker's timer (:func:`_cb_event`) opens it or half-opens it; the load
then flows again from the entry with the open edges cut (:func:`_cb_flow`), giving every pool with
a capacity its *load factor*.  A shard needs ``sh_kt x load factor x hold`` instances
(:func:`hasim.sim.kernel._shards._update_own` reads both)."""

from __future__ import annotations

import math

from ._codes import _NOPEN, CB_CLOSED, CB_HALF, CB_OPEN, KIND_AUX
from ._hours import _hour_of, _wake_tick
from ._jit import fast, inline
from ._queue import _qremove, _qschedule
from ._shards import _mark_dirty, _update_own


@fast
def _moved(m, w, v):
    """The load factor or hold of ``v`` changed: its shards' needs and what they serve."""
    for sh in range(m.svc_shard_ptr[v], m.svc_shard_ptr[v + 1]):
        _update_own(m, w, sh)


@fast
def _cb_react(m, w, v, now):
    """``v`` is swept: its breakers react to their dependencies' failed shares, and its hold follows."""
    hold = 1.0
    for b in range(m.svc_cb_ptr[v], m.svc_cb_ptr[v + 1]):
        f = 1.0 - w.svc_s[m.cb_dep[b]]
        if m.cb_on[b]:
            st = w.cb_st[b]
            above = f > m.cb_par[b, 0]
            if st == CB_OPEN:
                if not w.cb_pend[b] and not above:  # asleep, and its dependency is back: wake on the grid
                    reset = m.cb_par[b, 2]
                    k = max(1.0, math.ceil((now - w.cb_t0[b]) / reset))
                    w.cb_pend[b] = 1
                    _qschedule(w.heap, m.cb_aux[b], w.cb_t0[b] + k * reset, KIND_AUX)
                continue  # no call, no timeout
            if above and not w.cb_pend[b]:
                w.cb_pend[b] = 1
                # Closed: open once the share has lasted the window; half-open: at once.
                _qschedule(w.heap, m.cb_aux[b], now + (m.cb_par[b, 1] if st == CB_CLOSED else 0.0), KIND_AUX)
            elif not above:
                if w.cb_pend[b]:
                    w.cb_pend[b] = 0
                    _qremove(w.heap, m.cb_aux[b])
                if st == CB_HALF:
                    w.cb_st[b] = CB_CLOSED
        hold += m.cb_hold[b] * f
    if hold != w.svc_hold[v]:
        w.svc_hold[v] = hold
        _moved(m, w, v)


@fast
def _cb_event(m, w, b, now):
    """Breaker ``b``'s timer: open after its window (or at once when half-open), half-open after its reset.

    A breaker whose dependency still fails more than its threshold with this edge's load cut would
    half-open and open again at once (with the load back it fails at least as much): it stays open
    and sleeps instead, and :func:`_cb_react` wakes it at the first reset after the dependency is back
    (``cb_t0 + k x reset``, the times the eager cycle would have half-opened at)."""
    w.cb_pend[b] = 0
    if w.cb_st[b] == CB_OPEN:
        if 1.0 - w.svc_s[m.cb_dep[b]] > m.cb_par[b, 0]:
            w.cb_t0[b] = now
            return
        w.cb_st[b] = CB_HALF
        w.ctl[_NOPEN] -= 1
    else:
        w.cb_st[b] = CB_OPEN
        w.cb_t0[b] = now
        w.ctl[_NOPEN] += 1
        w.cb_pend[b] = 1
        _qschedule(w.heap, m.cb_aux[b], now + m.cb_par[b, 2], KIND_AUX)
        if m.day_on:  # the cut load follows the hours while it is open
            _wake_tick(m, w, now)
    _mark_dirty(m, w, m.cb_svc[b])
    _cb_flow(m, w, now)


@fast
def _cb_flow(m, w, now):
    """Sum the load again with the open breakers' edges cut: every pool's load factor (1 when none is open)."""
    hour = _hour_of(now) if m.day_on else 0
    S = m.n_services
    if w.ctl[_NOPEN] > 0:
        for v in range(S):
            w.svc_d[v] = m.svc_ext[v, hour]
        for e in range(len(m.fe_src)):  # callers before what they call
            b = m.fe_cb[e]
            if b < 0 or w.cb_st[b] != CB_OPEN:
                w.svc_d[m.fe_dst[e]] += w.svc_d[m.fe_src[e]] * m.fe_mult[e]
    for v in range(S):
        if m.svc_cap[v]:
            full = m.svc_dfull[v, hour]
            lf = 1.0 if (w.ctl[_NOPEN] == 0 or full <= 0.0) else min(1.0, w.svc_d[v] / full)
            if lf != w.svc_lf[v]:
                w.svc_lf[v] = lf
                _moved(m, w, v)


@fast
def _cb_reset(m, w):
    """Every breaker closed, every load factor and hold 1."""
    w.ctl[_NOPEN] = 0
    for b in range(len(m.cb_dep)):
        w.cb_st[b] = CB_CLOSED
        w.cb_pend[b] = 0
        w.cb_t0[b] = 0.0
    for v in range(m.n_services):
        w.svc_lf[v] = 1.0
        w.svc_hold[v] = 1.0


@inline  # on every dependency slot of every sweep: the common case is one load and a compare
def _cb_masks(m, w, a):
    """Dependency slot ``a`` through an open breaker: 1 its fallback serves, 0 it fails; -1 not open."""
    b = m.dep_cb[a]
    if b < 0 or w.cb_st[b] != CB_OPEN:
        return -1
    return m.cb_serve[b]

