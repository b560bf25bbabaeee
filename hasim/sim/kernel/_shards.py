"""Instances and shards: availability, clock speeds, roles and what a shard's own instances
serve, plus the draws of a component's durations (the helpers every mechanism uses).

Clocks
------
An instance's pending event runs at a *speed*: 1 normally, 0 while a zone of
its chain is down (suspended: the remaining time is stored), ``warm_factor``
or 0 for the remaining life of an idle warm or cold standby (accelerated
life).  Invariant: an instance has a pending event iff its speed is > 0, and
``inst_rem`` holds its remaining nominal time iff the speed is 0.
"""

from __future__ import annotations

from ._codes import _LO, _NOW, ACTIVE, DETECT, ELECT, FAILED, KIND_INST, PROMOTE, REGAINED, STANDBY, UP, WAIT_REQ
from ._jit import fast, inline
from ._hours import _hour_of, _need_now, _watch
from ._autoscaling import _autoscale
from ._overload import _overload_own
from ._queue import _qremove, _qschedule, _qtime
from ._rng import EXPONENTIAL, exponential, sample


@inline
def _draw(m, w, row, c):
    """One draw from distribution ``row`` of ``m.dist`` on component ``c``'s stream (exponential
    inlined: the hot path)."""
    code = m.dist_code[row]
    if code == EXPONENTIAL:
        return exponential(w.rng[c], m.dist[row, 1])
    return sample(w.rng[c], code, m.dist[row, 1], m.dist[row, 2], m.dist[row, 3], m.samples)


@inline
def _oc_row(m, t):
    """The row of the on-call's response law for a page at ``t``: the night's outside business hours
    (:mod:`hasim.model.oncall`)."""
    hour = _hour_of(t)
    if m.oc_row[1] < 0 or (m.oc_hours[0] <= hour < m.oc_hours[1]):
        return m.oc_row[0]
    return m.oc_row[1]


@inline
def _mark_dirty(m, w, v):
    w.svc_dirty[v] = 1
    if v < w.ctl[_LO]:
        w.ctl[_LO] = v


@inline
def _in_failover(state):
    return (state == DETECT or state == WAIT_REQ or state == PROMOTE or state == FAILED or state == ELECT
            or state == REGAINED)


@inline
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


@inline
def _timer_id(m, sh):
    return m.n_instances + m.n_zones + sh


@inline
def _aux_base(m):
    """Source id of the first auxiliary timer."""
    return m.n_instances + m.n_zones + m.n_shards


@inline
def _available(m, w, i):
    return w.inst_up[i] != 0 and not _zone_out(m, w, i) and not _held(m, w, i)


@inline
def _zone_out(m, w, i):
    """Whether a zone of instance ``i``'s chain is down."""
    z = m.inst_zone[i]
    return z >= 0 and w.zone_down[z] > 0


@inline
def _held(m, w, i):
    """Whether instance ``i`` is out for a maintenance window in progress (hasim.sim.kernel._maintenance)."""
    return m.inst_mt[i] != 0 and w.mt_on[m.sh_svc[m.inst_shard[i]]] != 0


@fast
def _lowest_available(m, w, sh):
    for i in range(m.sh_inst_ptr[sh], m.sh_inst_ptr[sh + 1]):
        if _available(m, w, i):
            return i
    return -1


@fast
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


@inline
def _life_speed(m, w, i):
    """Speed of the life clock of an up, available instance (idle standbys run slower)."""
    sh = m.inst_shard[i]
    idle = m.svc_idle[m.sh_svc[sh]]
    if idle == 1.0 or w.sh_active[sh] == i:
        return 1.0
    return idle


@fast
def _make_active(m, w, sh, j, now):
    w.sh_active[sh] = j
    if m.svc_idle[m.sh_svc[sh]] != 1.0:
        _set_speed(m, w, j, 1.0, now)


@inline
def _pool_share(h, k):
    """What an active pool serves with ``h`` instances carrying requests: ``min(1, h / k)`` (1 at
    ``k = 0``: an hour without load loses nothing)."""
    return 1.0 if h >= k else h / k


@inline
def _set_own(m, w, sh, own):
    """Store what shard ``sh``'s own instances serve; mark its service dirty if it changed."""
    if own != w.sh_own[sh]:
        w.sh_own[sh] = own
        _mark_dirty(m, w, m.sh_svc[sh])


@inline
def _update_own(m, w, sh):
    """Recompute what shard ``sh``'s own instances serve (see :func:`_set_own`)."""
    v = m.sh_svc[sh]
    mode = m.svc_mode[v]
    if mode == ACTIVE:
        if m.svc_dyn[v]:  # timeouts or circuit breakers move the need (hasim.sim.kernel._breakers)
            base = m.sh_kt[sh, _hour_of(w.fl[_NOW])] if m.sh_day[sh] else m.sh_kt[sh, 0]
            w.sh_kc[sh] = base * w.svc_lf[v]
            w.sh_k[sh] = w.sh_kc[sh] * w.svc_hold[v]
        elif m.sh_day[sh]:
            _need_now(m, w, sh)
        k = w.sh_k[sh]
        if m.svc_hc_on[v]:
            # Only healthy routed instances carry requests; without retry a failed instance
            # still routed takes its share 1 / (routed instances) and fails it.
            h = w.sh_ru[sh] + w.sh_ext[sh]  # the instances an autoscaler added are healthy and routed
            if m.svc_hc_loss[v]:
                own = 1.0 if k <= 0.0 else h / max(h + w.sh_rd[sh], k)  # k = 0: no request at this hour
            else:
                own = _pool_share(h, k)
        else:
            h = w.sh_h[sh] + w.sh_ext[sh]
            own = _pool_share(h, k)
        if m.svc_as_on[v]:
            _autoscale(m, w, sh, v, h, w.fl[_NOW])
        if m.svc_ov_on[v]:
            own = _overload_own(m, w, sh, v, h, own)
        if m.sh_day[sh]:
            _watch(m, w, sh, h, w.svc_lf[v] * w.svc_hold[v])
    elif mode == STANDBY:
        own = 1.0 if w.sh_state[sh] == UP else 0.0
    else:
        own = 1.0 if (w.sh_state[sh] == UP and w.sh_h[sh] >= m.svc_k[v]) else 0.0
    _set_own(m, w, sh, own)
