"""Borrowed tuple references (:mod:`hasim.sim.kernel._refs`): the referenced tuple outlives its uses.

The kernel's ``prange`` body allocates one scratch per block and hands the replicas a
:func:`ref` to it.  Before :func:`keep_alive`, numba dropped the only later use of the scratch
(a dead ``getattr``) and freed its arrays as the block began; the next allocation of the same
size then received the same memory.  In one process nothing else allocated and results stayed
right; on a Dask worker, whose threads allocate while the kernel runs, the heap was corrupted
(crashed workers, a wrong replica, a hung run).  The probe below is that pattern, reduced: each
replica allocates an array of the scratch's size and records both addresses.  Without
``keep_alive`` it sees the scratch's address handed out again from the second replica on.
"""

from collections import namedtuple

import numpy as np
import pytest

numba = pytest.importorskip("numba")

from numba import prange  # noqa: E402

from hasim.sim.kernel._jit import JIT_DISABLED  # noqa: E402
from hasim.sim.kernel._refs import keep_alive, ref  # noqa: E402

pytestmark = pytest.mark.skipif(JIT_DISABLED, reason="references are plain tuples without the JIT")

Scratch = namedtuple("Scratch", ["a", "b"])


@numba.njit(cache=False)
def _replica(wr, out, b, r):
    junk = np.full(wr.a.size, 7.0)  # the size of the scratch's arrays: a freed one would be reused
    out[b, r, 0] = wr.a.ctypes.data
    out[b, r, 1] = junk.ctypes.data
    wr.a[r] += 1.0
    wr.b[r] += junk[r]


@numba.njit(inline="always", cache=False)
def _block(n, out, b):
    w = Scratch(np.zeros(n), np.zeros(n))
    wr = ref(w)
    for r in range(out.shape[1]):
        _replica(wr, out, b, r)
    out[b, 0, 2] = wr.a.sum() * 100 + wr.b.sum()
    keep_alive(w)


@numba.njit(parallel=True, cache=False)
def _blocks(n_blocks, n_replicas, n):
    out = np.zeros((n_blocks, n_replicas, 3), dtype=np.int64)
    for b in prange(n_blocks):
        _block(n, out, b)
    return out


@pytest.mark.parametrize("n", [16, 1000, 100_000])
def test_the_scratch_is_not_freed_while_a_reference_to_it_is_in_use(n):
    out = _blocks(3, 4, n)
    scratch, fresh = out[..., 0], out[..., 1]
    assert (scratch == scratch[:, :1]).all(), "every replica of a block sees the same scratch"
    assert not np.isin(fresh, scratch).any(), "memory of the scratch was handed out while it was in use"
    assert (out[:, 0, 2] == 4 * 100 + 4 * 7).all()
