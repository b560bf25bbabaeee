"""Importance splitting (RESTART) for the unavailability of series of k-of-n pools: beyond five nines.

A design whose entry fails only when ``n - k + 1`` instances of a pool are down at once loses a
few seconds a decade; plain Monte Carlo needs millions of replica-years to see it.  RESTART
(Villén-Altamirano & Villén-Altamirano 1991, 2002; Garvels 2000) simulates the same process but
*splits* a trial each time it gets one failure closer to the outage: the importance of a state is
how many failures the design has absorbed, ``D - d`` where ``d = min over pools of (H - k + 1)``
is the number of further failures that take the entry down and ``D`` that number with everything
up (the structural importance function of Budde et al. 2020).  On entering level ``j`` a trial
spawns ``R_j - 1`` retrials from its state, each killed when it falls back below level ``j``
(the original goes on).  Every trial accumulates the entry's loss ``1 - s`` with weight
``1 / (R_1 ... R_L)`` for the level ``L`` it is at, which makes the estimate of the time-average
unbiased for any ``R`` (they only change the variance).

A retrial must not replay its parent's future: the state of an instance is its phase (up or in
repair) and its *age* in that phase, so each retrial redraws every residual time from the law
conditioned on that age (exponential: memoryless; Weibull, uniform: closed form; fixed: the rest
of the fixed time).  Lognormal and empirical laws have no closed conditional law and are refused
by :mod:`hasim.sim.rare`.

numpy and numba only; one random stream per replica (:func:`._rng.seed_state`), so the result is
the same for any number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from ._jit import njit, njit_parallel
from ._rng import EXPONENTIAL, FIXED, UNIFORM, WEIBULL, next_double, seed_state, standard_exponential

__all__ = ["split_replicas"]


@njit
def _residual(state, code, p0, p1, age):
    """A time to the next transition of a law ``code`` (parameters ``p0, p1``) already ``age`` old."""
    if code == EXPONENTIAL:
        return p0 * standard_exponential(state)
    if code == WEIBULL:
        # P(X > age + x | X > age) = exp((age/scale)^k - ((age + x)/scale)^k)
        return p1 * ((age / p1) ** p0 + standard_exponential(state)) ** (1.0 / p0) - age
    if code == FIXED:
        return max(p0 - age, 0.0)
    if code == UNIFORM:
        low = max(p0, age)
        return low + (p1 - low) * next_double(state) - age
    raise ValueError("splitting: unsupported distribution code")


@njit
def _level(up, inst_pool, pool_n, pool_k, top):
    """``(importance, loss, full)`` of a state: failures absorbed towards the outage, the entry's
    lost fraction ``1 - prod s_pool^mult`` is computed by the caller from ``full``."""
    n_pools = pool_n.shape[0]
    d = top
    for p in range(n_pools):
        h = 0
        for i in range(inst_pool.shape[0]):
            if inst_pool[i] == p and up[i]:
                h += 1
        dp = h - pool_k[p] + 1
        if dp < d:
            d = dp
    if d < 0:
        d = 0
    return top - d


@njit
def _served(up, inst_pool, pool_k, pool_mult):
    """The entry's served fraction: the product over pools of ``min(1, H / k) ** mult``."""
    s = 1.0
    for p in range(pool_k.shape[0]):
        h = 0
        for i in range(inst_pool.shape[0]):
            if inst_pool[i] == p and up[i]:
                h += 1
        f = min(1.0, h / pool_k[p])
        for _ in range(pool_mult[p]):
            s *= f
    return s


