"""How the kernel passes its three big named tuples (model, scratch, output) around: by reference.

numba passes a tuple by value, flattened into one scalar argument per field of every array it
holds: the ~80-field model and the 41-field scratch make a signature of about 850 scalars.  Every
helper taking them paid for it in its cold compile (argument packing, typing and lowering of
the whole tuple, LLVM passes over it) and, when not inlined, in every call (about a kilobyte of
arguments copied).  And numba's ``prange`` hands every field of a tuple its body uses to the
parallel gufunc as one argument (~96 of them, whose LLVM took about a minute).

So:

* :func:`ref` stores a tuple once in its caller's frame and returns a :class:`TupleRef`, a plain
  pointer to it.  ``r.field`` on a ``TupleRef`` types and reads exactly as on the tuple (the
  helpers' code does not change), with one load marked ``!invariant.load`` (the tuple itself is
  never written, only its arrays' contents), which LLVM may hoist and merge across any store.
  The reference does not own the arrays: the caller keeps the tuple alive while it is in use,
  with :func:`keep_alive` after the reference's last use when the tuple is a local (an argument
  is kept alive by the caller's caller).  Reading a field of the tuple is not enough: numba's
  dead-code elimination drops a getattr or getitem whose value is unused (it has no side effect),
  and numba frees a local right after its last remaining use, which would then be ``ref`` itself
  -- the scratch's arrays were freed as the block began and reused by the next allocation, which
  on a Dask worker, whose other threads allocate while the kernel runs, corrupted the heap.
* so the ``prange`` body of :func:`hasim.sim.kernel._loop.simulate_replicas` gets two pointers
  (model, output), not one gufunc argument per array.

With ``NUMBA_DISABLE_JIT=1`` :func:`ref` hands back the tuple.
"""

from __future__ import annotations

import hashlib

from llvmlite import ir
from numba.core import cgutils, imputils, types
from numba.core.datamodel import models
from numba.core.extending import infer_getattr, intrinsic, lower_getattr_generic, register_model
from numba.core.typing.templates import AttributeTemplate

from ._jit import JIT_DISABLED

__all__ = ["TupleRef", "keep_alive", "ref"]


class TupleRef(types.Type):
    """A borrowed pointer to a named tuple stored in a caller's frame (see the module docstring)."""

    def __init__(self, tuple_type):
        self.tuple_type = tuple_type
        digest = hashlib.sha1(str(tuple_type).encode()).hexdigest()[:12]
        cls = getattr(tuple_type, "instance_class", None)
        super().__init__(name=f"Ref[{getattr(cls, '__name__', 'tuple')}#{digest}]")


@register_model(TupleRef)
class _TupleRefModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, dmm.lookup(fe_type.tuple_type).get_value_type().as_pointer())


@infer_getattr
class _TupleRefAttributes(AttributeTemplate):
    key = TupleRef

    def generic_resolve(self, typ, attr):
        tup = typ.tuple_type
        if attr in tup.fields:
            return tup.types[tup.fields.index(attr)]
        return None


@lower_getattr_generic(TupleRef)
def _tuple_ref_getattr(context, builder, typ, val, attr):
    tup = typ.tuple_type
    index = tup.fields.index(attr)
    ptr = builder.gep(val, [ir.Constant(ir.IntType(32), 0), ir.Constant(ir.IntType(32), index)], inbounds=True)
    loaded = builder.load(ptr)
    loaded.set_metadata("invariant.load", builder.module.add_metadata([]))
    return imputils.impl_ret_borrowed(context, builder, tup.types[index], loaded)


@intrinsic
def ref(typingctx, tup):
    """``ref(t)``: a :class:`TupleRef` to named tuple ``t``, stored in the caller's frame (valid
    until the caller returns; the caller keeps ``t``'s arrays alive)."""
    if not isinstance(tup, (types.NamedTuple, types.NamedUniTuple)):
        return None

    def codegen(context, builder, signature, args):
        return cgutils.alloca_once_value(builder, args[0])

    return TupleRef(tup)(tup), codegen


@intrinsic
def keep_alive(typingctx, tup):
    """``keep_alive(t)``: a use of ``t`` that no pass removes (a call to an intrinsic has a side
    effect as far as numba's dead-code elimination knows), so numba frees ``t`` only after it;
    it emits no code."""

    def codegen(context, builder, signature, args):
        return context.get_dummy_value()

    return types.none(tup), codegen


if JIT_DISABLED:  # plain Python: the tuple itself
    def ref(tup):  # noqa: F811
        return tup

    def keep_alive(tup):  # noqa: F811
        return None
