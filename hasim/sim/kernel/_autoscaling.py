"""Autoscaling: a target-tracking policy adds instances to a shard after a delay while fewer are in
service than it wants, and removes the ones it added after ``scale_in`` while more are
(:mod:`hasim.model.autoscaling`).

The added instances are a count, ``sh_ext``: they serve as soon as they arrive and do not fail.
The policy is looked at whenever the shard's own fraction is (:func:`._shards._update_own`), which
starts or cancels the shard's one scaling timer; the timer (:func:`_scale_event`) sets the count
to what the policy wants then, within ``[0, max - replicas]``."""

from __future__ import annotations

import math

from ._codes import KIND_AUX
from ._jit import fast, inline
from ._queue import _qremove, _qschedule


@inline
def _wanted(m, v, k):
    """``hasim.model.autoscaling.wanted``: ceil(k / target), read to a billionth."""
    return max(0.0, math.ceil(k / m.svc_as[v, 0] - 1e-9))


@fast
def _autoscale(m, w, sh, v, h, now):
    """Shard ``sh`` has ``h`` instances in service (the added ones included): start, keep or cancel its
    scaling timer (+1 out after the delay, -1 in after ``scale_in``)."""
    want = _wanted(m, v, w.sh_k[sh])
    e = w.sh_ext[sh]
    need = 0
    if h < want and e < m.svc_as[v, 3]:
        need = 1
    elif h > want and e > 0:
        need = -1
    cur = w.sh_scd[sh]
    if need != cur:
        if cur != 0:
            _qremove(w.heap, m.sh_as_aux[sh])
        if need != 0:
            _qschedule(w.heap, m.sh_as_aux[sh], now + (m.svc_as[v, 1] if need > 0 else m.svc_as[v, 2]), KIND_AUX)
        w.sh_scd[sh] = need


@fast
def _scale_event(m, w, sh):
    """Shard ``sh``'s scaling timer: as many added instances as the policy now wants (out: never fewer
    than it has; in: never more)."""
    v = m.sh_svc[sh]
    base = w.sh_ru[sh] if m.svc_hc_on[v] else w.sh_h[sh]
    gap = _wanted(m, v, w.sh_k[sh]) - base
    e = w.sh_ext[sh]
    if w.sh_scd[sh] > 0:
        e = min(m.svc_as[v, 3], max(e, gap))
    else:
        e = max(0.0, min(e, gap))
    w.sh_ext[sh] = e
    w.sh_scd[sh] = 0
