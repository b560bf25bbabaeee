"""The event queue: one pending event per source, ordered by ``(time, kind, seq)``.

Pending events with the ordering contract of ``tests/_heap.py`` (one pending event per
source id, ordered by (time, kind, seq), seq stamped on every schedule), in one of two
layouts chosen per model (``CompiledModel.scan_queue``):

* a linear scan for the few sources of most models (at most ``compile.SCAN_MAX``): keys
  live by id (slot = id, inf when not pending), scheduling is a store and the next event a
  branch-free minimum over the keys.  A heap's sift mispredicts a branch or two per event
  (the order of random times is random); the scan does not: 3x faster per event than the
  heap in a minimal loop from 3 to 16 sources, 1.3x in the kernel up to ~17 sources, even
  at 25-33 (benchmarks/README.md);
* an indexed 4-ary min-heap for many sources: keys live by heap slot, so the four children
  of a node share a cache line and are compared without indirection, and the tree is half
  as deep as a binary one.

``tie`` packs ``kind << 40 | seq`` (unique), so both layouts pop the same order and a run
does not depend on the layout.  ``meta`` holds [pending count, next seq, scan layout (1/0)].
(``tests/_heap.EventHeap`` keeps keys by id, and its functions, compiled with reference counting,
cost ~90 ns per pop + push here.)
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._jit import fast, inline, njit

__all__ = ["Queue"]

_TIE_SHIFT = 40
_SIZE = 0
_SEQ = 1
_SCAN = 2
_ROOT = np.int64(0)  # the heap's root slot (an int64, not a literal: one signature of _qdown)


class Queue(NamedTuple):
    """Pending events: ``key``, ``tie``, ``ids`` by slot, ``pos`` (slot) by id (-1: none), ``meta``."""

    key: np.ndarray
    tie: np.ndarray
    ids: np.ndarray
    pos: np.ndarray
    meta: np.ndarray


@njit
def _queue_new(capacity, scan):
    q = Queue(np.full(capacity, np.inf), np.zeros(capacity, dtype=np.int64),
              np.full(capacity, -1, dtype=np.int64), np.full(capacity, -1, dtype=np.int64),
              np.zeros(3, dtype=np.int64))
    q.meta[_SCAN] = 1 if scan else 0
    return q


@fast
def _qclear(q):
    if q.meta[_SCAN]:  # (``ids`` is not used: the slot of id i is i)
        for i in range(len(q.key)):
            q.key[i] = np.inf
            q.pos[i] = -1
    else:
        for k in range(q.meta[_SIZE]):
            q.pos[q.ids[k]] = -1
    q.meta[_SIZE] = 0
    q.meta[_SEQ] = 0


@inline
def _qlt(q, a, b):
    """Whether slot ``a`` comes before slot ``b``."""
    ka = q.key[a]
    kb = q.key[b]
    if ka == kb:  # rare
        return q.tie[a] < q.tie[b]
    return ka < kb


@inline
def _qset(q, k, key, tie, i):
    q.key[k] = key
    q.tie[k] = tie
    q.ids[k] = i
    q.pos[i] = k


@inline
def _qdown(q, k, key, tie, i):
    """Heap layout: put ``(key, tie, i)`` into the hole at slot ``k``, moving it down."""
    n = q.meta[_SIZE]
    while True:
        c = 4 * k + 1
        if c + 3 < n:
            # Branch-free minimum of the four children (data-dependent branches mispredict);
            # exact ties, rare, take the slow path through the tie-breaking comparison.
            k0 = q.key[c]
            k1 = q.key[c + 1]
            k2 = q.key[c + 2]
            k3 = q.key[c + 3]
            a = c + np.int64(k1 < k0)
            ka = min(k0, k1)
            b = c + 2 + np.int64(k3 < k2)
            kb = min(k2, k3)
            best = b if kb < ka else a
            if k0 == k1 or k2 == k3 or ka == kb:
                a = c + 1 if _qlt(q, c + 1, c) else c
                b = c + 3 if _qlt(q, c + 3, c + 2) else c + 2
                best = b if _qlt(q, b, a) else a
        elif c < n:
            best = c
            for d in range(c + 1, n):
                if _qlt(q, d, best):
                    best = d
        else:
            break
        kb = q.key[best]
        if kb > key or (kb == key and q.tie[best] > tie):
            break
        _qset(q, k, kb, q.tie[best], q.ids[best])
        k = best
    _qset(q, k, key, tie, i)


@inline
def _qup(q, k, key, tie, i):
    """Heap layout: put ``(key, tie, i)`` into the hole at slot ``k``, moving it up; return whether
    it moved."""
    moved = False
    while k > 0:
        p = (k - 1) >> 2
        kp = q.key[p]
        if kp < key or (kp == key and q.tie[p] < tie):
            break
        _qset(q, k, kp, q.tie[p], q.ids[p])
        k = p
        moved = True
    _qset(q, k, key, tie, i)
    return moved


@inline
def _qtie(q, kind):
    seq = q.meta[_SEQ]
    q.meta[_SEQ] = seq + 1
    return (np.int64(kind) << _TIE_SHIFT) | seq


@inline
def _qtime(q, i):
    """Pending time of id ``i`` (which must be pending)."""
    return q.key[q.pos[i]]


@inline
def _qtop(q):
    """``(id, time, kind)`` of the next event, ``(-1, inf, -1)`` if none."""
    if q.meta[_SCAN]:
        # The minimum and its first slot, branch-free; then a count of the keys equal to it
        # (independent iterations, unlike tracking ties in the first loop).
        key = q.key
        best = 0
        kb = key[0]
        for j in range(1, len(key)):
            kj = key[j]
            lt = kj < kb
            best = j if lt else best
            kb = kj if lt else kb
        if kb == np.inf:
            return -1, np.inf, -1
        same = 0
        for j in range(len(key)):
            same += key[j] == kb
        if same > 1:  # exact ties (fixed durations, timers): the earliest kind, then seq
            for j in range(len(key)):
                if key[j] == kb and q.tie[j] < q.tie[best]:
                    best = j
        return best, kb, q.tie[best] >> _TIE_SHIFT
    if q.meta[_SIZE] == 0:
        return -1, np.inf, -1
    return q.ids[0], q.key[0], q.tie[0] >> _TIE_SHIFT


@inline
def _qreplace_top(q, i, time):
    """Reschedule ``i``, the id :func:`_qtop` returned, at ``time`` (same kind, new seq).  (The
    caller passes ``i``: reading it back from memory would put a store and a load on the event
    loop's critical path.)"""
    if q.meta[_SCAN]:
        q.key[i] = time
        q.tie[i] = _qtie(q, q.tie[i] >> _TIE_SHIFT)
        return
    kind = q.tie[0] >> _TIE_SHIFT
    _qdown(q, _ROOT, time, _qtie(q, kind), i)


@inline
def _qpop(q, i):
    """Remove ``i``, the id :func:`_qtop` returned."""
    n = q.meta[_SIZE] - 1
    q.meta[_SIZE] = n
    q.pos[i] = -1
    if q.meta[_SCAN]:
        q.key[i] = np.inf
        return
    if n > 0:
        _qdown(q, _ROOT, q.key[n], q.tie[n], q.ids[n])
    q.ids[n] = -1
    q.key[n] = np.inf


@fast
def _qschedule(q, i, time, kind):
    """Schedule id ``i`` at ``(time, kind)``, replacing its pending event if any."""
    tie = _qtie(q, kind)
    k = q.pos[i]
    if q.meta[_SCAN]:
        if k < 0:
            q.pos[i] = i
            q.meta[_SIZE] += 1
        q.key[i] = time
        q.tie[i] = tie
    elif k < 0:
        k = q.meta[_SIZE]
        q.meta[_SIZE] = k + 1
        _qup(q, k, time, tie, i)
    elif not _qup(q, k, time, tie, i):
        _qdown(q, k, time, tie, i)


@fast
def _qremove(q, i):
    """Cancel the pending event of id ``i`` (no-op if none)."""
    k = q.pos[i]
    if k < 0:
        return
    n = q.meta[_SIZE] - 1
    q.meta[_SIZE] = n
    q.pos[i] = -1
    if q.meta[_SCAN]:
        q.key[i] = np.inf
        return
    if k != n:
        key, tie, j = q.key[n], q.tie[n], q.ids[n]
        if not _qup(q, k, key, tie, j):
            _qdown(q, k, key, tie, j)
    q.ids[n] = -1
    q.key[n] = np.inf
