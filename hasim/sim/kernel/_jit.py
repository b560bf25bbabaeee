"""The one numba policy of hasim.

Every kernel module decorates its functions with :func:`njit` (or
:func:`njit_parallel`) from here, never with ``numba.njit`` directly, so the
options live in one place:

* nopython mode only (``numba.njit``), no silent object-mode fallback;
* ``cache=True``: compiled machine code is written next to the module (or to
  ``NUMBA_CACHE_DIR``) and reused by later processes, keyed by a digest of
  *every* kernel source (:data:`KERNEL_SOURCES`), see "The cache key" below.
  Set the environment variable ``HASIM_NUMBA_CACHE=0`` (or ``false`` / ``no``
  / ``off``) before importing hasim to switch it off;
* ``nogil=True``: kernels release the GIL, so replicas can run in threads;
* ``fastmath=False``: results must not depend on reassociation, and NaN / inf
  must behave as IEEE 754 says;
* ``forceinline=False`` unless asked (:data:`inline`): numba passes a caller's ``forceinline`` on to
  the callees it compiles for it, so every dispatcher states its own.

``NUMBA_DISABLE_JIT=1`` keeps working: the decorators then hand back the plain
Python function, and :data:`JIT_DISABLED` tells kernels (see ``_rng.py``) to use
their pure-Python fallbacks where numpy scalars and machine integers differ.

Importing this module compiles nothing: ``numba.njit`` without a signature is
lazy and compiles on the first call.

The cache key
-------------
numba stamps a function's cache index with a hash of the one file that defines
it, but the machine code it stores also contains every function it calls
(linked in and inlined from other modules) and the module-level constants it
read (``compile.ACTIVE``, ``_output.DNS``, ...), frozen at compile time.  With
the kernel spread over several modules, an edit of a helper module would then
reuse stale machine code.  So every dispatcher made here gets a
:class:`KernelCache`: numba's own ``FunctionCache`` whose index stamp is the
pair (numba's stamp of the defining file, :data:`KERNEL_DIGEST`), the SHA-256
of the sources listed in :data:`KERNEL_SOURCES`.  An index with another stamp
is stale: numba recompiles and overwrites it (``tests/test_jit.py`` edits a
helper module of a copy of the package and checks that).
"""

from __future__ import annotations

import hashlib
import os

import numba
from numba.core.caching import FunctionCache, IndexDataCacheFile

__all__ = ["CACHE", "JIT_DISABLED", "KERNEL_DIGEST", "KERNEL_SOURCES", "OPTIONS", "KernelCache", "fast", "inline",
           "njit", "njit_parallel"]

_OFF = frozenset({"0", "false", "no", "off"})

#: Whether compiled kernels are cached on disk (``HASIM_NUMBA_CACHE=0`` disables).
CACHE: bool = os.environ.get("HASIM_NUMBA_CACHE", "1").strip().lower() not in _OFF

#: True when ``NUMBA_DISABLE_JIT=1``: "jitted" functions are plain Python.
JIT_DISABLED: bool = bool(numba.config.DISABLE_JIT)

#: The options every hasim kernel is compiled with (``numba.njit`` adds nopython).
OPTIONS: dict = {"cache": CACHE, "nogil": True, "fastmath": False, "forceinline": False}


_HERE = os.path.dirname(os.path.abspath(__file__))
#: The ``hasim`` package directory: :data:`KERNEL_SOURCES` are named relative to it.
_PACKAGE = os.path.dirname(os.path.dirname(_HERE))
#: Modules outside the kernel that key its cache too, relative to :data:`_PACKAGE`: the compiler,
#: whose ``CompiledModel`` is the layout every kernel signature is typed on.
_OUTSIDE = ("sim/compile.py",)


def _kernel_sources() -> tuple[str, ...]:
    """Every module of this package (``hasim/sim/kernel/``: the event loop, the mechanisms, the
    random streams, the output layout and this policy) and :data:`_OUTSIDE`, as paths relative to
    the ``hasim`` package (tests/_heap.py, the test oracle of the queue, is keyed by its own file)."""
    rel = os.path.relpath(_HERE, _PACKAGE).replace(os.sep, "/")
    names = {f"{rel}/{n}" for n in os.listdir(_HERE) if n.endswith(".py")}
    names.update(_OUTSIDE)
    return tuple(sorted(names))


#: Paths (relative to the ``hasim`` package, ``/``-separated) whose contents key the numba cache of
#: every kernel.
KERNEL_SOURCES: tuple[str, ...] = _kernel_sources()


def _digest(names) -> str:
    h = hashlib.sha256()
    for name in names:
        h.update(name.encode() + b"\0")
        with open(os.path.join(_PACKAGE, *name.split("/")), "rb") as f:
            h.update(f.read())
        h.update(b"\0")
    return h.hexdigest()


#: SHA-256 of :data:`KERNEL_SOURCES` (names and contents), computed once at import.
KERNEL_DIGEST: str = _digest(KERNEL_SOURCES)


