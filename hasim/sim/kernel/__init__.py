"""The numba event loop: replicas of a :class:`~hasim.compile.CompiledModel`, arrays in, arrays out.

:func:`simulate_replicas` runs replicas ``first_replica .. first_replica +
n_replicas - 1`` of a compiled scenario in parallel (``prange`` over blocks of
replicas; each block allocates its scratch once and reuses it).  Replica ``r``
draws only from streams derived from the xoshiro256** stream ``(seed,
first_replica + r)`` of :mod:`._rng`, and every tie in the event queue is
broken by ``(time, kind, seq)`` with ``seq`` restarted per replica, so a
replica's result does not depend on the thread count or on how replicas are
split into calls.

Within a replica every component (each instance, zone, shard's promotion draws,
health probe) has its own stream, seeded from the replica's first word and the
component's stable key (``src_key``: service, shard and replica number,
...).  A component's durations therefore depend only on its own laws:
halving one service's MTBF changes that service's history and what follows
from it, and leaves every other component's draws exactly as they were.
That is what makes common random numbers work in sensitivity runs,
comparisons and sweeps (a single stream per replica would hand the same
numbers to different components as soon as one event moved).

The semantics are the README's "Semantics, precisely"; where it is silent the
kernel makes the choices listed in :mod:`hasim.reference` (the SimPy engine it
is tested against), and it processes one instant the same way.

One replica
-----------
Everything starts up at time 0.  Pending events live in a :class:`._queue.Queue`
(the ordering contract of ``tests/_heap.py``, the queue's test oracle: a flat array scanned for its
minimum in models with few sources, an indexed 4-ary heap in large ones), one
slot per event source: instances, zones, one timer per shard (failover detection /
promotion / manual recovery, quorum election) and the auxiliary timers of the
delays (health probes, DNS ramps, caches).  An event changes one component;
the kernel then updates the affected shards, marks their services dirty and
re-evaluates dirty services in topological order (:func:`._sweep._sweep`),
propagating to parents only when something they read changed.  Before a
service is evaluated, its own mechanisms react to what its dependencies
became at this instant (a promotion that may start, a cache that starts
serving stale data, a router that sees a target fail or changes its DNS
answer), so no service ever sees a transient value of one below it.

Served fractions
----------------
Every service has a status (FULL: s = 1, ZERO: s = 0, PARTIAL) known
structurally, and a value.  Values are constant between events except during
a DNS ramp, where a router serves ``a + w(t) (m0 - a)`` with ``w`` linear in
time; a service that multiplies ramps is a polynomial in time.  Such
*varying* services (PARTIAL ones whose value depends on a ramp) are listed in
topological order with their polynomial degree, and every measure is
integrated exactly over each interval between events: constants in closed
form, varying services by Gauss-Legendre quadrature with enough nodes for
their degree (:data:`hasim.compile.GAUSS_NODES` nodes: exact to degree 31).
Nothing is time-stepped.

Root causes and stages
----------------------
When a service's status leaves FULL it opens an *episode* whose root cause is
the source of the event (an instance failure of service X: "X"; zone Z: "zone
Z"); at a timer (a cache expiring, a router switching) the cause is inherited
from the dependency whose degradation shows.  An outage of the entry takes its
episode's cause.  Lost request-hours ``(1 - s) dt`` are charged to that cause
and to the first stage of ``dns > detection > failover > zone > capacity >
stale-cache > repair`` that applies to a part the entry depends on
(:func:`._accounting._stage`): an expired cache is charged only when nothing above it is
still running (a zone outage that outlasts the cache's ttl is the zone's).

Performance notes: every helper is compiled without reference counting and
takes the model, scratch and output tuples by reference (:mod:`._refs`: a
pointer, whose fields read as the tuple's), so a call costs a few pointers
and the cold compile types and lowers small signatures.  The hot path
(instance events of active pools, the re-evaluation sweep, the queue, the
ziggurat sampler) is inlined into the event loop by LLVM (``_jit.inline``,
``forceinline``).  Consecutive events form one dependency chain (the next event is the
minimum of times that the last event's draw just changed), so the hot path
keeps loads off it: the law's row is read per instance, the id of the event
is passed rather than read back, the next event is found without
data-dependent branches.  Health probes cost one event per change of rotation
state, not one per probe (see :mod:`._healthcheck`).  What the cold compile
costs and why the kernel is laid out this way: benchmarks/README.md, "Issue 12:
the kernel split"

Outputs
-------
The arrays of :class:`._output.SimOutput` (row ``r`` is replica
``first_replica + r``), ``loss`` by root cause and stage.

Where things live
-----------------
==================  ==========================================================================
``_loop.py``        the event loop of one replica, its reset, ``simulate_replicas`` (``prange``)
``_queue.py``       the event queue (linear scan or indexed 4-ary heap)
``_work.py``        the scratch arrays of a replica (:class:`Work`)
``_codes.py``       event kinds, shard states, statuses, ``Work.ctl`` slots, the model's codes
``_shards.py``      instances and shards: availability, clocks ("Clocks"), own fraction, draws
``_events.py``      what an instance event and an auxiliary timer (probe, ramp, cache) do
``_failover.py``    standby promotion and quorum election ("Shard states"), their timers
``_healthcheck.py`` health probes of pools and routers
``_dns.py``         routers: DNS answers, ttl ramps, what a router serves
``_cache.py``       stale caches
``_zones.py``       zone failures and repairs
``_overload.py``    collapse under overload, client retries
``_hours.py``      daily load profiles: the need at this hour, when the hourly tick must run
``_day.py``        daily load profiles: request weights, the hourly tick
``_breakers.py``    timeouts (held workers) and circuit breakers, the load flow an open one cuts
``_sweep.py``       re-evaluation of the service graph, varying services, quadrature
``_accounting.py``  loss stages, SLO windows, the outage sample
``_rng.py``         xoshiro256** streams, ziggurat, the distributions, ``sample_key``
``_output.py``      the output arrays shared with the SimPy engine, the stage labels
``_splitting.py``   importance splitting (RESTART) of series of k-of-n pools, ``split_replicas``
``_refs.py``        how the three tuples are passed: by reference
``_jit.py``         the one numba policy and the cache keyed by every kernel source
==================  ==========================================================================

Importing this package imports numpy only (the output layout); the numba modules load on first
use of a name below that needs them (:func:`__getattr__`), and nothing compiles before a call.
"""

from __future__ import annotations

import importlib

from ._output import (CAPACITY, DETECTION, DNS, FAILOVER, REPAIR, STAGES, STALE_CACHE, ZONE, SimOutput,
                      new_output)

__all__ = ["BLOCK", "CAPACITY", "CODE_BY_NAME", "DETECTION", "DNS", "FAILOVER", "KernelOut", "REPAIR", "STAGES",
           "STALE_CACHE", "SimOutput", "ZONE", "new_output", "sample_key", "simulate_replicas", "split_replicas"]

#: The output arrays, shared with the SimPy engine (:mod:`._output`).
KernelOut = SimOutput

# name -> submodule, imported on first access (they import numba).  The queue's functions are
# here for tests/test_kernel.py, which checks them against tests/_heap.py.
_LAZY = {
    "simulate_replicas": "_loop", "BLOCK": "_loop", "split_replicas": "_splitting",
    "sample_key": "_rng", "CODE_BY_NAME": "_rng",
    "_queue_new": "_queue", "_qschedule": "_queue", "_qremove": "_queue", "_qtop": "_queue", "_qpop": "_queue",
    "_qreplace_top": "_queue",
}


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
