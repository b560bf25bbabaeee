"""The kernel's event queue, in both layouts (linear scan and 4-ary heap), against tests/_heap.py
(the reference ordering: time, kind, seq); and the layouts give bit-identical simulations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hasim.sim import kernel as _kernel
from hasim.sim.kernel._jit import njit
from hasim.sim.compile import compile_scenario
from hasim.model.io import load as load_scenario

from ._heap import heap_new, heap_pop, heap_remove, heap_schedule

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

CAP = 40


@njit(cache=False)
def _apply(ops, times, kinds, cap, scan):
    """Apply ops to both queues (ids < cap); return the pop sequences (id, time, kind) of each."""
    q = _kernel._queue_new(cap, scan)
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
            j, t, k = _kernel._qtop(q)
            if j >= 0:
                got[n, 0] = j
                got[n, 1] = t
                got[n, 2] = k
                _kernel._qpop(q, j)
            j, t, k = heap_pop(h)
            if j >= 0:
                want[n, 0] = j
                want[n, 1] = t
                want[n, 2] = k
        else:  # reschedule the top in place
            j, t, kind = _kernel._qtop(q)
            if j >= 0:
                _kernel._qreplace_top(q, j, times[n])
                heap_schedule(h, j, times[n], kind)
        if q.meta[0] != h.meta[0]:  # pending counts agree after every operation
            got[n, 0] = -99.0
    return got, want


ops_strategy = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, CAP - 1),
              st.sampled_from([0.0, 1.0, 1.5, 2.0, 7.25, 100.0]), st.integers(0, 3)),
    min_size=1, max_size=300)


LAYOUTS = pytest.mark.parametrize("scan", [True, False], ids=["scan", "heap"])


@LAYOUTS
@settings(max_examples=60, deadline=None)
@given(ops=ops_strategy)
def test_queue_matches_the_reference_heap(scan, ops):
    arr = np.array([[o, i] for o, i, _, _ in ops], dtype=np.int64)
    times = np.array([t for _, _, t, _ in ops])
    kinds = np.array([k for _, _, _, k in ops], dtype=np.int64)
    got, want = _apply(arr, times, kinds, CAP, scan)
    np.testing.assert_array_equal(got, want)


@LAYOUTS
def test_queue_many_random_ties(scan):
    rng = np.random.default_rng(1)
    n = 5000
    ops = np.stack([rng.integers(0, 4, n), rng.integers(0, CAP, n)], axis=1).astype(np.int64)
    times = rng.integers(0, 5, n).astype(np.float64)  # many exact ties
    kinds = rng.integers(0, 3, n).astype(np.int64)
    got, want = _apply(ops, times, kinds, CAP, scan)
    np.testing.assert_array_equal(got, want)


@LAYOUTS
@pytest.mark.parametrize("size", [1, 2, 5, 17, 300])
def test_queue_pops_in_order(scan, size):
    rng = np.random.default_rng(size)
    ops = np.array([[0, i] for i in range(size)] + [[2, 0]] * size, dtype=np.int64)
    times = np.concatenate([rng.exponential(10, size), np.zeros(size)])
    kinds = np.zeros(2 * size, dtype=np.int64)
    got, want = _apply(ops, times, kinds, size, scan)
    popped = got[size:, 1]
    assert (np.diff(popped) >= 0).all()
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("path", sorted(p.name for p in SCENARIOS.iterdir() if p.suffix in (".yaml", ".toml")))
def test_both_layouts_simulate_the_same_bits(path):
    """Every shipped scenario (fixed-duration ties included, through the exact-match cases of
    test_cross_engine) pops the same events in either layout: the layout is only a speed choice."""
    model = compile_scenario(load_scenario(SCENARIOS / path)).model
    outs = []
    for scan in (True, False):
        m = model._replace(scan_queue=scan)
        out = _kernel.new_output(24, m.n_causes, m.n_services, 12, 8, m.n_alerts)
        _kernel.simulate_replicas(m, np.uint64(5), np.int64(0), np.int64(24), 8760.0, 730.0, np.int64(12), 0.999,
                                  0.0, out)
        outs.append(out)
    for name, a, b in zip(outs[0]._fields, outs[0], outs[1]):
        np.testing.assert_array_equal(a, b, err_msg=name)
    assert outs[0].events.sum() > 0
