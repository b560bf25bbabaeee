"""The indexed event heap (tests/_heap.py), checked against a sorted-list oracle.

``test_heap_suite_without_jit`` reruns this module with ``NUMBA_DISABLE_JIT=1``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ._heap import (
    EventHeap,
    heap_clear,
    heap_contains,
    heap_new,
    heap_peek,
    heap_pop,
    heap_push,
    heap_remove,
    heap_schedule,
    heap_size,
    heap_update,
)
from .conftest import run_file_without_jit
from hasim.sim.kernel._jit import JIT_DISABLED, njit

ROOT = Path(__file__).resolve().parents[1]
EMPTY = (-1, math.inf, -1)


class Oracle:
    """The same queue as a dict id -> (time, kind, seq), popped by sorting."""

    def __init__(self):
        self.pending: dict[int, tuple[float, int, int]] = {}
        self.seq = 0

    def schedule(self, i, time, kind):
        self.pending[i] = (time, kind, self.seq)
        self.seq += 1

    def remove(self, i):
        return self.pending.pop(i, None) is not None

    def peek(self):
        if not self.pending:
            return EMPTY
        i = min(self.pending, key=lambda j: self.pending[j])
        time, kind, _ = self.pending[i]
        return i, time, kind

    def pop(self):
        top = self.peek()
        if top[0] >= 0:
            del self.pending[top[0]]
        return top

    def clear(self):
        self.pending.clear()
        self.seq = 0


def as_py(event):
    i, time, kind = event
    return int(i), float(time), int(kind)


def check_invariants(h: EventHeap, oracle: Oracle):
    size = int(heap_size(h))
    assert size == len(oracle.pending)
    cap = len(h.pos)
    key = lambda i: (h.times[i], h.kinds[i], h.seqs[i])  # noqa: E731
    for k in range(size):
        i = h.ids[k]
        assert h.pos[i] == k
        assert key(i) == oracle.pending[int(i)]
        if k > 0:
            assert key(h.ids[(k - 1) // 2]) < key(i)
    assert all(h.ids[k] == -1 for k in range(size, cap))
    assert {i for i in range(cap) if h.pos[i] >= 0} == set(oracle.pending)
    assert all(bool(heap_contains(h, i)) == (i in oracle.pending) for i in range(cap))


CAPACITY = 8
times = st.sampled_from([0.0, 0.5, 1.0, 1.0, 2.0, 1e9, math.inf]) | st.floats(0.0, 10.0)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("schedule"), st.integers(0, CAPACITY - 1), times, st.integers(0, 2)),
        st.tuples(st.just("remove"), st.integers(0, CAPACITY - 1)),
        st.tuples(st.just("pop")),
        st.tuples(st.just("peek")),
        st.tuples(st.just("clear")),
    ),
    max_size=80,
)


@settings(deadline=None, max_examples=300)
@given(operations)
def test_random_operations_match_the_oracle(ops):
    h = heap_new(CAPACITY)
    oracle = Oracle()
    for op in ops:
        name = op[0]
        if name == "schedule":
            _, i, time, kind = op
            if i in oracle.pending and i % 2:
                heap_update(h, i, time, kind)
            elif i % 2:
                heap_push(h, i, time, kind)
            else:
                heap_schedule(h, i, time, kind)
            oracle.schedule(i, time, kind)
        elif name == "remove":
            assert bool(heap_remove(h, op[1])) == oracle.remove(op[1])
        elif name == "pop":
            assert as_py(heap_pop(h)) == oracle.pop()
        elif name == "peek":
            assert as_py(heap_peek(h)) == oracle.peek()
        else:
            heap_clear(h)
            oracle.clear()
        check_invariants(h, oracle)
    while oracle.pending:
        assert as_py(heap_pop(h)) == oracle.pop()
    assert as_py(heap_pop(h)) == EMPTY


def test_many_random_operations_match_the_oracle():
    rng = np.random.default_rng(7)
    cap = 200
    h = heap_new(cap)
    oracle = Oracle()
    for step in range(20_000):
        r = rng.random()
        i = int(rng.integers(cap))
        if r < 0.5:
            time, kind = float(rng.integers(0, 50)) / 4, int(rng.integers(0, 3))
            heap_schedule(h, i, time, kind)
            oracle.schedule(i, time, kind)
        elif r < 0.6:
            assert bool(heap_remove(h, i)) == oracle.remove(i)
        else:
            assert as_py(heap_pop(h)) == oracle.pop()
        if step % 1000 == 0:
            check_invariants(h, oracle)
    check_invariants(h, oracle)


def test_ties_break_by_kind_then_scheduling_order():
    h = heap_new(6)
    heap_schedule(h, 0, 5.0, 2)
    heap_schedule(h, 1, 5.0, 1)
    heap_schedule(h, 2, 5.0, 2)
    heap_schedule(h, 3, 4.0, 9)
    heap_schedule(h, 4, 5.0, 1)
    heap_schedule(h, 5, 5.0, 0)
    order = [as_py(heap_pop(h)) for _ in range(6)]
    assert order == [(3, 4.0, 9), (5, 5.0, 0), (1, 5.0, 1), (4, 5.0, 1), (0, 5.0, 2), (2, 5.0, 2)]


def test_rescheduling_moves_an_event_to_the_back_of_its_tie():
    h = heap_new(3)
    for i in range(3):
        heap_schedule(h, i, 1.0, 0)
    heap_schedule(h, 0, 1.0, 0)  # same key, new seq
    assert [int(heap_pop(h)[0]) for _ in range(3)] == [1, 2, 0]


def test_update_moves_events_earlier_and_later():
    h = heap_new(4)
    for i, t in enumerate([1.0, 2.0, 3.0, 4.0]):
        heap_push(h, i, t, 0)
    heap_update(h, 3, 0.5, 0)  # decrease
    heap_update(h, 0, 3.5, 0)  # increase
    assert as_py(heap_peek(h)) == (3, 0.5, 0)
    assert [int(heap_pop(h)[0]) for _ in range(4)] == [3, 1, 2, 0]


def test_remove_and_cancel():
    h = heap_new(5)
    for i in range(5):
        heap_schedule(h, i, float(5 - i), 0)
    assert heap_remove(h, 4)  # the minimum
    assert heap_remove(h, 1)  # from the middle
    assert not heap_remove(h, 1)  # not pending any more
    assert int(heap_size(h)) == 3 and not heap_contains(h, 1)
    assert [int(heap_pop(h)[0]) for _ in range(3)] == [3, 2, 0]
    assert not heap_remove(h, 0)


def test_empty_heap():
    h = heap_new(2)
    assert int(heap_size(h)) == 0
    assert as_py(heap_peek(h)) == EMPTY
    assert as_py(heap_pop(h)) == EMPTY
    heap_schedule(h, 1, 3.0, 0)
    assert as_py(heap_pop(h)) == (1, 3.0, 0)
    assert as_py(heap_pop(h)) == EMPTY


def test_clear_resets_ids_and_sequence():
    h = heap_new(4)
    for i in range(4):
        heap_schedule(h, i, 1.0, 0)
    heap_clear(h)
    assert int(heap_size(h)) == 0 and list(h.pos) == [-1] * 4 and list(h.ids) == [-1] * 4
    heap_schedule(h, 2, 1.0, 0)
    assert int(h.seqs[2]) == 0
    heap_push(h, 0, 1.0, 0)
    assert [int(heap_pop(h)[0]) for _ in range(2)] == [2, 0]


def test_layout_of_a_new_heap():
    h = heap_new(3)
    assert isinstance(h, EventHeap)
    expected = {"times": np.float64, "kinds": np.int64, "seqs": np.int64, "ids": np.int64, "pos": np.int64}
    for name, dtype in expected.items():
        assert getattr(h, name).dtype == dtype and getattr(h, name).shape == (3,)
    assert h.meta.dtype == np.int64 and h.meta.shape == (2,)


def test_misuse_raises():
    h = heap_new(3)
    heap_push(h, 0, 1.0, 0)
    with pytest.raises(ValueError, match="already pending"):
        heap_push(h, 0, 2.0, 0)
    with pytest.raises(ValueError, match="not pending"):
        heap_update(h, 1, 2.0, 0)
    with pytest.raises(ValueError, match="out of range"):
        heap_schedule(h, 3, 2.0, 0)
    with pytest.raises(ValueError, match="out of range"):
        heap_remove(h, -1)
    with pytest.raises(ValueError, match="NaN"):
        heap_schedule(h, 1, math.nan, 0)
    assert int(heap_size(h)) == 1 and not heap_contains(h, 1)


@njit(cache=False)
def heapsort_in_kernel(times):
    """Build a heap inside njit code, as the kernel does, and drain it."""
    h = heap_new(times.shape[0])
    for i in range(times.shape[0]):
        heap_schedule(h, i, times[i], 0)
    order = np.empty(times.shape[0], dtype=np.int64)
    for k in range(times.shape[0]):
        order[k] = heap_pop(h)[0]
    return order


def test_heap_is_usable_from_njit_code():
    times = np.random.default_rng(3).integers(0, 30, size=500).astype(np.float64)
    assert heapsort_in_kernel(times).tolist() == np.argsort(times, kind="stable").tolist()


@pytest.mark.skipif(JIT_DISABLED, reason="already running without jit")
def test_heap_suite_without_jit():
    run_file_without_jit(__file__)
