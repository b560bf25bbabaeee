"""What a replica records: the stage charged with a loss (:func:`_stage`), SLO windows, the
outage sample (bottom-k by :func:`hasim.sim.kernel._rng.sample_key`, the SimPy engine's rule), and its row of the output."""

from __future__ import annotations

from ._codes import CB_OPEN, DP_BACK, DP_OUT, DP_WAIT, EXPIRED, FAILED, ST_FULL, ST_ZERO
from ._dns import _ramp_weight
from ._jit import fast, inline
from ._day import _span
from ._deploys import _dp_stage
from ._output import (ALERTING, BREAKER, MAINTENANCE, CAPACITY, SCALING, DETECTION, DNS, FAILOVER, OVERLOAD, REPAIR, RESPONSE, ROLLBACK,
                      STALE_CACHE, ZONE)
from ._rng import sample_key
from ._shards import _in_failover


@inline  # called on every interval with loss: a call passing the model tuple would cost more than the rule
def _stage(m, w, now):
    """The mechanism responsible for loss from ``now`` on: the first of dns > detection > alerting > response >
    failover > rollback > scaling > zone > maintenance > overload > capacity > breaker > stale-cache > (response of a paged repair) > repair that applies to a
    part the entry can depend on (the SimPy engine's rule).  Scaling is a pool short of instances
    while its autoscaler's scale-out runs (what ends the loss, even of a zone); capacity is a pool short of instances for its
    load; breaker, a pool short only of the workers its timed-out calls hold, or an open breaker
    failing fast while its dependency serves in full (after capacity: the dependency may serve
    only because the breaker took its load off it).  An expired cache comes after the mechanisms that can
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
    if _dp_stage(m, w, DP_OUT, 0):  # a bad release out, not noticed yet
        return DETECTION
    if _dp_stage(m, w, DP_OUT, 1):  # one an alert rule watches, not paged for yet
        return ALERTING
    for x in range(len(m.st_fo_sh)):  # a failed promotion waiting for the on-call engineer
        sh = m.st_fo_sh[x]
        if w.sh_state[sh] == FAILED and w.sh_resp[sh]:
            return RESPONSE
    if _dp_stage(m, w, DP_WAIT, -1):  # a paged rollback waiting for the engineer
        return RESPONSE
    for x in range(len(m.st_fo_sh)):
        if _in_failover(w.sh_state[m.st_fo_sh[x]]):
            return FAILOVER
    if _dp_stage(m, w, DP_BACK, -1):
        return ROLLBACK
    for x in range(len(m.st_as_sh)):  # short of instances while the autoscaler brings more
        sh = m.st_as_sh[x]
        h = w.sh_h[sh] + w.sh_ext[sh]
        if w.sh_scd[sh] > 0 and 0 < h < w.sh_kc[sh]:
            return SCALING
    for x in range(len(m.st_zone)):
        if not w.zone_up[m.st_zone[x]]:
            return ZONE
    for x in range(len(m.st_mt_sh)):  # a pool short of instances while a window holds some of it out
        sh = m.st_mt_sh[x]
        v = m.sh_svc[sh]
        if w.mt_on[v]:
            h = (w.sh_ru[sh] if m.svc_hc_on[v] else w.sh_h[sh]) + w.sh_ext[sh]
            if h < w.sh_k[sh] or (m.svc_hc_loss[v] and w.sh_rd[sh] > 0):
                return MAINTENANCE
    for x in range(len(m.st_ov_sh)):
        if w.sh_col[m.st_ov_sh[x]]:
            return OVERLOAD
    for x in range(len(m.st_cap_sh)):
        sh = m.st_cap_sh[x]
        h = w.sh_h[sh] + w.sh_ext[sh]
        if 0 < h < w.sh_kc[sh] * m.sh_capx[sh]:  # an admission limiter below 100 % sheds a little earlier
            return CAPACITY
    for x in range(len(m.st_hold_sh)):  # enough instances for the load, not for the workers held waiting
        sh = m.st_hold_sh[x]
        h = w.sh_h[sh] + w.sh_ext[sh]
        if 0 < h < w.sh_k[sh]:
            return BREAKER
    for x in range(len(m.st_cb)):  # an open breaker failing fast whose dependency is back: not noticed yet
        b = m.st_cb[x]
        if w.cb_st[b] == CB_OPEN and w.svc_st[m.cb_dep[b]] == ST_FULL:
            return BREAKER
    for x in range(len(m.st_cache)):
        if w.cache_st[m.st_cache[x]] == EXPIRED:
            return STALE_CACHE
    for x in range(len(m.st_rpg)):  # an instance down for a repair that waits for the engineer
        i = m.st_rpg[x]
        if w.inst_ans[i] > 0.0:
            return RESPONSE
    return REPAIR


@fast
def _close_window(out, r, k, lost, length, keep):
    """Store window ``k``'s availability (if kept) and return it; ``lost`` is the integral of 1 - s."""
    a = 1.0 - lost / length if length > 0.0 else 1.0
    if k < keep:
        out.win[r, k] = a
    return a


@fast
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


@fast
def _store_replica(m, w, out, r, horizon, end, lost, t_full, t_down, n_out, longest, n_events, breaches, worst):
    """Row ``r`` of the output: the replica's totals over the ``horizon`` hours that finish at ``end``,
    and every service's mean served fraction (request measures over the requests of the horizon)."""
    norm = horizon if not m.day_on else _span(m, end - horizon, end)
    out.ra[r] = 1.0 - lost / norm
    out.ta[r] = t_full / horizon
    out.down[r] = t_down / horizon
    out.degraded[r] = max(0.0, 1.0 - (t_full + t_down) / horizon)
    out.outages[r] = n_out
    out.longest[r] = longest
    out.events[r] = n_events
    out.breaches[r] = breaches
    out.worst[r] = worst
    for v in range(m.n_services):
        out.svc_ra[r, v] = (w.svc_acc[v] + w.svc_s[v] * _span(m, w.svc_t[v], end)) / norm
        p0, p1 = m.svc_shard_ptr[v], m.svc_shard_ptr[v + 1]
        if m.svc_ov_on[v] and p1 > p0:
            collapsed = 0.0
            for sh in range(p0, p1):
                collapsed += w.sh_tcol[sh]
                if w.sh_col[sh]:  # still collapsed at the end
                    collapsed += end - max(w.sh_tc0[sh], end - horizon)
            out.overload[r, v] = collapsed / (p1 - p0) / horizon
