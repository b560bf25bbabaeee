"""Zones: a zone's failure suspends the clocks of every instance in its chain (its descendants'
instances), its repair resumes them; instances lost or regained are handled lowest index first.
An instance out for a maintenance window is left to the window (:mod:`._maintenance`)."""

from __future__ import annotations

import numpy as np

from ._failover import _gained, _lost
from ._jit import fast
from ._queue import _qreplace_top
from ._shards import _draw, _held, _life_speed, _set_speed


@fast
def _sort_prefix(buf, n):
    """Insertion sort of ``buf[:n]`` in place (n is the few instances of one zone)."""
    for a in range(1, n):
        x = buf[a]
        b = a - 1
        while b >= 0 and buf[b] > x:
            buf[b + 1] = buf[b]
            b -= 1
        buf[b + 1] = x


@fast
def _zone_event(m, w, z, now):
    buf = w.buf
    n = np.int64(0)
    if w.zone_up[z]:
        w.zone_up[z] = 0
        _qreplace_top(w.heap, m.n_instances + z, now + _draw(m, w, m.zone_rep[z], m.n_instances + z))
        for a in range(m.zone_desc_ptr[z], m.zone_desc_ptr[z + 1]):
            d = m.zone_desc[a]
            w.zone_down[d] += 1
            if w.zone_down[d] == 1:
                for b in range(m.zone_inst_ptr[d], m.zone_inst_ptr[d + 1]):
                    i = m.zone_inst[b]
                    if _held(m, w, i):
                        continue  # out and stopped for a maintenance window already
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
        _qreplace_top(w.heap, m.n_instances + z, now + _draw(m, w, m.zone_fail[z], m.n_instances + z))
        for a in range(m.zone_desc_ptr[z], m.zone_desc_ptr[z + 1]):
            d = m.zone_desc[a]
            w.zone_down[d] -= 1
            if w.zone_down[d] == 0:
                for b in range(m.zone_inst_ptr[d], m.zone_inst_ptr[d + 1]):
                    i = m.zone_inst[b]
                    if _held(m, w, i):
                        continue  # the window's end gives it back
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
