"""Routers and DNS: the answer a router gives for the targets it sees up, the clients' ramp from
the previous answer's mixture to the new one over the ttl (and the stale share), and what the
router serves meanwhile."""

from __future__ import annotations

from ._codes import KIND_AUX, ROUTE_FAILOVER, ST_FULL, ST_PARTIAL, ST_ZERO
from ._healthcheck import _probe_changed
from ._jit import fast, inline
from ._queue import _qschedule
from ._replication import _rp_switch


@inline
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


@inline
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


@fast
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


@fast
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


@fast
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
    if m.svc_route[v] == ROUTE_FAILOVER:
        _rp_switch(m, w, v, now)  # writes moving to a disaster-recovery copy lose its window
    for a in range(p0, p1):
        w.tg_ans[a] = w.tg_des[a]
    w.rt_t0[v] = now


@fast
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
