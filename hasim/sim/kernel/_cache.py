"""Caches (``cached:``): stale data served for ``ttl`` while the cached service is below 1; the
expiry itself is an auxiliary timer (:func:`hasim.sim.kernel._events._aux_event`)."""

from __future__ import annotations

from ._codes import FRESH, KIND_AUX, SERVING, ST_FULL
from ._jit import fast
from ._queue import _qremove, _qschedule


@fast
def _cache_react(m, w, v, now):
    """Service ``v``'s caches: one starts serving stale data when its service drops below 1, for
    ``ttl``; it is fresh again once the service is fully back."""
    for x in range(m.svc_cache_ptr[v], m.svc_cache_ptr[v + 1]):
        c = m.svc_cache[x]
        full = w.svc_st[m.cache_dep[c]] == ST_FULL
        st = w.cache_st[c]
        if st == FRESH and not full:
            w.cache_st[c] = SERVING
            _qschedule(w.heap, m.cache_aux[c], now + m.cache_ttl[c], KIND_AUX)
        elif st != FRESH and full:
            if st == SERVING:
                _qremove(w.heap, m.cache_aux[c])
            w.cache_st[c] = FRESH
