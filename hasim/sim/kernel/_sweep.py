"""Re-evaluation of the service graph: dirty services in topological order (:func:`_sweep`), after
each service's own mechanisms reacted to its dependencies; root causes inherited at timers;
the list of varying services and their exact integration between events (Gauss-Legendre)."""

from __future__ import annotations

from ._breakers import _cb_masks, _cb_react
from ._cache import _cache_react
from ._codes import (_EVC, _LO, _MAXDEG, _NVAR, _VARCHG, _WEIGHT, GAUSS_NODES, NO_ROUTE, REGAINED, SERVING, ST_FULL,
                     ST_PARTIAL, ST_ZERO, WAIT_REQ)
from ._day import _span
from ._deploys import _dp_share
from ._dns import _router_react, _router_status, _router_value
from ._failover import _elect, _start_promotion
from ._jit import fast, inline
from ._shards import _update_own


@fast
def _inherit(m, w, v):
    """Root cause of a drop of ``v`` at a timer: the episode of the dependency whose degradation shows."""
    if m.svc_route[v] != NO_ROUTE:
        for a in range(m.svc_tgt_ptr[v], m.svc_tgt_ptr[v + 1]):
            u = m.svc_tgt[a]
            if w.tg_ans[a] > 0.0 and w.svc_st[u] != ST_FULL:
                return w.svc_ep[u]
    for a in range(m.svc_dep_ptr[v], m.svc_dep_ptr[v + 1]):
        c = m.dep_cache[a]
        if (c >= 0 and w.cache_st[c] == SERVING) or _cb_masks(m, w, a) == 1:
            continue
        d = m.svc_dep[a]
        if w.svc_st[d] != ST_FULL:
            return w.svc_ep[d]
    return m.svc_cause[v]


@fast
def _value_at(m, w, v, t):
    """Served fraction of ``v`` at ``t`` from its dependencies' current values (``svc_s``)."""
    val = w.svc_own[v]
    if m.svc_route[v] != NO_ROUTE:
        val *= _router_value(m, w, v, w.svc_s, t)
    for a in range(m.svc_dep_ptr[v], m.svc_dep_ptr[v + 1]):
        c = m.dep_cache[a]
        if c >= 0 and w.cache_st[c] == SERVING:
            continue
        mask = _cb_masks(m, w, a)
        if mask == 1:
            continue
        if mask == 0:
            return 0.0
        val *= w.svc_s[m.svc_dep[a]]
    return val


@inline
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
            if m.svc_cb_ptr[v + 1] > m.svc_cb_ptr[v]:
                _cb_react(m, w, v, now)
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
            if m.svc_dp_ptr[v + 1] > m.svc_dp_ptr[v]:  # a bad release fails its share of the requests
                val *= _dp_share(m, w, v)
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
                mask = _cb_masks(m, w, a)
                if mask == 1:  # an open breaker's fallback answers
                    continue
                if mask == 0:  # an open breaker fails fast
                    zero = True
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
                w.svc_acc[v] += w.svc_s[v] * _span(m, w.svc_t[v], now)
                w.svc_t[v] = now
                w.svc_s[v] = val
                w.svc_st[v] = st
                w.svc_var[v] = 1 if var else 0
                w.svc_deg[v] = deg
                for a in range(m.svc_par_ptr[v], m.svc_par_ptr[v + 1]):
                    w.svc_dirty[m.svc_par[a]] = 1
        v += 1
    w.ctl[_LO] = S


@fast
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


@fast
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
        w.svc_acc[v] += half * w.q_acc[v] * w.fl[_WEIGHT]
        w.svc_t[v] = b
        w.svc_s[v] = _value_at(m, w, v, b)
    return half * w.q_acc[m.entry]