class KernelCache(FunctionCache):
    """numba's per-function cache, its index stamped with :data:`KERNEL_DIGEST` as well as with the
    defining file's hash (see "The cache key" in the module docstring)."""

    def __init__(self, py_func):
        super().__init__(py_func)
        cf = self._cache_file
        self._cache_file = IndexDataCacheFile(cache_path=self._cache_path, filename_base=self._impl.filename_base,
                                              source_stamp=(cf._source_stamp, KERNEL_DIGEST))


def _jit(args, options):
    """``numba.njit(*args, **options)``, with a :class:`KernelCache` in place of numba's when
    ``options["cache"]`` (the dispatcher is created uncached, then given the cache before any
    compilation, as ``Dispatcher.enable_caching`` would)."""
    if not options.get("cache") or JIT_DISABLED:
        return numba.njit(*args, **options)
    options = {**options, "cache": False}

    def decorate(fn, sigs=()):
        dispatcher = numba.njit(**options)(fn)
        dispatcher._cache = KernelCache(dispatcher.py_func)
        for sig in sigs:
            dispatcher.compile(sig)
        return dispatcher

    if len(args) == 1 and callable(args[0]) and not isinstance(args[0], numba.core.types.Type):
        return decorate(args[0])
    if not args:
        return decorate
    sigs = args[0] if isinstance(args[0], (list, tuple)) else [args[0]]
    return lambda fn: decorate(fn, sigs)


def njit(*args, **overrides):
    """``numba.njit`` with the project options.

    Usable as ``@njit``, ``@njit()`` or ``@njit(signature)``; keyword arguments
    override :data:`OPTIONS` (benchmarks pass ``cache=False``).
    """
    return _jit(args, {**OPTIONS, **overrides})


def njit_parallel(*args, **overrides):
    """Like :func:`njit` with ``parallel=True`` (for kernels that use ``numba.prange``)."""
    return _jit(args, {**OPTIONS, "parallel": True, **overrides})


#: Decorator of the kernel's helpers that allocate nothing: compiled without numba's reference
#: counting (``_nrt=False``; with it, every array read from the model or scratch would be
#: increfed and decrefed, 30-90 ns per call) and without wrappers callable from Python.  Not cached
#: on disk: only the entry point is ever loaded, and its machine code holds every helper.  The
#: helpers take the model and scratch by reference (:mod:`._refs`), so a call that LLVM does not
#: inline passes a few pointers.
fast = njit(_nrt=False, no_cpython_wrapper=True, no_cfunc_wrapper=True, cache=False)
#: The same, always inlined into its callers by LLVM (``forceinline``: the function is compiled
#: once and marked ``alwaysinline``): the hot path (per-event helpers, the sweep, the queue).
#: numba's own IR inlining (``inline="always"``) re-ran its front end on every call site and
#: rebuilt the caller's definitions after each one, minutes of the cold compile (benchmarks/README.md).
inline = njit(_nrt=False, no_cpython_wrapper=True, no_cfunc_wrapper=True, forceinline=True, cache=False)


def unlinked_call(dispatcher, nargs: int):
    """``(call, link)`` for a jitted ``dispatcher`` of ``nargs`` arguments, to keep its machine code out
    of the intermediate libraries of a ``prange`` loop.

    numba links a callee's whole library into every caller's and optimises and compiles it again
    there; a ``prange`` body is two such libraries (the gufunc and its wrapper) between the event
    loop and the entry point, so the whole kernel went through LLVM twice more for nothing.
    ``call(*args)`` calls the dispatcher's compiled function by its symbol without linking it
    (the symbol resolves to the dispatcher's own library, already in numba's JIT); ``link()``, in
    the entry point, links the dispatcher's library there, so that the entry's machine code (the
    one that runs, and is cached) holds it.  Without the JIT: the plain function and a no-op.
    """
    if JIT_DISABLED:
        return dispatcher, (lambda: None)  # (numba.njit handed back the plain function)
    from numba.core import cgutils, types
    from numba.core.extending import intrinsic

    compiled = {}  # argument types -> compile result, for link()
    names = ", ".join(f"a{i}" for i in range(nargs))
    src = f"""
def call(typingctx, {names}):
    argtys = ({names},)
    dispatcher.compile(argtys)
    cres = dispatcher.overloads[argtys]
    compiled[argtys] = cres
    sig = cres.signature

    def codegen(context, builder, signature, args):
        fnty = context.call_conv.get_function_type(sig.return_type, sig.args)
        fn = cgutils.get_or_insert_function(builder.module, fnty, cres.fndesc.mangled_name)
        status, res = context.call_conv.call_function(builder, fn, sig.return_type, sig.args, args)
        with cgutils.if_unlikely(builder, status.is_error):
            context.call_conv.return_status_propagate(builder, status)
        return res

    return sig, codegen
"""
    ns = {"dispatcher": dispatcher, "compiled": compiled, "cgutils": cgutils}
    exec(src, ns)  # noqa: S102 - an intrinsic needs named parameters (numba's *args typing rejects pointers)

    def link(typingctx):
        def codegen(context, builder, signature, args):
            for cres in compiled.values():
                context.active_code_library.add_linking_library(cres.library)
            return context.get_dummy_value()

        return types.none(), codegen

    return intrinsic(ns["call"]), intrinsic(link)
