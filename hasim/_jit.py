"""The one numba policy of hasim.

Every kernel module decorates its functions with :func:`njit` (or
:func:`njit_parallel`) from here, never with ``numba.njit`` directly, so the
options live in one place:

* nopython mode only (``numba.njit``), no silent object-mode fallback;
* ``cache=True``: compiled machine code is written next to the module (or to
  ``NUMBA_CACHE_DIR``) and reused by later processes. Set the environment
  variable ``HASIM_NUMBA_CACHE=0`` (or ``false`` / ``no`` / ``off``) before
  importing hasim to switch it off, e.g. while editing a kernel: numba only
  notices changes to the file of the function it compiles, not to the
  functions it calls in other modules;
* ``nogil=True``: kernels release the GIL, so replicas can run in threads;
* ``fastmath=False``: results must not depend on reassociation, and NaN / inf
  must behave as IEEE 754 says.

``NUMBA_DISABLE_JIT=1`` keeps working: the decorators then hand back the plain
Python function, and :data:`JIT_DISABLED` tells kernels (see ``_rng.py``) to use
their pure-Python fallbacks where numpy scalars and machine integers differ.

Importing this module compiles nothing: ``numba.njit`` without a signature is
lazy and compiles on the first call.
"""

from __future__ import annotations

import os

import numba

__all__ = ["CACHE", "JIT_DISABLED", "OPTIONS", "njit", "njit_parallel", "is_cached"]

_OFF = frozenset({"0", "false", "no", "off"})

#: Whether compiled kernels are cached on disk (``HASIM_NUMBA_CACHE=0`` disables).
CACHE: bool = os.environ.get("HASIM_NUMBA_CACHE", "1").strip().lower() not in _OFF

#: True when ``NUMBA_DISABLE_JIT=1``: "jitted" functions are plain Python.
JIT_DISABLED: bool = bool(numba.config.DISABLE_JIT)

#: The options every hasim kernel is compiled with (``numba.njit`` adds nopython).
OPTIONS: dict = {"cache": CACHE, "nogil": True, "fastmath": False}


def njit(*args, **overrides):
    """``numba.njit`` with the project options.

    Usable as ``@njit``, ``@njit()`` or ``@njit(signature)``; keyword arguments
    override :data:`OPTIONS` (benchmarks pass ``cache=False``).
    """
    return numba.njit(*args, **{**OPTIONS, **overrides})


def njit_parallel(*args, **overrides):
    """Like :func:`njit` with ``parallel=True`` (for kernels that use ``numba.prange``)."""
    return numba.njit(*args, **{**OPTIONS, "parallel": True, **overrides})


def is_cached(dispatcher) -> bool:
    """Whether ``dispatcher`` has an on-disk cache index, i.e. the next call loads machine code
    instead of compiling (a cold compile of the simulation kernel takes minutes, worth saying).

    A stale index (the source changed since) still counts as cached: numba recompiles then.
    Best effort: False when caching is off or numba's cache layout is not the expected one.
    """
    if JIT_DISABLED or not CACHE:
        return JIT_DISABLED
    try:
        return os.path.exists(dispatcher._cache._cache_file._index_path)
    except AttributeError:  # another numba version: do not guess
        return True
