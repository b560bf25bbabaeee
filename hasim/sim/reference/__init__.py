"""The SimPy reference engine: the README's "Semantics, precisely", one process per mechanism.

This engine is the readable oracle the numba kernel is checked against.  It is
built from the pydantic :class:`~hasim.model.scenario.Scenario` (never from
:mod:`hasim.sim.compile`'s arrays, so it also catches compile bugs) and fills the
same :class:`~hasim.sim.kernel._output.SimOutput` arrays.  It is slow (plain Python,
tens of thousands of events per second) and meant to be read:

=========================  =====================  ==============================================================
mechanism                  module                 process function (a method of ``engine.Replica``)
=========================  =====================  ==============================================================
instance life and repair   :mod:`.instances`      ``_instance_life`` (+ ``_run_clock``)
zone                       :mod:`.zones`          ``_zone_life``
standby failover           :mod:`.failover`       ``_standby_failover`` (+ ``_fail_over``)
quorum election            :mod:`.failover`       ``_quorum_election`` (+ ``_election_steps``)
health probes              :mod:`.health`         ``_health_probes`` (pools and router targets)
router / DNS answer        :mod:`.routers`        ``_dns``
cached dependency          :mod:`.caches`         ``_cache``
=========================  =====================  ==============================================================

The rest of the package: :mod:`.static` (the model every replica shares: names ->
indices), :mod:`.state` (the priorities, the :class:`~.state.Timer` and
:class:`~.state.Soon` events, the runtime objects, the per-replica state and the
settle heap), :mod:`.evaluation` (the settle step, served fractions, root causes),
:mod:`.measures` (integration, attribution by cause and stage, windows, the outage
sample) and :mod:`.engine` (:class:`~.engine.Replica`, which mixes all of these
together, :func:`~.engine.simulate_reference` and :func:`~.engine.trace`).  This
``__init__`` imports nothing: import :mod:`hasim.sim.reference.engine`.

How one instant is processed
----------------------------
Every timed event (a *primary* event: a clock running out, a probe, a
failover timer) is a :class:`~.state.Timer`, a SimPy event that schedules itself when
created (like ``simpy.Timeout``) at ``(time, priority, sequence)`` where the
priority is its kind -- zone < instance < shard timer < service timer, the
kernel's tie-break -- and the sequence is SimPy's scheduling counter.
Before a primary event is handed to its process, the measures are integrated
up to its time (``_advance``, :mod:`.measures`; the state has not changed
yet).  Its process changes the state and wakes the processes that must react
at the same instant (SimPy's own URGENT / NORMAL priorities,
which come before every primary kind).  Then ``_settle`` (:mod:`.evaluation`; a
:class:`~.state.Soon` event of priority ``SETTLE``, after those) re-evaluates the
dirty services in topological order, lowest index first; when a service's
mechanism must act before its value is known (a promotion that may start, a
cache that starts serving stale, a router whose answer changes) the settle
wakes that process and resumes after it ran, so no service ever sees a
transient value of one below it.  When the sweep is done,
``_record`` (:mod:`.measures`) opens or closes an outage.  All of this happens
before the next primary event, even one at the same time.

Served fractions are constant between events except during DNS ramps, where
a router's value is linear in time; products of ramps are polynomials, which
``_advance`` integrates exactly by Gauss-Legendre quadrature of
sufficient degree.

Choices where the README is silent (the kernel should make the same ones)
-------------------------------------------------------------------------
* A failover router that sees no target up answers with its first target,
  like Route 53 treating all records as healthy (``weighted`` answers all).
* An instance in a down zone fails its probes like a failed one.
* The first probe of a router's target is at a uniformly random phase drawn
  per (router, target); a pool's per instance.
* When several instances of a NO_STANDBY / FAILED standby shard come back at
  the same instant (a zone recovers), the lowest-index one becomes active.
* Stage ``detection`` for a health-checked pool only when it has no
  ``retry`` (with ``retry`` a failed-but-routed instance loses nothing).
* The root cause of an outage that starts at a component event is that
  component; at a timer (a cache expiring, a router switching to a degraded
  target) it is inherited from the dependency whose degradation shows.
"""
