"""What an instance's event and an auxiliary timer do: an instance fails or is repaired (the hot
path of an active pool is inlined into the event loop); a probe run flips an endpoint in or out of
rotation, a piece of a DNS ramp ends, a cache's ttl runs out.  (Zone events: :mod:`._zones`;
failover timers: :mod:`._failover`.)"""

from __future__ import annotations

import numpy as np

from ._codes import ACTIVE, AUX_BREAKER, AUX_CACHE, AUX_DEPLOY, AUX_MAINT, AUX_SCALE, AUX_HOUR, AUX_PROBE_INST, AUX_PROBE_TGT, AUX_RAMP, EXPIRED, KIND_AUX
from ._autoscaling import _scale_event
from ._breakers import _cb_event
from ._day import _hour_event
from ._deploys import _dp_event
from ._failover import _gained, _lost
from ._healthcheck import _hc_moved
from ._jit import fast, inline
from ._maintenance import _mt_event
from ._overload import _collapse_event
from ._queue import _qpop, _qreplace_top, _qschedule
from ._shards import (_aux_base, _available, _draw, _life_speed, _mark_dirty, _oc_row, _pool_share, _set_own,
                      _set_speed, _update_own)


@inline
def _instance_event(m, w, i, now):
    """The pending event of instance ``i`` (at the top of the queue) fires: failure or repair."""
    sh = m.inst_shard[i]
    plain = m.inst_plain[i]
    if plain:
        # The hot path, an active pool without health check: no roles, no idle clocks, no
        # probes.  Failure if up (repair starts at once: an instance with a pending event has
        # its zones up), else repair.  The law's row is read per instance: its mean is on the
        # critical path from one event to the next.  (_update_own, for this case.)
        up = w.inst_up[i]
        h = w.sh_h[sh] + 1 - 2 * np.int64(up)
        # With a daily profile or an overload model (plain == 2), only while there are enough instances
        # for every hour at every threshold: _update_own would find 1 without looking at the clock, and
        # so does the pool's share with the need of any hour (hasim.sim.kernel._hours).
        if plain == 1 or (h >= m.sh_kx[sh] and not w.sh_col[sh] and not w.sh_ovp[sh]):
            row = m.inst_rep[i] if up else m.inst_fail[i]
            w.inst_up[i] = 1 - up
            w.sh_h[sh] = h
            _qreplace_top(w.heap, i, now + _draw(m, w, row, i))
            _set_own(m, w, sh, _pool_share(h, w.sh_k[sh]))
            return
    v = m.sh_svc[sh]
    if w.inst_ans[i] > 0.0:  # the on-call answers a paged repair's page: the repair starts
        w.inst_ans[i] = 0.0
        _qreplace_top(w.heap, i, now + _draw(m, w, m.inst_rep[i], i))
        return
    if m.svc_mode[v] == ACTIVE:  # health-checked (the probes see the change), overload-prone or paged
        up = w.inst_up[i]
        row = m.inst_rep[i] if up else m.inst_fail[i]
        w.inst_up[i] = 1 - up
        w.sh_h[sh] += 1 - 2 * np.int64(up)
        _qreplace_top(w.heap, i, now + (_down_for(m, w, i, v, now) if up else _draw(m, w, row, i)))
        if m.svc_hc_on[v]:
            _hc_moved(m, w, i, up == 0, now)
        _update_own(m, w, sh)
        return
    # Standby and quorum: roles, and idle standbys whose life clock runs slower.
    if w.inst_up[i]:
        w.inst_up[i] = 0
        w.inst_speed[i] = 1.0
        _qreplace_top(w.heap, i, now + _down_for(m, w, i, v, now))
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


@fast
def _down_for(m, w, i, v, now):
    """Instance ``i`` of service ``v`` fails at ``now``: the wait for its next event, its repair, or
    with paged repairs the on-call's response (by the hour of the page), at which the repair starts
    (an event of its own: the loss changes stage there)."""
    if m.svc_rpg[v]:
        answer = _draw(m, w, _oc_row(m, now), i)
        if answer > 0.0:
            w.inst_ans[i] = now + answer
            return answer
    return _draw(m, w, m.inst_rep[i], i)


@fast
def _aux_event(m, w, p, now):
    """Auxiliary timer ``p`` (already popped) fires: an endpoint flips in or out of rotation, a
    piece of a DNS ramp ends, a cache's ttl runs out, an hour begins, a circuit breaker opens or
    half-opens, a scale-out or scale-in happens, a release or a rollout's step, or an overload grace
    period ends."""
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
    elif kind == AUX_CACHE:  # the stale data is too old, the outage shows
        w.cache_st[obj] = EXPIRED
        _mark_dirty(m, w, m.cache_owner[obj])
    elif kind == AUX_HOUR:
        _hour_event(m, w, p, now)
    elif kind == AUX_BREAKER:
        _cb_event(m, w, obj, now)
    elif kind == AUX_SCALE:
        _scale_event(m, w, obj)
        _update_own(m, w, obj)
    elif kind == AUX_DEPLOY:
        _dp_event(m, w, obj, now)
    elif kind == AUX_MAINT:
        _mt_event(m, w, obj, now)
    else:  # AUX_OVERLOAD: the grace period is over, the shard collapses
        _collapse_event(m, w, obj)
        _update_own(m, w, obj)
