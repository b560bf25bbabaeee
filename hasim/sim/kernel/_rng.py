"""Per-replica random streams and the duration samplers of the kernel.

Generator
    xoshiro256** 1.0 (Blackman & Vigna, https://prng.di.unimi.it/), 256 bits of
    state, period 2**256 - 1. A state is a ``uint64`` array of shape ``(4,)``
    (or a row ``states[i]`` of an ``(n, 4)`` array) passed explicitly to every
    function: there is no global state and no global seeding.

Seeding
    :func:`seed_state` derives the state of stream ``stream`` (the replica
    index) under the user's ``seed`` with splitmix64: ``h`` = the first
    splitmix64 output from ``seed``, then the four state words are the first
    four splitmix64 outputs from ``h ^ stream``. Within one seed, distinct
    streams below 2**61 never share a splitmix64 input, so their states are
    distinct and their seeding sequences never overlap; the state is never all
    zero. A replica's draws depend on ``(seed, replica index)`` only, not on how
    replicas are split between chunks or threads.

Samplers
    ``exponential`` and ``weibull`` transform one standard exponential drawn
    by the ziggurat method (Marsaglia & Tsang 2000, 256 layers, the
    construction numpy's ``standard_exponential`` uses): one 64-bit output
    and a table lookup in 97.8 % of draws; a second output (and a ``log`` or
    ``exp``) in the rest, and a retry when that lands outside the curve.  How many outputs a draw
    takes depends only on the bits drawn, never on the law's parameters, so
    two runs whose laws differ only in parameters consume every component's
    stream identically (common random numbers line up, and a larger mean
    gives a proportionally longer duration from the same bits).  ``uniform``
    / ``empirical`` take 1 output (inverse CDF), ``fixed`` 0, ``lognormal`` 2
    (Box-Muller, cosine branch only; the sine branch is discarded because the
    state has no room to keep it).  A Weibull law of shape 1 draws exactly
    what the exponential law of the same mean draws.

    The ziggurat tables are computed at import in decimal arithmetic (40
    digits, correctly rounded to float64), so they are the same bits on every
    machine whatever its libm.

Codes for :func:`sample` (the compiled model stores a code and ``float64[3]``
parameters per distribution):

========== ==== ======================= ======================
law        code p0                      p1
========== ==== ======================= ======================
exponential  0  mean                    -
weibull      1  shape k                 scale
lognormal    2  mu (mean of log X)      sigma (sd of log X)
fixed        3  value                   -
uniform      4  low                     high
empirical    5  offset into ``samples`` count
========== ==== ======================= ======================

All 64-bit arithmetic wraps modulo 2**64. Under numba it is machine
arithmetic on ``uint64`` (every constant is a ``np.uint64``, as mixing
``uint64`` with ``int64`` gives ``float64`` or ``int64`` in numba); with
``NUMBA_DISABLE_JIT=1`` the additions and multiplications go through Python
integers masked to 64 bits, so no numpy overflow warning is raised and both
modes produce the same bits.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np

from ._jit import JIT_DISABLED, njit

__all__ = [
    "EXPONENTIAL", "WEIBULL", "LOGNORMAL", "FIXED", "UNIFORM", "EMPIRICAL", "CODE_BY_NAME",
    "new_states", "seed_state", "seed_states", "mix64", "next_u64", "next_double", "next_open_double",
    "standard_normal", "standard_exponential", "exponential", "weibull", "lognormal", "uniform", "fixed", "empirical",
    "sample", "sample_key",
]

EXPONENTIAL = 0
WEIBULL = 1
LOGNORMAL = 2
FIXED = 3
UNIFORM = 4
EMPIRICAL = 5

#: ``dist`` tag of :mod:`hasim.distributions` -> code for :func:`sample`.
CODE_BY_NAME = {
    "exponential": EXPONENTIAL,
    "weibull": WEIBULL,
    "lognormal": LOGNORMAL,
    "fixed": FIXED,
    "uniform": UNIFORM,
    "empirical": EMPIRICAL,
}

_MASK = (1 << 64) - 1
_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # splitmix64 increment (golden ratio)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_FIVE = np.uint64(5)
_NINE = np.uint64(9)
_S3 = np.uint64(3)
_S7 = np.uint64(7)
_S11 = np.uint64(11)
_S12 = np.uint64(12)
_S17 = np.uint64(17)
_S27 = np.uint64(27)
_S30 = np.uint64(30)
_S31 = np.uint64(31)
_S45 = np.uint64(45)
_S64 = np.uint64(64)
_TWO_M52 = 2.0**-52
_TWO_M53 = 2.0**-53
_TWO_PI = 2.0 * math.pi
_LOW8 = np.uint64(0xFF)

#: Functions the event loop calls per event are inlined into their callers (by LLVM:
#: ``forceinline``): a call passes the state array's struct and costs more than the xoshiro step
#: itself.
_hot = njit(forceinline=True)


# -- wrapping 64-bit arithmetic ------------------------------------------------
if JIT_DISABLED:
    # Plain Python: numpy warns on uint64 overflow, so go through Python ints.
    # (Shifts, xor, and, or never warn.)
    def _u64(x):
        """``x`` modulo 2**64 as ``np.uint64`` (negative ints wrap as in two's complement)."""
        return np.uint64(int(x) & _MASK)

    def _wadd(a, b):
        return np.uint64((int(a) + int(b)) & _MASK)

    def _wmul(a, b):
        return np.uint64((int(a) * int(b)) & _MASK)

else:

    @njit
    def _u64(x):
        return np.uint64(x)

    @njit
    def _wadd(a, b):
        return a + b

    @njit
    def _wmul(a, b):
        return a * b


@njit
def _rotl(x, k):
    """Rotate the uint64 ``x`` left by the uint64 ``k`` (0 < k < 64)."""
    return (x << k) | (x >> (_S64 - k))


# -- seeding ------------------------------------------------------------------
@njit
def mix64(z):
    """The splitmix64 output function (a bijection of uint64, ``mix64(0) == 0``).

    The splitmix64 generator is ``x += 0x9E3779B97F4A7C15; return mix64(x)``.
    """
    z = _u64(z)
    z = _wmul(z ^ (z >> _S30), _MIX1)
    z = _wmul(z ^ (z >> _S27), _MIX2)
    return z ^ (z >> _S31)


@njit
def seed_state(seed, stream, out):
    """Write the xoshiro256** state of stream ``stream`` under ``seed`` into ``out``.

    ``seed`` and ``stream`` are integers taken modulo 2**64; ``out`` is
    ``uint64[4]`` (e.g. a row of an ``(n, 4)`` array). See the module docstring.
    From Python, pass ``np.uint64`` values (or :func:`new_states`): once a
    numba dispatcher has an int64 signature it rejects Python ints >= 2**63
    with ``OverflowError``.
    """
    h = _wadd(_u64(seed), _GAMMA)
    x = mix64(h) ^ _u64(stream)
    for i in range(4):
        x = _wadd(x, _GAMMA)
        out[i] = mix64(x)
    # Cannot happen (mix64 is a bijection and the four inputs differ), but an
    # all-zero state would make xoshiro output zeros forever.
    if out[0] == _ZERO and out[1] == _ZERO and out[2] == _ZERO and out[3] == _ZERO:
        out[0] = _ONE


_SAMPLE_SALT = np.uint64(0xD1B54A32D192ED03)  # keeps sample keys apart from the seeding sequences


@njit
def sample_key(seed, replica, j):
    """A uniform 64-bit key of the ``j``-th outage of replica ``replica`` under ``seed``.

    The engines keep, per replica, the outages with the smallest keys: a uniform
    sample without replacement of that replica's outages (bottom-k sampling),
    drawn from no simulation stream (so keeping more or fewer changes no other
    number) and the same in every engine for the same ``(seed, replica)``.
    """
    x = mix64(_wadd(_u64(seed), _SAMPLE_SALT)) ^ _u64(replica)
    return mix64(_wadd(x, _wmul(_wadd(_u64(j), _u64(1)), _GAMMA)))


@njit
def seed_states(seed, first_stream, out):
    """Seed ``out[i]`` (``uint64[n, 4]``) as stream ``first_stream + i`` of ``seed``."""
    first = _u64(first_stream)
    for i in range(out.shape[0]):
        seed_state(seed, _wadd(first, _u64(i)), out[i])


def new_states(seed: int, n: int, first_stream: int = 0) -> np.ndarray:
    """A fresh ``uint64[n, 4]`` array holding streams ``first_stream .. first_stream + n - 1``.

    Any Python ints are accepted (taken modulo 2**64, so a large or negative
    seed is fine here).
    """
    out = np.empty((n, 4), dtype=np.uint64)
    seed_states(np.uint64(int(seed) & _MASK), np.uint64(int(first_stream) & _MASK), out)
    return out


# -- generator ----------------------------------------------------------------
@_hot
def next_u64(state):
    """Advance ``state`` (``uint64[4]``, updated in place) and return the next uint64."""
    s0 = state[0]
    s1 = state[1]
    s2 = state[2]
    s3 = state[3]
    result = _wmul(_rotl(_wmul(s1, _FIVE), _S7), _NINE)
    t = s1 << _S17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, _S45)
    state[0] = s0
    state[1] = s1
    state[2] = s2
    state[3] = s3
    return result


