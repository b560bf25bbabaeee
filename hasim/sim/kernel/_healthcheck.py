"""Health checks: the probes of health-checked pools and routers.

One probe sequence per endpoint (an instance of a health-checked pool, a target of a
health-checked router) on the grid phase + n * interval, with a uniformly random phase.
Probes are not simulated one by one: while the endpoint's health disagrees with its
rotation state, consecutive probes form a *run*, and the endpoint flips at the run's
threshold-th probe, whose time is known when the run starts.  So one timer per flip is
scheduled, and cancelled if the endpoint agrees again first.  A run that ends without a
flip is continued if the endpoint disagrees again before the next probe (no probe saw it
agree, so no streak was reset) -- the same outcome as probing every interval, as the SimPy
engine does.
"""

from __future__ import annotations

import math

import numpy as np

from ._codes import AUX_PROBE_INST, KIND_AUX
from ._jit import fast, inline
from ._queue import _qremove, _qschedule
from ._shards import _aux_base


@inline
def _probe_interval(m, a):
    """Interval of auxiliary timer ``a`` (counted from the first auxiliary timer), a probe."""
    if m.aux_kind[a] == AUX_PROBE_INST:
        return m.svc_hc[m.sh_svc[m.inst_shard[m.aux_obj[a]]], 0]
    return m.svc_hc[m.tgt_owner[m.aux_obj[a]], 0]


@inline
def _probe_threshold(m, a, routed):
    """Consecutive probes that take the endpoint out of (routed) or back into rotation."""
    if m.aux_kind[a] == AUX_PROBE_INST:
        v = m.sh_svc[m.inst_shard[m.aux_obj[a]]]
    else:
        v = m.tgt_owner[m.aux_obj[a]]
    return np.int64(m.svc_hc[v, 1] if routed else m.svc_hc[v, 2])


@inline
def _grid_after(phase, interval, now):
    """Index of the first probe strictly after ``now``."""
    n = np.int64(math.floor((now - phase) / interval)) + 1
    if phase + n * interval <= now:  # (rounding)
        n += 1
    elif n > 0 and phase + (n - 1) * interval > now:
        n -= 1
    return max(n, np.int64(0))


@fast
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


@fast
def _hc_moved(m, w, i, avail, now):
    """Instance ``i`` of a health-checked pool became available (``avail``) or not."""
    sh = m.inst_shard[i]
    routed = w.inst_routed[i] != 0
    if routed:
        d = 1 if avail else -1
        w.sh_ru[sh] += d
        w.sh_rd[sh] -= d
    _probe_changed(m, w, m.inst_probe[i], avail, routed, now)
