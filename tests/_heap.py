"""The ordering contract of the kernel's pending-event queue, as an indexed binary min-heap in
flat arrays: the oracle the kernel's own queue (both layouts) is tested against in
``tests/test_kernel.py``, itself checked against a sorted list in ``tests/test_heap.py``.  It
lives with the tests because no part of the package uses it.

Each event source (a component, a timer, ...) owns one *id* in
``0 .. capacity - 1`` and has at most one pending event. Scheduling an id that
is already pending replaces its event; cancelling removes it. That is all the
event loop needs (each component has exactly one next event), and it keeps the
heap at most ``capacity`` long with O(log n) schedule / cancel / pop.

Events are ordered by the key ``(time, kind, seq)``, compared
lexicographically: earlier time first, then the smaller *kind* (the kernel's
priority of event kinds), then the smaller *seq*, a counter the heap stamps on
every push or update (so equal time and kind pop in scheduling order, as in
SimPy's ``(time, priority, eid)``). Ordering never depends on ids or memory
layout, so runs are reproducible.

The heap is an :class:`EventHeap` named tuple of arrays, a valid argument of
njit functions (it lives in this importable module, so numba's cache can
find it):

=========  ====================  ==============================================
field      dtype[shape]          content
=========  ====================  ==============================================
``times``  ``float64[capacity]`` pending time of id ``i`` (valid if pending)
``kinds``  ``int64[capacity]``   pending kind of id ``i`` (valid if pending)
``seqs``   ``int64[capacity]``   pending seq of id ``i`` (valid if pending)
``ids``    ``int64[capacity]``   id at heap slot ``k`` for ``k < size``, else -1
``pos``    ``int64[capacity]``   heap slot of id ``i``, -1 when not pending
``meta``   ``int64[2]``          ``[size, next_seq]``
=========  ====================  ==============================================

Keys are stored per id, so the kernel may read ``h.times[i]`` for a pending
id directly. Functions raise ``ValueError`` on misuse (id out of range,
NaN time, pushing a pending id, updating one that is not); ``heap_pop`` and
``heap_peek`` on an empty heap return ``(-1, inf, -1)``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hasim.sim.kernel._jit import njit

__all__ = [
    "EventHeap", "heap_new", "heap_clear", "heap_size", "heap_contains", "heap_push", "heap_update",
    "heap_schedule", "heap_remove", "heap_pop", "heap_peek",
]


class EventHeap(NamedTuple):
    """Flat arrays of an indexed min-heap; see the module docstring."""

    times: np.ndarray
    kinds: np.ndarray
    seqs: np.ndarray
    ids: np.ndarray
    pos: np.ndarray
    meta: np.ndarray


@njit
def heap_new(capacity):
    """An empty :class:`EventHeap` for ids ``0 .. capacity - 1`` (callable from njit code)."""
    return EventHeap(
        np.full(capacity, np.inf),
        np.zeros(capacity, dtype=np.int64),
        np.zeros(capacity, dtype=np.int64),
        np.full(capacity, -1, dtype=np.int64),
        np.full(capacity, -1, dtype=np.int64),
        np.zeros(2, dtype=np.int64),
    )


@njit
def heap_clear(h):
    """Empty the heap and restart ``seq`` at 0 (reuse one heap for many replicas)."""
    for k in range(h.meta[0]):
        h.pos[h.ids[k]] = -1
        h.ids[k] = -1
    h.meta[0] = 0
    h.meta[1] = 0


@njit
def heap_size(h):
    """Number of pending events."""
    return h.meta[0]


@njit
def heap_contains(h, i):
    """Whether id ``i`` has a pending event."""
    return h.pos[i] >= 0


@njit
def _less(h, a, b):
    """Whether the event of id ``a`` comes before the event of id ``b``."""
    ta = h.times[a]
    tb = h.times[b]
    if ta != tb:
        return ta < tb
    ka = h.kinds[a]
    kb = h.kinds[b]
    if ka != kb:
        return ka < kb
    return h.seqs[a] < h.seqs[b]


@njit
def _sift_up(h, k):
    ids = h.ids
    pos = h.pos
    i = ids[k]
    while k > 0:
        parent = (k - 1) >> 1
        j = ids[parent]
        if not _less(h, i, j):
            break
        ids[k] = j
        pos[j] = k
        k = parent
    ids[k] = i
    pos[i] = k


@njit
def _sift_down(h, k):
    ids = h.ids
    pos = h.pos
    n = h.meta[0]
    i = ids[k]
    while True:
        c = 2 * k + 1
        if c >= n:
            break
        if c + 1 < n and _less(h, ids[c + 1], ids[c]):
            c += 1
        j = ids[c]
        if not _less(h, j, i):
            break
        ids[k] = j
        pos[j] = k
        k = c
    ids[k] = i
    pos[i] = k


@njit
def _set_key(h, i, time, kind):
    if i < 0 or i >= h.pos.shape[0]:
        raise ValueError("event id out of range")
    if time != time:
        raise ValueError("event time is NaN")
    h.times[i] = time
    h.kinds[i] = kind
    h.seqs[i] = h.meta[1]
    h.meta[1] += 1


@njit
def heap_push(h, i, time, kind):
    """Add the event ``(time, kind)`` of id ``i``, which must not be pending."""
    if i >= 0 and i < h.pos.shape[0] and h.pos[i] >= 0:
        raise ValueError("event id is already pending")
    _set_key(h, i, time, kind)
    k = h.meta[0]
    h.meta[0] = k + 1
    h.ids[k] = i
    _sift_up(h, k)


@njit
def heap_update(h, i, time, kind):
    """Replace the pending event of id ``i`` by ``(time, kind)`` (earlier or later; new seq)."""
    if i < 0 or i >= h.pos.shape[0] or h.pos[i] < 0:
        raise ValueError("event id is not pending")
    _set_key(h, i, time, kind)
    _sift_up(h, h.pos[i])
    _sift_down(h, h.pos[i])


@njit
def heap_schedule(h, i, time, kind):
    """Set the pending event of id ``i`` to ``(time, kind)``, replacing any previous one."""
    if i >= 0 and i < h.pos.shape[0] and h.pos[i] >= 0:
        heap_update(h, i, time, kind)
    else:
        heap_push(h, i, time, kind)


@njit
def heap_remove(h, i):
    """Cancel the pending event of id ``i``; return whether there was one."""
    if i < 0 or i >= h.pos.shape[0]:
        raise ValueError("event id out of range")
    k = h.pos[i]
    if k < 0:
        return False
    n = h.meta[0] - 1
    h.meta[0] = n
    h.pos[i] = -1
    if k != n:
        last = h.ids[n]
        h.ids[k] = last
        h.pos[last] = k
        _sift_up(h, k)
        _sift_down(h, h.pos[last])
    h.ids[n] = -1
    return True


@njit
def heap_peek(h):
    """``(id, time, kind)`` of the next event without removing it; ``(-1, inf, -1)`` if empty."""
    if h.meta[0] == 0:
        return -1, np.inf, -1
    i = h.ids[0]
    return i, h.times[i], h.kinds[i]


@njit
def heap_pop(h):
    """Remove and return ``(id, time, kind)`` of the next event; ``(-1, inf, -1)`` if empty."""
    if h.meta[0] == 0:
        return -1, np.inf, -1
    i = h.ids[0]
    n = h.meta[0] - 1
    h.meta[0] = n
    h.pos[i] = -1
    if n > 0:
        last = h.ids[n]
        h.ids[0] = last
        h.pos[last] = 0
        _sift_down(h, 0)
    h.ids[n] = -1
    return i, h.times[i], h.kinds[i]
