"""Maintenance windows (:mod:`hasim.model.maintenance`): each maintained service has one timer, a
window's start or end, on the grid ``phase + k x every`` (the phase from the timer's own stream; a
window may be in progress at time 0).

A window takes the service's maintained instances (``inst_mt``) out as a zone's failure does (their
clocks stop; the up ones are lost to their shards, lowest index first, and regained at its end),
except that a health-checked instance is drained first: taken out of rotation at once, without the
probes' detection, and re-added by them after the window (``healthy_threshold`` good probes).  An
instance out for a zone and a window both comes back when the later of the two ends
(:func:`_held`).
"""

from __future__ import annotations

from ._codes import KIND_AUX
from ._failover import _gained, _lost
from ._jit import fast
from ._queue import _qremove, _qschedule
from ._rng import next_double
from ._shards import _aux_base, _life_speed, _set_speed, _update_own, _zone_out


@fast
def _mt_reset(m, w):
    """No window in progress; each maintained service's first window (start or, in progress, end)."""
    for v in range(m.n_services):
        w.mt_on[v] = 0
    for v in range(m.n_services):
        a = m.svc_mt_aux[v]
        if a < 0:
            continue
        every, lasting = m.svc_mt[v, 0], m.svc_mt[v, 1]
        u = next_double(w.rng[a]) * every
        if u - every + lasting > 0.0:  # the window of the period before is still on
            _mt_start(m, w, v, 0.0)
            _qschedule(w.heap, a, u - every + lasting, KIND_AUX)
        else:
            _qschedule(w.heap, a, u, KIND_AUX)


@fast
def _mt_event(m, w, v, now):
    """Service ``v``'s timer: its window starts or ends; the timer waits for the next change."""
    a = m.svc_mt_aux[v]
    if w.mt_on[v]:
        _mt_end(m, w, v, now)
        _qschedule(w.heap, a, now + m.svc_mt[v, 0] - m.svc_mt[v, 1], KIND_AUX)
    else:
        _mt_start(m, w, v, now)
        _qschedule(w.heap, a, now + m.svc_mt[v, 1], KIND_AUX)


@fast
def _mt_start(m, w, v, now):
    w.mt_on[v] = 1
    for sh in range(m.svc_shard_ptr[v], m.svc_shard_ptr[v + 1]):
        for i in range(m.sh_inst_ptr[sh], m.sh_inst_ptr[sh + 1]):
            if not m.inst_mt[i]:
                continue
            if m.svc_hc_on[v] and w.inst_routed[i]:  # drained: out of rotation before it stops
                w.inst_routed[i] = 0
                if w.inst_up[i] and not _zone_out(m, w, i):
                    w.sh_ru[sh] -= 1
                else:
                    w.sh_rd[sh] -= 1
                p = m.inst_probe[i]
                _qremove(w.heap, p)
                w.pr_end[p - _aux_base(m)] = -1
            if _zone_out(m, w, i):
                continue  # already out and stopped: held until both are over
            _set_speed(m, w, i, 0.0, now)
            if w.inst_up[i]:
                w.sh_h[sh] -= 1
                _lost(m, w, i, now)
            elif m.svc_hc_on[v]:  # a failed instance still routed no longer takes its share once drained
                _update_own(m, w, sh)


@fast
def _mt_end(m, w, v, now):
    w.mt_on[v] = 0
    for sh in range(m.svc_shard_ptr[v], m.svc_shard_ptr[v + 1]):
        for i in range(m.sh_inst_ptr[sh], m.sh_inst_ptr[sh + 1]):
            if not m.inst_mt[i] or _zone_out(m, w, i):
                continue  # its zone's recovery gives it back
            if w.inst_up[i]:
                w.sh_h[sh] += 1
                _gained(m, w, i, now)
                _set_speed(m, w, i, _life_speed(m, w, i), now)
            else:
                _set_speed(m, w, i, 1.0, now)  # the repair resumes
