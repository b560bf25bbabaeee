"""Per-replica random streams (hasim.sim.kernel._rng): bit-exact generator, seeding, samplers.

The suite runs jitted; ``test_rng_suite_without_jit`` reruns this module with
``NUMBA_DISABLE_JIT=1`` (plain Python, where numpy uint64 overflow would warn and
``filterwarnings = error`` turns that into a failure) and
``test_pure_python_draws_are_bit_identical`` checks both modes give the same bits.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from hasim.sim.kernel import _rng
from hasim.sim.kernel._jit import JIT_DISABLED, njit as njit_test

from .conftest import run_file_without_jit

ROOT = Path(__file__).resolve().parents[1]
M64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15

# -- a pure-Python transcription of the reference C code (int arithmetic) ------
# xoshiro256starstar.c and splitmix64.c, Blackman & Vigna, https://prng.di.unimi.it/


def ref_rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & M64


def ref_xoshiro_next(s: list[int]) -> int:
    result = (ref_rotl((s[1] * 5) & M64, 7) * 9) & M64
    t = (s[1] << 17) & M64
    s[2] ^= s[0]
    s[3] ^= s[1]
    s[1] ^= s[2]
    s[0] ^= s[3]
    s[2] ^= t
    s[3] = ref_rotl(s[3], 45)
    return result


def ref_splitmix_next(x: int) -> tuple[int, int]:
    """One step of splitmix64: returns (new state, output)."""
    x = (x + GAMMA) & M64
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return x, z ^ (z >> 31)


def ref_seed(seed: int, stream: int) -> list[int]:
    """The documented seeding: h = splitmix64(seed); state = 4 splitmix64 outputs from h ^ stream."""
    _, h = ref_splitmix_next(seed & M64)
    x = h ^ (stream & M64)
    out = []
    for _ in range(4):
        x, z = ref_splitmix_next(x)
        out.append(z)
    return out


# Outputs of the reference C implementations, as published with the ports of the
# algorithms (e.g. the tests of the Rust crate rand_xoshiro).
PUBLISHED_XOSHIRO_FROM_1234 = [
    11520, 0, 1509978240, 1215971899390074240, 1216172134540287360,
    607988272756665600, 16172922978634559625, 8476171486693032832,
    10595114339597558777, 2904607092377533576,
]
PUBLISHED_SPLITMIX_FROM_1234567 = [
    6457827717110365317, 3203168211198807973, 9817491932198370423,
    4593380528125082431, 16408922859458223821,
]
PUBLISHED_SPLITMIX_FROM_0 = [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F, 0xF88BB8A8724C81EC]

SEEDS = [0, 1, 42, 2**32 + 7, 2**63 + 5, M64]
STREAMS = [0, 1, 7, 2**40, M64]


def state_of(words) -> np.ndarray:
    return np.array(words, dtype=np.uint64)


def u64(x: int) -> np.uint64:
    return np.uint64(x & M64)


def advanced(state: np.ndarray, n: int) -> np.ndarray:
    s = state.copy()
    for _ in range(n):
        _rng.next_u64(s)
    return s


# -- the transcription itself ---------------------------------------------------


def test_transcription_reproduces_published_outputs():
    s = [1, 2, 3, 4]
    assert [ref_xoshiro_next(s) for _ in range(10)] == PUBLISHED_XOSHIRO_FROM_1234
    for start, published in [(1234567, PUBLISHED_SPLITMIX_FROM_1234567), (0, PUBLISHED_SPLITMIX_FROM_0)]:
        x, got = start, []
        for _ in published:
            x, z = ref_splitmix_next(x)
            got.append(z)
        assert got == published


# -- generator and seeding are bit-exact ---------------------------------------


def test_next_u64_from_state_1234_matches_published():
    s = state_of([1, 2, 3, 4])
    assert [int(_rng.next_u64(s)) for _ in range(10)] == PUBLISHED_XOSHIRO_FROM_1234


@pytest.mark.parametrize("seed", SEEDS)
def test_next_u64_matches_reference(seed):
    for stream in STREAMS:
        words = ref_seed(seed, stream)
        s = state_of(words)
        ref = list(words)
        got = [int(_rng.next_u64(s)) for _ in range(500)]
        assert got == [ref_xoshiro_next(ref) for _ in range(500)]
        assert [int(w) for w in s] == ref


def test_next_u64_matches_reference_from_arbitrary_states():
    rng = np.random.default_rng(2024)
    for _ in range(20):
        words = [int(w) for w in rng.integers(0, 2**64, size=4, dtype=np.uint64)]
        s, ref = state_of(words), list(words)
        assert [int(_rng.next_u64(s)) for _ in range(200)] == [ref_xoshiro_next(ref) for _ in range(200)]


def test_mix64_is_the_splitmix64_output_function():
    x = 1234567
    for published in PUBLISHED_SPLITMIX_FROM_1234567:
        x = (x + GAMMA) & M64
        assert int(_rng.mix64(u64(x))) == published
    assert int(_rng.mix64(np.uint64(0))) == 0


@pytest.mark.parametrize("seed", SEEDS)
def test_seed_state_matches_reference(seed):
    for stream in STREAMS:
        out = np.zeros(4, dtype=np.uint64)
        _rng.seed_state(u64(seed), u64(stream), out)
        assert [int(w) for w in out] == ref_seed(seed, stream)


def test_seed_states_and_new_states_number_streams_consecutively():
    seed = 2**63 + 11
    out = np.zeros((5, 4), dtype=np.uint64)
    _rng.seed_states(u64(seed), u64(M64 - 1), out)  # the stream index wraps modulo 2**64
    expected = [ref_seed(seed, (M64 - 1 + i) & M64) for i in range(5)]
    assert out.tolist() == expected
    assert _rng.new_states(seed, 5, M64 - 1).tolist() == expected
    # new_states accepts any Python int: negative seeds wrap as two's complement.
    assert _rng.new_states(-1, 2, 3).tolist() == [ref_seed(M64, 3), ref_seed(M64, 4)]


def test_seeding_is_deterministic_and_streams_differ():
    a = _rng.new_states(7, 200)
    b = _rng.new_states(7, 200)
    assert np.array_equal(a, b)
    # Splitting replicas into chunks gives the same streams.
    assert np.array_equal(np.vstack([_rng.new_states(7, 120), _rng.new_states(7, 80, 120)]), a)
    states = np.vstack([_rng.new_states(seed, 200) for seed in range(10)])
    assert len({tuple(row) for row in states.tolist()}) == len(states)
    assert not np.any(np.all(states == 0, axis=1))
    firsts = [tuple(int(_rng.next_u64(row)) for _ in range(4)) for row in states]
    assert len(set(firsts)) == len(firsts)


def test_the_same_stream_gives_the_same_draws():
    a, b = _rng.new_states(99, 1)[0], _rng.new_states(99, 1)[0]
    assert [_rng.exponential(a, 3.0) for _ in range(100)] == [_rng.exponential(b, 3.0) for _ in range(100)]


# -- doubles --------------------------------------------------------------------


def state_giving(output: int) -> np.ndarray:
    """A state whose next xoshiro256** output is ``output`` (inverts rotl(s1 * 5, 7) * 9)."""
    y = (output * pow(9, -1, 2**64)) & M64
    s1_times_5 = ((y >> 7) | (y << 57)) & M64
    s1 = (s1_times_5 * pow(5, -1, 2**64)) & M64
    return state_of([123, s1, 456, 789])


def test_next_double_extremes():
    lo, hi = state_giving(0), state_giving(M64)
    assert _rng.next_u64(lo.copy()) == 0 and _rng.next_u64(hi.copy()) == M64
    assert _rng.next_double(lo.copy()) == 0.0
    assert _rng.next_double(hi.copy()) == 1.0 - 2.0**-53
    assert _rng.next_open_double(lo.copy()) == 2.0**-53
    assert _rng.next_open_double(hi.copy()) == 1.0 - 2.0**-53
    assert math.isfinite(_rng.exponential(lo.copy(), 1.0))
    assert _rng.exponential(hi.copy(), 1.0) > 0.0


def test_next_double_range_and_uniformity():
    s = _rng.new_states(5, 1)[0]
    u = np.array([_rng.next_double(s) for _ in range(20_000)])
    v = np.array([_rng.next_open_double(s) for _ in range(20_000)])
    assert u.min() >= 0.0 and u.max() < 1.0
    assert v.min() > 0.0 and v.max() < 1.0
    assert stats.kstest(u, "uniform").pvalue > 0.001
    assert stats.kstest(v, "uniform").pvalue > 0.001
    # the 53 bits are used: values are not on a coarse grid
    assert len(np.unique(u)) == len(u)


# -- samplers -------------------------------------------------------------------

N = 20_000
SAMPLERS = [
    ("exponential", lambda s: _rng.exponential(s, 720.0), stats.expon(scale=720.0)),
    ("weibull", lambda s: _rng.weibull(s, 1.7, 300.0), stats.weibull_min(1.7, scale=300.0)),
    ("weibull-infant", lambda s: _rng.weibull(s, 0.6, 2.0), stats.weibull_min(0.6, scale=2.0)),
    ("lognormal", lambda s: _rng.lognormal(s, math.log(4.0), 0.8), stats.lognorm(0.8, scale=4.0)),
    ("uniform", lambda s: _rng.uniform(s, 0.5, 8.0), stats.uniform(loc=0.5, scale=7.5)),
]


@pytest.mark.parametrize("name,draw,law", SAMPLERS, ids=[s[0] for s in SAMPLERS])
def test_sampler_matches_scipy(name, draw, law):
    s = _rng.new_states(20240601, 1)[0]
    x = np.array([draw(s) for _ in range(N)])
    assert stats.kstest(x, law.cdf).pvalue > 0.001
    assert abs(x.mean() - law.mean()) < 5 * law.std() / math.sqrt(N)


def test_standard_normal_matches_scipy():
    s = _rng.new_states(3, 1)[0]
    z = np.array([_rng.standard_normal(s) for _ in range(N)])
    assert stats.kstest(z, "norm").pvalue > 0.001


def test_fixed_returns_the_value_and_draws_nothing():
    s = _rng.new_states(1, 1)[0]
    before = s.copy()
    assert _rng.fixed(2.5) == 2.5
    assert _rng.sample(s, _rng.FIXED, 2.5, 0.0, 0.0, np.empty(0)) == 2.5
    assert np.array_equal(s, before)


def test_empirical_picks_uniformly_from_its_slice():
    pool = np.array([99.0, 1.0, 2.0, 3.0, 4.0, 5.0, 99.0])
    s = _rng.new_states(11, 1)[0]
    x = np.array([_rng.empirical(s, pool, 1, 5) for _ in range(N)])
    values, counts = np.unique(x, return_counts=True)
    assert values.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert stats.chisquare(counts).pvalue > 0.001
    assert {_rng.empirical(s, pool, 6, 1) for _ in range(20)} == {99.0}


def test_empirical_index_never_reaches_count():
    pool = np.arange(3.0)
    assert _rng.empirical(state_giving(M64), pool, 0, 3) == 2.0
    assert _rng.empirical(state_giving(0), pool, 0, 3) == 0.0


# (code, p0, p1, direct sampler, number of 64-bit draws consumed; None: the ziggurat's, see below)
DISPATCH = [
    (_rng.EXPONENTIAL, 5.0, 0.0, lambda s, pool: _rng.exponential(s, 5.0), None),
    (_rng.WEIBULL, 1.3, 40.0, lambda s, pool: _rng.weibull(s, 1.3, 40.0), None),
    (_rng.LOGNORMAL, 0.5, 1.2, lambda s, pool: _rng.lognormal(s, 0.5, 1.2), 2),
    (_rng.FIXED, 4.0, 0.0, lambda s, pool: _rng.fixed(4.0), 0),
    (_rng.UNIFORM, 1.0, 3.0, lambda s, pool: _rng.uniform(s, 1.0, 3.0), 1),
    (_rng.EMPIRICAL, 2.0, 3.0, lambda s, pool: _rng.empirical(s, pool, 2, 3), 1),
]


@pytest.mark.parametrize("code,p0,p1,direct,consumed", DISPATCH, ids=[str(d[0]) for d in DISPATCH])
def test_sample_dispatches_and_consumes_what_the_law_draws(code, p0, p1, direct, consumed):
    pool = np.array([0.0, 0.0, 7.0, 8.0, 9.0])
    for stream in range(50):
        a = _rng.new_states(8, 1, stream)[0]
        b = a.copy()
        start = a.copy()
        assert _rng.sample(a, code, p0, p1, 0.0, pool) == direct(b, pool)
        assert np.array_equal(a, b)
        if consumed is None:  # exactly what the standard exponential of the same bits takes
            _rng.standard_exponential(start)
            assert np.array_equal(a, start)
        else:
            assert np.array_equal(a, advanced(start, consumed))


# -- the ziggurat -------------------------------------------------------------------


def test_ziggurat_layers_all_have_the_same_area():
    """The tables define 256 regions of area v (Marsaglia & Tsang's construction): layer i >= 1 is
    [0, x_i) x [f(x_i), f(x_{i-1})], the base is [0, v / f(r)) x [0, f(r)] folded with the tail."""
    k, w, f, r = _rng._ZIG_K, _rng._ZIG_W, _rng._ZIG_F, _rng._ZIG_R
    x = w * 2.0**53  # right edges
    v = (r + 1.0) * math.exp(-r)  # base rectangle r * f(r) plus the tail's area f(r)
    areas = x[1:] * (f[:-1] - f[1:])
    assert np.allclose(areas, v, rtol=1e-13, atol=0.0)
    assert x[0] * f[255] == pytest.approx(v, rel=1e-14)
    assert x[255] == r and f[0] == 1.0 and k[1] == 0  # the top layer has nothing safely inside
    assert np.allclose(f[1:], np.exp(-x[1:]), rtol=1e-15)
    # accepted at once iff j < k[i], i.e. x < x_{i-1} (the base: x < r)
    assert np.allclose(k[2:] / 2.0**53, x[1:-1] / x[2:], rtol=1e-15)
    assert k[0] / 2.0**53 == pytest.approx(r / x[0], rel=1e-15)
    assert (np.diff(x[1:]) > 0).all()


@njit_test(cache=False)
def _many_standard_exponentials(n, s):
    out = np.empty(n)
    for i in range(n):
        out[i] = _rng.standard_exponential(s)
    return out


@pytest.mark.skipif(JIT_DISABLED, reason="2 million draws; the plain-Python draws are checked bit for bit")
def test_ziggurat_passes_a_fine_grained_goodness_of_fit():
    """2 million draws in 4096 equiprobable cells: a layer of the ziggurat drawn with the wrong
    width or height would move its 1/256 of the mass and fail this; so would a wrong tail."""
    x = _many_standard_exponentials(2_000_000, _rng.new_states(20261126, 1)[0])
    cells = np.minimum((-np.expm1(-x) * 4096).astype(np.int64), 4095)  # the CDF of each draw
    counts = np.bincount(cells, minlength=4096)
    assert stats.chisquare(counts).pvalue > 1e-4
    assert stats.kstest(x[:200_000], "expon").pvalue > 1e-4
    tail = x[x > _rng._ZIG_R]  # P(X > r) = exp(-r) = 4.5e-4: ~900 draws, memoryless beyond r
    assert abs(len(tail) - len(x) * math.exp(-_rng._ZIG_R)) < 5 * math.sqrt(len(x) * math.exp(-_rng._ZIG_R))
    assert stats.kstest(tail - _rng._ZIG_R, "expon").pvalue > 1e-4


def test_exponential_and_weibull_scale_the_same_standard_draw():
    """Common random numbers: the same bits give mean x E, and a Weibull of shape 1 is that exponential."""
    for stream in range(200):
        a = _rng.new_states(3, 1, stream)[0]
        b, c, d = a.copy(), a.copy(), a.copy()
        e = _rng.standard_exponential(a)
        assert _rng.exponential(b, 7.5) == 7.5 * e
        assert _rng.weibull(c, 1.0, 7.5) == 7.5 * e
        assert _rng.weibull(d, 2.0, 7.5) == 7.5 * e ** 0.5
        assert np.array_equal(a, b) and np.array_equal(a, c) and np.array_equal(a, d)


def test_ziggurat_takes_one_draw_almost_always():
    """A draw takes one 64-bit output when it lands inside its layer's safe part: with probability
    mean_i(x_{i-1} / x_i) = 97.8 %; the tail and the wedges take more."""
    p = (_rng._ZIG_K / 2.0**53).mean()
    assert 0.977 < p < 0.979
    s = _rng.new_states(5, 1)[0]
    n = 20_000
    one = 0
    for _ in range(n):
        before = s.copy()
        _rng.standard_exponential(s)
        one += np.array_equal(s, advanced(before, 1))
    assert abs(one / n - p) < 5 * math.sqrt(p * (1 - p) / n)


def test_sample_rejects_an_unknown_code():
    s = _rng.new_states(1, 1)[0]
    with pytest.raises(ValueError, match="unknown distribution code"):
        _rng.sample(s, 17, 1.0, 1.0, 0.0, np.empty(0))


def test_codes_cover_every_distribution():
    from hasim.model.distributions import DISTRIBUTION_NAMES

    assert set(_rng.CODE_BY_NAME) == set(DISTRIBUTION_NAMES)
    assert sorted(_rng.CODE_BY_NAME.values()) == list(range(len(DISTRIBUTION_NAMES)))


# -- jit policy and the plain-Python mode --------------------------------------


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    for key in ("NUMBA_DISABLE_JIT", "HASIM_NUMBA_CACHE"):
        if key not in env:
            full_env.pop(key, None)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=600)


no_nested_run = pytest.mark.skipif(JIT_DISABLED, reason="already running without jit")


@no_nested_run
def test_importing_kernels_compiles_nothing():
    code = (
        "import sys, numba, hasim\n"
        "assert 'hasim.sim.kernel._rng' not in sys.modules and 'hasim.sim.kernel._loop' not in sys.modules\n"
        "from hasim.sim.kernel import _jit, _rng\n"
        "from tests import _heap\n"
        "Dispatcher = numba.core.dispatcher.Dispatcher\n"
        "disp = [f for m in (_rng, _heap) for f in vars(m).values() if isinstance(f, Dispatcher)]\n"
        "assert len(disp) > 20, len(disp)\n"
        "assert all(not f.signatures for f in disp), [f for f in disp if f.signatures]\n"
        "print(_jit.CACHE, type(_rng.next_u64._cache).__name__)\n"
    )
    on = run_python(code)
    assert on.returncode == 0, on.stderr
    assert on.stdout.split() == ["True", "KernelCache"]  # numba's FunctionCache, keyed by all kernel sources
    off = run_python(code, HASIM_NUMBA_CACHE="0")
    assert off.returncode == 0, off.stderr
    assert off.stdout.split() == ["False", "NullCache"]


@no_nested_run
def test_pure_python_draws_are_bit_identical():
    code = (
        "import json, warnings\n"
        "warnings.simplefilter('error')\n"
        "import numpy as np\n"
        "from hasim.sim.kernel import _rng\n"
        "s = _rng.new_states(2**64 - 3, 1, 2**63)[0]\n"
        "pool = np.array([1.0, 2.0, 3.0])\n"
        "out = [float(_rng.sample(s, c, p0, p1, 0.0, pool)) for _ in range(200)"
        "       for c, p0, p1 in [(0, 2.0, 0), (1, 1.5, 3.0), (2, 0.1, 0.9), (3, 4.0, 0), (4, 1.0, 2.0), (5, 0, 3)]]\n"
        "state = [int(w) for w in s]\n"
        "print(json.dumps({'jit_disabled': _rng.JIT_DISABLED, 'state': state, 'draws': [x.hex() for x in out]}))\n"
    )
    proc = run_python(code, NUMBA_DISABLE_JIT="1")
    assert proc.returncode == 0, proc.stderr
    plain = json.loads(proc.stdout)
    assert plain["jit_disabled"] is True

    s = _rng.new_states(2**64 - 3, 1, 2**63)[0]
    pool = np.array([1.0, 2.0, 3.0])
    params = [(0, 2.0, 0.0), (1, 1.5, 3.0), (2, 0.1, 0.9), (3, 4.0, 0.0), (4, 1.0, 2.0), (5, 0.0, 3.0)]
    jitted = [float(_rng.sample(s, c, p0, p1, 0.0, pool)).hex() for _ in range(200) for c, p0, p1 in params]
    assert [int(w) for w in s] == plain["state"]
    assert jitted == plain["draws"]


@no_nested_run
def test_rng_suite_without_jit():
    run_file_without_jit(__file__)
