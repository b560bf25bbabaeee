"""The kernel's event queue against hasim._heap (the reference ordering: time, kind, seq)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hasim import _kernel
from hasim._heap import heap_new, heap_pop, heap_remove, heap_schedule
from hasim._jit import njit

CAP = 40


@njit
def _apply(ops, times, kinds, cap):
    """Apply ops to both queues (ids < cap); return the pop sequences (id, time, kind) of each."""
    q = _kernel._queue_new(cap)
    h = heap_new(cap)
    got = np.full((ops.shape[0], 3), -9.0)
    want = np.full((ops.shape[0], 3), -9.0)
    for n in range(ops.shape[0]):
        op, i = ops[n, 0], ops[n, 1]
        if op == 0:  # schedule
            _kernel._qschedule(q, i, times[n], kinds[n])
            heap_schedule(h, i, times[n], kinds[n])
        elif op == 1:  # remove
            _kernel._qremove(q, i)
            heap_remove(h, i)
        elif op == 2:  # pop
            if q.meta[0] > 0:
                j = q.ids[0]
                got[n, 0] = j
                got[n, 1] = q.key[0]
                got[n, 2] = q.tie[0] >> 40
                _kernel._qpop(q)
            j, t, k = heap_pop(h)
            if j >= 0:
                want[n, 0] = j
                want[n, 1] = t
                want[n, 2] = k
        else:  # reschedule the top in place
            if q.meta[0] > 0:
                j = q.ids[0]
                kind = q.tie[0] >> 40
                _kernel._qreplace_top(q, times[n])
                heap_schedule(h, j, times[n], kind)
    return got, want


ops_strategy = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, CAP - 1),
              st.sampled_from([0.0, 1.0, 1.5, 2.0, 7.25, 100.0]), st.integers(0, 3)),
    min_size=1, max_size=300)


@settings(max_examples=60, deadline=None)
@given(ops_strategy)
def test_queue_matches_the_reference_heap(ops):
    arr = np.array([[o, i] for o, i, _, _ in ops], dtype=np.int64)
    times = np.array([t for _, _, t, _ in ops])
    kinds = np.array([k for _, _, _, k in ops], dtype=np.int64)
    got, want = _apply(arr, times, kinds, CAP)
    np.testing.assert_array_equal(got, want)


def test_queue_many_random_ties():
    rng = np.random.default_rng(1)
    n = 5000
    ops = np.stack([rng.integers(0, 4, n), rng.integers(0, CAP, n)], axis=1).astype(np.int64)
    times = rng.integers(0, 5, n).astype(np.float64)  # many exact ties
    kinds = rng.integers(0, 3, n).astype(np.int64)
    got, want = _apply(ops, times, kinds, CAP)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("size", [1, 2, 5, 17, 300])
def test_queue_pops_in_order(size):
    rng = np.random.default_rng(size)
    ops = np.array([[0, i] for i in range(size)] + [[2, 0]] * size, dtype=np.int64)
    times = np.concatenate([rng.exponential(10, size), np.zeros(size)])
    kinds = np.zeros(2 * size, dtype=np.int64)
    got, want = _apply(ops, times, kinds, size)
    popped = got[size:, 1]
    assert (np.diff(popped) >= 0).all()
    np.testing.assert_array_equal(got, want)