@_hot
def next_double(state):
    """A float64 in [0, 1): the top 53 bits of :func:`next_u64` times 2**-53."""
    return np.int64(next_u64(state) >> _S11) * _TWO_M53


@_hot
def next_open_double(state):
    """A float64 in (0, 1), safe for ``log``: ``(top 52 bits + 0.5) * 2**-52``.

    The smallest value is 2**-53 and the largest 1 - 2**-53.
    """
    return (np.int64(next_u64(state) >> _S12) + 0.5) * _TWO_M52


# -- samplers -----------------------------------------------------------------
def _ziggurat_tables():
    """``(k, w, f, r)`` of the 256-layer ziggurat of ``exp(-x)`` (Marsaglia & Tsang 2000).

    Layer ``i >= 1`` is the rectangle ``[0, x_i) x [f(x_i), f(x_{i-1})]`` with
    ``x_255 = r > ... > x_1 > x_0 = 0``, every layer and the base of area ``v``.
    Layer 0 is the base: ``[0, r) x [0, f(r)]`` and the tail beyond ``r``, laid
    out as ``[0, v / f(r))``.  A draw takes 53 bits ``j`` and a layer ``i``:
    ``x = j * w[i]`` is uniform on the layer's width, and accepted at once when
    ``j < k[i]`` (``x < x_{i-1}``: under the curve whatever the height).

    ``r`` solves ``v / x_1 + f(x_1) = 1`` with ``v = (r + 1) exp(-r)`` (found
    once by bisection at 60 digits; numpy's constant to its 29 digits).
    """
    with localcontext() as ctx:
        ctx.prec = 40
        r = Decimal("7.697117470131049714044628048015215499")
        v = (r + 1) * (-r).exp()
        x = [Decimal(0)] * 256
        x[255] = r
        for i in range(254, 0, -1):
            x[i] = -(v / x[i + 1] + (-x[i + 1]).exp()).ln()
        scale = Decimal(2) ** 53
        base = v / (-r).exp()
        k = np.zeros(256, dtype=np.uint64)
        w = np.zeros(256, dtype=np.float64)
        f = np.zeros(256, dtype=np.float64)
        k[0], w[0], f[0] = int(scale * r / base), float(base / scale), 1.0
        for i in range(1, 256):
            k[i], w[i], f[i] = int(scale * x[i - 1] / x[i]), float(x[i] / scale), float((-x[i]).exp())
        return k, w, f, float(r)