@njit
def _one_replica(seed, stream, laws, inst_pool, pool_n, pool_k, pool_mult, top, splits, weights, horizon,
                 max_frames, out_req, out_time, out_hits, out_rate, out_events, r):
    n = inst_pool.shape[0]
    rng = np.empty(4, dtype=np.uint64)
    seed_state(seed, stream, rng)
    # The stack of trials waiting to run: their state at the split and their birth level.
    st_t = np.empty(max_frames)
    st_birth = np.empty(max_frames, dtype=np.int64)
    st_up = np.empty((max_frames, n), dtype=np.uint8)
    st_next = np.empty((max_frames, n))
    st_since = np.empty((max_frames, n))
    up = np.ones(n, dtype=np.uint8)
    nxt = np.empty(n)
    since = np.zeros(n)
    for i in range(n):
        nxt[i] = _residual(rng, np.int64(laws[i, 0]), laws[i, 1], laws[i, 2], 0.0)
    sp = 0
    st_t[0] = 0.0
    st_birth[0] = 0
    st_up[0, :] = up
    st_next[0, :] = nxt
    st_since[0, :] = since
    sp = 1
    acc_req = 0.0
    acc_time = 0.0
    hits = 0
    rate = 0.0
    events = 0
    while sp > 0:
        sp -= 1
        t = st_t[sp]
        birth = st_birth[sp]
        up[:] = st_up[sp, :]
        nxt[:] = st_next[sp, :]
        since[:] = st_since[sp, :]
        level = _level(up, inst_pool, pool_n, pool_k, top)
        while True:
            i = 0
            tn = nxt[0]
            for j in range(1, n):
                if nxt[j] < tn:
                    tn = nxt[j]
                    i = j
            end = min(tn, horizon)
            if level == top and end > t:  # only the top level loses anything
                w = weights[level]
                acc_req += w * (1.0 - _served(up, inst_pool, pool_k, pool_mult)) * (end - t)
                acc_time += w * (end - t)
            if tn >= horizon:
                break
            t = tn
            events += 1
            # instance i changes phase: up -> repair (row 3..5 of laws) or back
            up[i] = 1 - up[i]
            since[i] = t
            base = 0 if up[i] else 3
            nxt[i] = t + _residual(rng, np.int64(laws[i, base]), laws[i, base + 1], laws[i, base + 2], 0.0)
            new = _level(up, inst_pool, pool_n, pool_k, top)
            if new < birth:
                break  # a retrial ends where it fell back below the level it was born at
            if new > level:
                if new == top:
                    hits += 1
                    rate += weights[level]  # one entry, made at the weight of the level it came from
                if splits[new] > 1:
                    # Depth first: park this trial as it is, then its retrials on top of it, so the
                    # stack never holds more than one set of retrials per level.
                    st_t[sp] = t
                    st_birth[sp] = birth
                    st_up[sp, :] = up
                    st_next[sp, :] = nxt
                    st_since[sp, :] = since
                    sp += 1
                    for _ in range(splits[new] - 1):
                        st_t[sp] = t
                        st_birth[sp] = new
                        for j in range(n):
                            st_up[sp, j] = up[j]
                            st_since[sp, j] = since[j]
                            base = 0 if up[j] else 3
                            st_next[sp, j] = t + _residual(rng, np.int64(laws[j, base]), laws[j, base + 1],
                                                           laws[j, base + 2], t - since[j])
                        sp += 1
                    break
            level = new
    out_req[r] = acc_req / horizon
    out_time[r] = acc_time / horizon
    out_hits[r] = hits
    out_rate[r] = rate
    out_events[r] = events


@njit_parallel
def split_replicas(seed, first_replica, n_replicas, laws, inst_pool, pool_n, pool_k, pool_mult, top, splits,
                   horizon, out_req, out_time, out_hits, out_rate, out_events):
    """RESTART replicas ``first_replica ..`` of a series of pools (see the module docstring).

    Parameters
    ----------
    seed, first_replica, n_replicas : uint64, int64, int64
        Replica ``i`` draws from stream ``(seed, first_replica + i)``.
    laws : float64[n_instances, 6]
        Failure law ``code, p0, p1`` then repair law ``code, p0, p1`` of every instance.
    inst_pool : int64[n_instances]
        The pool of every instance.
    pool_n, pool_k, pool_mult : int64[n_pools]
        Instances, instances needed for full service, and how many times the entry's served
        fraction multiplies the pool's (one per path from the entry).
    top : int64
        Failures the design absorbs before the entry is not fully up (the outage level).
    splits : int64[top + 1]
        ``R_j``: trials on entering level ``j`` (1: no split).
    horizon : float64
        Hours per replica.
    out_req, out_time : float64[n_replicas]
        Estimated request and time unavailability of each replica.
    out_hits, out_rate, out_events : int64, float64, int64 [n_replicas]
        Entries into the outage over all trials; their weighted count (outages estimated);
        events simulated.
    """
    weights = np.ones(top + 1)
    for j in range(1, top + 1):
        weights[j] = weights[j - 1] / splits[j]
    max_frames = 1
    for j in range(1, top + 1):
        max_frames += splits[j]  # one parked trial and R_j - 1 retrials per level, at most
    for r in prange(n_replicas):
        stream = np.uint64(first_replica) + np.uint64(r)
        _one_replica(seed, stream, laws, inst_pool, pool_n, pool_k, pool_mult, top, splits, weights, horizon,
                     max_frames, out_req, out_time, out_hits, out_rate, out_events, r)
