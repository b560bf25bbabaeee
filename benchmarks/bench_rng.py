"""Draws per second of the kernel's random streams (hasim.sim.kernel._rng) in a tight njit loop.

    python benchmarks/bench_rng.py [n_draws]

The exponential sampler (ziggurat) is timed next to the inverse CDF it replaced,
``-mean * log(U)`` with libm's ``log``, on the same stream.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from hasim.sim.kernel import _rng
from hasim.sim.kernel._jit import njit


@njit(cache=False)
def sum_doubles(state, n):
    acc = 0.0
    for _ in range(n):
        acc += _rng.next_double(state)
    return acc


@njit(cache=False)
def sum_exponentials(state, n):
    acc = 0.0
    for _ in range(n):
        acc += _rng.exponential(state, 720.0)
    return acc


@njit(cache=False)
def sum_inverse_cdf(state, n):
    acc = 0.0
    for _ in range(n):
        acc += -720.0 * math.log(_rng.next_open_double(state))
    return acc


@njit(cache=False)
def sum_samples(state, code, p0, p1, samples, n):
    acc = 0.0
    for _ in range(n):
        acc += _rng.sample(state, code, p0, p1, 0.0, samples)
    return acc


def rate(fn, *args, n: int, repeats: int = 5) -> float:
    fn(*args[:-1], 1000)  # compile and warm up
    best = min(_timed(fn, *args) for _ in range(repeats))
    return n / best


def _timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def main(n: int = 20_000_000) -> None:
    state = _rng.new_states(1, 1)[0]
    pool = np.arange(1.0, 101.0)
    rows = [
        ("next_double", rate(sum_doubles, state, n, n=n)),
        ("exponential", rate(sum_exponentials, state, n, n=n)),
        ("-log(U) (libm, before)", rate(sum_inverse_cdf, state, n, n=n)),
    ]
    for name, code, p0, p1 in [
        ("sample(exponential)", _rng.EXPONENTIAL, 720.0, 0.0),
        ("sample(weibull)", _rng.WEIBULL, 1.5, 720.0),
        ("sample(lognormal)", _rng.LOGNORMAL, 1.0, 0.5),
        ("sample(empirical)", _rng.EMPIRICAL, 0.0, 100.0),
    ]:
        rows.append((name, rate(sum_samples, state, code, p0, p1, pool, n, n=n)))
    print(f"{'sampler':<24}{'draws/s':>14}")
    for name, r in rows:
        print(f"{name:<24}{r:>14.3e}")
    print(f"ziggurat / inverse CDF: {rows[1][1] / rows[2][1]:.2f}x")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000_000)