_ZIG_K, _ZIG_W, _ZIG_F, _ZIG_R = _ziggurat_tables()


@njit
def _exponential_slow(state, i, x):
    """The 2.2 % of ziggurat draws not accepted at once: the tail (layer 0) or a wedge; -1 to retry."""
    if i == 0:  # beyond r the law is r + a fresh exponential (memoryless)
        return _ZIG_R - math.log(next_open_double(state))
    if _ZIG_F[i] + next_double(state) * (_ZIG_F[i - 1] - _ZIG_F[i]) < math.exp(-x):
        return x
    return -1.0


@_hot
def standard_exponential(state):
    """Exponential law of mean 1 by the ziggurat method (see the module docstring)."""
    while True:
        u = next_u64(state)
        i = np.int64((u >> _S3) & _LOW8)
        j = u >> _S11
        x = np.int64(j) * _ZIG_W[i]
        if j < _ZIG_K[i]:
            return x
        x = _exponential_slow(state, i, x)
        if x >= 0.0:
            return x


@_hot
def exponential(state, mean):
    """Exponential law with the given mean: ``mean`` times :func:`standard_exponential`."""
    return mean * standard_exponential(state)


@njit
def weibull(state, shape, scale):
    """Weibull law ``scale * E ** (1 / shape)``, ``E`` standard exponential (the inverse CDF of
    ``1 - exp(-E)``)."""
    return scale * standard_exponential(state) ** (1.0 / shape)


@njit
def standard_normal(state):
    """N(0, 1) by Box-Muller, cosine branch (exactly two draws; |z| < 8.6)."""
    r = math.sqrt(-2.0 * math.log(next_open_double(state)))
    return r * math.cos(_TWO_PI * next_double(state))


@njit
def lognormal(state, mu, sigma):
    """``exp(mu + sigma * Z)`` with Z standard normal (two draws)."""
    return math.exp(mu + sigma * standard_normal(state))


@njit
def uniform(state, low, high):
    """Uniform law on [low, high) (one draw)."""
    return low + (high - low) * next_double(state)


@njit
def fixed(value):
    """The constant ``value`` (no draw)."""
    return value


@njit
def empirical(state, samples, offset, count):
    """One of ``samples[offset:offset + count]`` (``float64[:]``), each equally likely (one draw)."""
    k = np.int64(next_double(state) * count)
    if k >= count:  # guards rounding of u * count up to count
        k = count - 1
    return samples[offset + k]


@njit
def sample(state, code, p0, p1, p2, samples):
    """Draw from the law ``code`` (see the module table) with parameters ``p0, p1, p2``.

    ``state`` is ``uint64[4]``; ``code`` an int; ``p0..p2`` float64 (``p2`` is
    reserved, unused by the current laws); ``samples`` is the flat ``float64[:]``
    pool of every empirical law (may be empty when none is used).
    Raises ``ValueError`` for an unknown code.
    """
    if code == EXPONENTIAL:
        return exponential(state, p0)
    if code == WEIBULL:
        return weibull(state, p0, p1)
    if code == LOGNORMAL:
        return lognormal(state, p0, p1)
    if code == FIXED:
        return fixed(p0)
    if code == UNIFORM:
        return uniform(state, p0, p1)
    if code == EMPIRICAL:
        return empirical(state, samples, np.int64(p0), np.int64(p1))
    raise ValueError("unknown distribution code")
