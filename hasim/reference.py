"""The SimPy reference engine: the README's "Semantics, precisely", one process per mechanism.

This engine is the readable oracle the numba kernel is checked against.  It is
built from the pydantic :class:`~hasim.model.Scenario` (never from
:mod:`hasim.compile`'s arrays, so it also catches compile bugs) and fills the
same :class:`~hasim.sim.kernel._output.SimOutput` arrays.  It is slow (plain Python,
tens of thousands of events per second) and meant to be read:

=========================  ===============================================================
mechanism                  process function
=========================  ===============================================================
instance life              :meth:`_Replica._instance_life` (+ :meth:`_Replica._run_clock`)
zone                       :meth:`_Replica._zone_life`
standby failover           :meth:`_Replica._standby_failover` (+ :meth:`_Replica._fail_over`)
quorum election            :meth:`_Replica._quorum_election`
health probes              :meth:`_Replica._health_probes` (pools and router targets)
router / DNS answer        :meth:`_Replica._dns`
cached dependency          :meth:`_Replica._cache`
=========================  ===============================================================

How one instant is processed
----------------------------
Every timed event (a *primary* event: a clock running out, a probe, a
failover timer) is a :class:`_Timer`, a SimPy event that schedules itself when
created (like ``simpy.Timeout``) at ``(time, priority, sequence)`` where the
priority is its kind -- zone < instance < shard timer < service timer, the
kernel's tie-break -- and the sequence is SimPy's scheduling counter.
Before a primary event is handed to its process, the measures are integrated
up to its time (:meth:`_Replica._advance`, the state has not changed yet).  Its process changes the state and wakes the processes that
must react at the same instant (SimPy's own URGENT / NORMAL priorities,
which come before every primary kind).  Then :meth:`_Replica._settle` (a
:class:`_Soon` event of priority ``_SETTLE``, after those) re-evaluates the
dirty services in topological order, lowest index first; when a service's
mechanism must act before its value is known (a promotion that may start, a
cache that starts serving stale, a router whose answer changes) the settle
wakes that process and resumes after it ran, so no service ever sees a
transient value of one below it.  When the sweep is done,
:meth:`_Replica._record` opens or closes an outage.  All of this happens
before the next primary event, even one at the same time.

Served fractions are constant between events except during DNS ramps, where
a router's value is linear in time; products of ramps are polynomials, which
:meth:`_Replica._advance` integrates exactly by Gauss-Legendre quadrature of
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

from __future__ import annotations

import math
import time
from heapq import heappop, heappush
from typing import Callable

import numpy as np
import simpy

from .sim.kernel._output import (CAPACITY, DETECTION, DNS, FAILOVER, REPAIR, STALE_CACHE, ZONE, SimOutput,
                      new_output)
from .sim.kernel._rng import sample_key
from ._settings import MASK64, keep_windows as _keep_windows, n_windows
from .durations import parse_duration
from .model import Scenario
from .results import DEFAULT_SLO
from .structure import cause_labels, needed, reach, reads

__all__ = ["simulate_reference", "trace"]

# --- priorities of SimPy events at one instant (SimPy's own URGENT = 0 and NORMAL = 1 come first)
_SETTLE = 2
KIND_ZONE = 3
KIND_INSTANCE = 4
KIND_SHARD_TIMER = 5
KIND_SERVICE_TIMER = 6

# --- served-fraction status on the open interval after the last event
FULL, PARTIAL, ZERO = "full", "partial", "zero"

# --- shard states (standby / quorum)
UP = "up"
DETECT = "detect"
WAIT_REQ = "wait-requires"
PROMOTE = "promote"
FAILED = "promotion-failed"
NO_STANDBY = "no-standby"
ELECT = "elect"
NO_LEADER = "no-leader"
REGAINED = "majority-regained"
_FAILOVER_STATES = frozenset({DETECT, WAIT_REQ, PROMOTE, FAILED, ELECT, REGAINED})

# --- cache states
FRESH, SERVING, EXPIRED = "fresh", "serving-stale", "expired"

_MAX_PAUSES = 10_000


# =============================================================================================
# The static model: names -> indices, computed once per run
# =============================================================================================


class _Model:
    """What every replica shares: services in topological order, placement, parents, reach."""

    def __init__(self, sc: Scenario):
        self.sc = sc
        self.order = sc.topological_order()
        self.index = {name: i for i, name in enumerate(self.order)}
        self.zones = list(sc.zones)
        self.zindex = {z: i for i, z in enumerate(self.zones)}
        self.causes, _ = cause_labels(sc)
        S, Z = len(self.order), len(self.zones)
        self.entry = self.index[sc.entry]
        # Zones: the zones each zone lies within (its chain) and those within it (descendants).
        chains = [[self.zindex[c] for c in sc.zone_chain(z)] for z in self.zones]
        self.zone_desc = [[d for d in range(Z) if z in chains[d]] for z in range(Z)]
        # Instances: services in order, shards, replicas; spread round-robin over the zones.
        self.instances = []  # (service index, shard number, innermost zone or -1)
        for v, name in enumerate(self.order):
            svc = sc.services[name]
            if svc.has_instances:
                for sh in range(svc.shards):
                    for i in range(svc.replicas):
                        z = self.zindex[svc.zones[i % len(svc.zones)]] if svc.zones else -1
                        self.instances.append((v, sh, z))
        # Who reads a service's state: dependencies, router targets, failover.requires.
        read_by = reads(sc)
        self.reads = [[self.index[d] for d in read_by[name]] for name in self.order]
        self.parents = [[] for _ in range(S)]
        for v in range(S):
            for u in self.reads[v]:
                self.parents[u].append(v)
        needed = reach(sc)
        self.reach = [name in needed for name in self.order]
        # Zones that hold instances of a reachable service (stage "zone").
        self.zone_matters = [False] * Z
        for v, _, z in self.instances:
            if z >= 0 and self.reach[v]:
                for c in chains[z]:
                    self.zone_matters[c] = True


# =============================================================================================
# Runtime objects of one replica
# =============================================================================================


class _Signal:
    """Wakes the process waiting on it.  A fire with nobody waiting is dropped: waiters re-read the state."""

    __slots__ = ("env", "event")

    def __init__(self, env):
        self.env = env
        self.event = None

    def wait(self):
        self.event = self.env.event()
        return self.event

    def fire(self, value=None):
        ev = self.event
        if ev is not None and not ev.triggered:
            ev.succeed(value)


class _Timer(simpy.Event):
    """A primary event: triggered when created, like :class:`simpy.Timeout`, and scheduled ``delay``
    hours from now with priority ``kind`` (its rank among events at the same instant).

    ``on_primary`` runs first among its callbacks (before the process waiting on it resumes).
    A timer is never removed from SimPy's queue: ``cancelled`` makes it a no-op when it comes up
    (its process no longer waits on it).  ``at`` is its time, ``cause`` the root-cause index an
    outage starting at it is charged to (None: inherited, see :meth:`_Replica._inherit`).
    """

    def __init__(self, env: simpy.Environment, kind: int, delay: float, cause: int | None,
                 on_primary: Callable[[simpy.Event], None]):
        # As in simpy.Timeout: Event.__init__ inlined, the event triggered (ok, no value) at creation.
        self.env = env
        self.callbacks = [on_primary]
        self._ok = True
        self._value = None
        self.cancelled = False
        self.cause = cause
        self.at = env.now + delay
        env.schedule(self, kind, delay)


class _Soon(simpy.Event):
    """Runs ``callback`` at the current instant, after SimPy's URGENT and NORMAL events and the
    earlier ones of the same ``priority`` (the engine's settle step, :data:`_SETTLE`), before any
    primary event of this instant.  Triggered when created, like :class:`simpy.events.Initialize`."""

    def __init__(self, env: simpy.Environment, priority: int, callback: Callable[[simpy.Event], None]):
        self.env = env
        self.callbacks = [callback]
        self._ok = True
        self._value = None
        env.schedule(self, priority)


class _Instance:
    __slots__ = ("index", "shard", "zone", "up", "available", "routed", "proc", "clock_speed", "interrupting",
                 "probe", "label")

    def __init__(self, index, shard, zone, label):
        self.index, self.shard, self.zone, self.label = index, shard, zone, label
        self.up = True
        self.available = True       # up, with every zone of its chain up
        self.routed = True          # in the load balancer's rotation (always, without health_check)
        self.proc = None
        self.clock_speed = None     # speed of the running clock; None while the process is not in one
        self.interrupting = False
        self.probe = None           # _Signal of its health-probe process


class _Shard:
    __slots__ = ("service", "instances", "available", "routed_up", "routed_down", "state", "active", "changed",
                 "may_promote", "label")

    def __init__(self, service, label):
        self.service, self.label = service, label
        self.instances: list[_Instance] = []
        self.available = 0          # up, with every zone of the chain up
        self.routed_up = 0          # available and routed (health-checked pools)
        self.routed_down = 0        # not available but still routed
        self.state = UP
        self.active = None          # standby: the active instance; quorum: the leader
        self.changed = None         # _Signal: (lost, gained) instances
        self.may_promote = None     # _Signal: fired by the settle when failover.requires all serve > 0

    def lowest_available(self, among=None):
        """The available instance of lowest index (among ``among`` if given), or None."""
        for inst in self.instances if among is None else sorted(among, key=lambda i: i.index):
            if inst.available:
                return inst
        return None


class _Router:
    __slots__ = ("route", "targets", "weights", "seen_up", "answer", "mix0", "t0", "changed", "desired", "ttl",
                 "stale", "stale_for", "ends", "hc", "probes")

    def __init__(self, svc, targets, env):
        self.route = svc.route
        self.targets = targets
        self.weights = list(svc.weights or [1.0] * len(targets))
        self.seen_up = [True] * len(targets)
        self.answer = None          # raw weight per target (0: not in the answer)
        self.desired = None
        self.mix0 = None            # normalised client mixture when the current answer was given (ramping)
        self.t0 = 0.0
        self.changed = _Signal(env)          # the settle found a new answer: wakes _dns
        self.probes: list[_Signal] = []      # per target: wakes its health-probe process
        self.hc = svc.health_check
        dns = svc.dns
        self.ttl = dns.ttl if dns else 0.0
        self.stale = dns.stale_fraction if dns else 0.0
        self.stale_for = dns.stale_for if dns and self.stale > 0 else 0.0
        self.ends = sorted({e for e in (self.ttl, self.stale_for) if e > 0})

    def weight(self, t: float) -> float:
        """Share of clients still on the previous mixture at time ``t`` (right-continuous)."""
        tau = t - self.t0
        w = (1.0 - self.stale) * max(0.0, 1.0 - tau / self.ttl) if self.ttl > 0 else 0.0
        if tau < self.stale_for:
            w += self.stale
        return w

    def answer_for(self, seen_up) -> list[float]:
        """Raw weight of every target in the DNS answer, given the targets the router sees up."""
        up = [i for i, s in enumerate(seen_up) if s]
        if self.route == "weighted":           # seen up by weight; none seen up: all of them
            chosen = set(up or range(len(self.targets)))
            return [self.weights[i] if i in chosen else 0.0 for i in range(len(self.targets))]
        first = up[0] if up else 0             # the first seen up; none: the first (all "healthy")
        return [1.0 if i == first else 0.0 for i in range(len(self.targets))]


class _Cache:
    __slots__ = ("owner", "dep", "ttl", "state", "wake")

    def __init__(self, owner, dep, ttl, env):
        self.owner, self.dep, self.ttl = owner, dep, ttl
        self.state = FRESH
        self.wake = _Signal(env)


class _Service:
    __slots__ = ("index", "name", "spec", "shards", "router", "caches", "masked_by", "deps", "own", "val",
                 "status", "varying", "degree", "episode_cause", "acc", "k", "hc_loss")

    def __init__(self, index, name, spec):
        self.index, self.name, self.spec = index, name, spec
        self.shards: list[_Shard] = []
        self.router: _Router | None = None
        self.caches: list[_Cache] = []
        self.masked_by: dict[int, _Cache] = {}
        self.deps: list[int] = []
        self.own = 1.0
        self.val = 1.0
        self.status = FULL
        self.varying = False
        self.degree = 0
        self.episode_cause = -1
        self.acc = 0.0
        self.k = needed(spec)
        self.hc_loss = spec.health_check is not None and not spec.is_router and not spec.retry


def _status(x: float) -> str:
    return FULL if x == 1.0 else (ZERO if x == 0.0 else PARTIAL)


def _average(weights, values) -> float:
    """Weighted mean of the targets' values (exact 1.0 / 0.0 when they all are)."""
    num = den = 0.0
    for w, x in zip(weights, values):
        if w > 0.0:
            num += w * x
            den += w
    return num / den if den > 0.0 else 0.0


_LEGGAUSS: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _gauss(n: int):
    if n not in _LEGGAUSS:
        _LEGGAUSS[n] = np.polynomial.legendre.leggauss(n)
    return _LEGGAUSS[n]


# =============================================================================================
# One replica
# =============================================================================================


class _Replica:
    """One simulated history of length ``horizon``; writes row ``r`` of ``out``."""

    def __init__(self, model: _Model, rng: np.random.Generator, horizon: float, window: float, windows: int,
                 threshold: float, out: SimOutput, r: int, log: list | None = None, sample=(0, 0)):
        # ``sample``: (seed, replica) of the outage sample keys, the kernel's (hasim.sim.kernel._output).
        self.sample = (np.uint64(sample[0] & MASK64), np.uint64(sample[1] & MASK64))
        self.m, self.rng, self.horizon = model, rng, horizon
        self.window, self.n_windows, self.threshold = window, windows, threshold
        self.out, self.r, self.log_rows = out, r, log
        self.env = env = simpy.Environment()
        sc = model.sc
        self.svc = [_Service(v, name, sc.services[name]) for v, name in enumerate(model.order)]
        for s in self.svc:
            s.deps = [model.index[d] for d in s.spec.dependencies]
        self.zone_down = [0] * len(model.zones)       # down zones in the chain of each zone
        self.zone_is_down = [False] * len(model.zones)
        self.zone_insts: list[list[_Instance]] = [[] for _ in model.zones]
        self.instances: list[_Instance] = []
        for idx, (v, sh_no, z) in enumerate(model.instances):
            s = self.svc[v]
            if len(s.shards) <= sh_no:
                sh = _Shard(s, s.name if s.spec.shards == 1 else f"{s.name}/shard{sh_no}")
                sh.changed = _Signal(env)
                sh.may_promote = _Signal(env)
                s.shards.append(sh)
            sh = s.shards[sh_no]
            inst = _Instance(idx, sh, z, f"{sh.label}[{len(sh.instances)}]")
            sh.instances.append(inst)
            sh.available += 1
            sh.routed_up += 1
            self.instances.append(inst)
            if z >= 0:
                self.zone_insts[z].append(inst)
        for s in self.svc:
            for sh in s.shards:
                if s.spec.mode != "active":
                    sh.active = sh.instances[0]
            if s.spec.is_router:
                s.router = r_ = _Router(s.spec, [model.index[t] for t in s.spec.targets], env)
                r_.answer = r_.answer_for(r_.seen_up)
            for c in s.spec.cached:
                if c.ttl > 0:
                    cache = _Cache(s.index, model.index[c.service], c.ttl, env)
                    s.caches.append(cache)
                    s.masked_by[cache.dep] = cache
        # Measures.
        self.dirty: list[int] = []                      # heap of the dirty services' indices (lowest first)
        self.is_dirty = [False] * len(self.svc)          # membership: each index is at most once in the heap
        self.settle_pending = False
        self.vals: list[float] = [1.0] * len(self.svc)   # s.val of every service, by index
        self.stage_now = None                            # cached stage until the next settle
        self.pauses = 0
        self.varying: list[int] = []      # services whose value changes between events (topological order)
        self.max_degree = 0
        self.events = 0
        self.event_cause = None
        self.t_last = 0.0
        self.lost = self.t_full = self.t_down = 0.0
        self.in_outage = False
        self.o_start = 0.0
        self.o_cause = -1
        self.n_out = 0
        self.longest = 0.0
        self.k_win = 0
        self.win_start = 0.0
        self.win_end = horizon if windows <= 1 else window
        self.win_lost = 0.0
        self.breaches = 0
        self.worst = 1.0
        for s in self.svc:          # everything starts up: s = 1 everywhere
            s.own = self._own(s)
            s.val = self.vals[s.index] = self._compute(s, self.vals, 0.0)
            s.status = _status(s.val)
        # What the stage rule looks at: reachable parts only.
        reach = [s for s in self.svc if model.reach[s.index]]
        self.st_routers = [s.router for s in reach if s.router is not None]
        self.st_hc_shards = [sh for s in reach if s.hc_loss for sh in s.shards]
        self.st_fo_shards = [sh for s in reach if s.spec.mode != "active" for sh in s.shards]
        self.st_caches = [c for s in reach for c in s.caches]
        self.st_zones = [z for z, matters in enumerate(model.zone_matters) if matters]
        self.st_cap_shards = [sh for s in reach if s.spec.mode == "active" and s.k > 1 for sh in s.shards]

    # --- small helpers ----------------------------------------------------------------------
    def _log(self, component: str, event: str) -> None:
        if self.log_rows is not None:
            self.log_rows.append([self.env.now, component, event, math.nan])

    def _timer(self, kind: int, delay: float, cause: int | None = None) -> _Timer:
        """A primary event ``delay`` hours from now, ordered by ``kind`` among events at the same time."""
        return _Timer(self.env, kind, delay, cause, self._on_primary)

    def _on_primary(self, ev) -> None:
        """Runs before the process sees its event: integrate up to now with the state unchanged."""
        if ev.cancelled:
            return
        self.events += 1
        self.event_cause = ev.cause
        self._advance(self.env.now)
        self.stage_now = None   # any event may change the stage (a zone going down under a failed instance)

    def _touch(self, s: _Service) -> None:
        """``s`` may have changed: settle (and record) before the next primary event."""
        self._mark_dirty(s.index)
        if not self.settle_pending:
            self.settle_pending = True
            _Soon(self.env, _SETTLE, self._settle)

    def _speed(self, inst: _Instance) -> float:
        """Clock speed: 0 in a down zone; an idle warm / cold standby ages at warm_factor / not at all."""
        if inst.zone >= 0 and self.zone_down[inst.zone]:
            return 0.0
        if not inst.up:
            return 1.0
        spec = inst.shard.service.spec
        if spec.mode != "standby" or spec.standby == "hot" or inst.shard.active is inst:
            return 1.0
        return spec.warm_factor if spec.standby == "warm" else 0.0

    def _speed_changed(self, inst: _Instance) -> None:
        if inst.clock_speed is not None and not inst.interrupting and self._speed(inst) != inst.clock_speed:
            inst.interrupting = True
            inst.proc.interrupt()

    def _make_active(self, sh: _Shard, inst: _Instance) -> None:
        sh.active = inst
        sh.state = UP
        self._log(sh.label, f"{inst.label} active")
        self._speed_changed(inst)
        self._touch(sh.service)

    def _set_state(self, sh: _Shard, state: str) -> None:
        sh.state = state
        self._log(sh.label, state)
        self._touch(sh.service)

    # =========================================================================================
    # Processes: one per mechanism
    # =========================================================================================

    def _zone_life(self, z: int):
        """A zone alternates up and down with its own laws, independently of everything else."""
        zone = self.m.sc.zones[self.m.zones[z]]
        cause = len(self.m.order) + z
        while True:
            yield self._timer(KIND_ZONE, zone.failure.sample(self.rng), cause)
            self._zone_changed(z, down=True)
            yield self._timer(KIND_ZONE, zone.repair.sample(self.rng), cause)
            self._zone_changed(z, down=False)

    def _zone_changed(self, z: int, down: bool) -> None:
        """Instances placed in ``z`` or in a zone within it lose (or regain) availability at once."""
        self._log(f"zone {self.m.zones[z]}", "down" if down else "up")
        self.zone_is_down[z] = down
        changed: dict[_Shard, tuple[list, list]] = {}
        touched = []
        for d in self.m.zone_desc[z]:
            self.zone_down[d] += 1 if down else -1
            if self.zone_down[d] == (1 if down else 0):
                for inst in self.zone_insts[d]:
                    touched.append(inst)
                    if inst.up:
                        inst.available = not down
                        lost, gained = changed.setdefault(inst.shard, ([], []))
                        (lost if down else gained).append(inst)
        for inst in touched:
            self._speed_changed(inst)
        for sh, (lost, gained) in changed.items():
            self._shard_changed(sh, lost, gained)

    def _instance_life(self, inst: _Instance):
        """An instance is up for a drawn life, then down for a drawn repair, forever."""
        spec = inst.shard.service.spec
        while True:
            yield from self._run_clock(inst, spec.failure.sample(self.rng))
            self._instance_changed(inst, up=False)
            yield from self._run_clock(inst, spec.repair.sample(self.rng))
            self._instance_changed(inst, up=True)

    def _run_clock(self, inst: _Instance, left: float):
        """Let ``left`` hours run out on the instance's clock.  While a zone of its chain is down the
        clock stops (speed 0) and resumes where it stopped; an idle warm standby's life runs at
        ``warm_factor``, a cold one's not at all."""
        cause = inst.shard.service.index
        while True:
            speed = self._speed(inst)
            inst.clock_speed = speed
            timer = self._timer(KIND_INSTANCE, left / speed, cause) if speed > 0 else self.env.event()
            try:
                yield timer
                inst.clock_speed = None
                return
            except simpy.Interrupt:          # the speed changed: keep what is left
                inst.interrupting = False
                if speed > 0:
                    timer.cancelled = True
                    left = (timer.at - self.env.now) * speed

    def _instance_changed(self, inst: _Instance, up: bool) -> None:
        inst.up = up
        self._log(inst.label, "repaired" if up else "failed")
        if inst.zone < 0 or not self.zone_down[inst.zone]:   # (clocks are stopped while a zone is down)
            inst.available = up
            self._shard_changed(inst.shard, [] if up else [inst], [inst] if up else [])

    def _shard_changed(self, sh: _Shard, lost: list, gained: list) -> None:
        """Availability of some instances of ``sh`` changed in one event; wake who must react."""
        sh.available += len(gained) - len(lost)
        for inst in lost + gained:
            if inst.routed:
                d = 1 if inst.available else -1
                sh.routed_up += d
                sh.routed_down -= d
            if inst.probe is not None:
                inst.probe.fire()
        sh.changed.fire((lost, gained))
        self._touch(sh.service)

    def _standby_failover(self, sh: _Shard):
        """A standby shard serves while its active instance is available.  When that one is lost, the
        shard fails over (:meth:`_fail_over`) if a standby is available, else waits for the first
        instance to come back, which becomes active at once.  No failback."""
        while True:
            while sh.active.available:
                yield sh.changed.wait()
            self._log(sh.label, f"{sh.active.label} lost")
            sh.active = None
            if sh.available:
                new = yield from self._fail_over(sh)
            else:
                new = yield from self._first_back(sh)
            self._make_active(sh, new)

    def _fail_over(self, sh: _Shard):
        """Detection, then promotion once every ``failover.requires`` service serves > 0, then with
        probability ``success`` the lowest-index available instance becomes active.  Nothing that
        happens meanwhile interrupts this: a standby that fails during promotion simply is not
        available when the promotion completes (then the first instance back becomes active), and a
        repaired instance is a candidate like any other.  A failed promotion waits for ``manual``
        or for the first instance to come back, whichever is first."""
        fo = sh.service.spec.failover
        detection, promotion = (fo.detection, fo.promotion) if fo else (0.0, 0.0)
        self._set_state(sh, DETECT)
        if detection > 0:
            yield self._timer(KIND_SHARD_TIMER, detection)
        self._set_state(sh, WAIT_REQ)
        yield sh.may_promote.wait()          # fired by the settle (requires evaluated first)
        self._set_state(sh, PROMOTE)
        if promotion > 0:
            yield self._timer(KIND_SHARD_TIMER, promotion)
        success = fo.success if fo else 1.0
        if success >= 1.0 or self.rng.random() < success:
            new = sh.lowest_available()
            if new is None:
                new = yield from self._first_back(sh)
            return new
        self._set_state(sh, FAILED)
        manual = self._timer(KIND_SHARD_TIMER, fo.manual) if fo.manual is not None else None
        while True:
            back = sh.changed.wait()
            fired = yield (manual | back) if manual is not None else back
            if manual is not None and manual in fired:
                new = sh.lowest_available()
                if new is None:
                    new = yield from self._first_back(sh)
                return new
            gained = back.value[1]
            if gained:
                if manual is not None:
                    manual.cancelled = True
                return sh.lowest_available(gained)

    def _first_back(self, sh: _Shard):
        """No instance available: the first one to come back is the answer."""
        self._set_state(sh, NO_STANDBY)
        while True:
            _, gained = yield sh.changed.wait()
            if gained:
                return sh.lowest_available(gained)

    def _quorum_election(self, sh: _Shard):
        """A quorum shard is up while a strict majority is available and it has a leader.  Losing the
        leader while a majority remains costs an election: detection, then (once every
        ``failover.requires`` service serves > 0) promotion, abandoned whenever the majority is lost
        on the way.  A regained majority elects the lowest-index instance at once, once the required
        services serve."""
        fo = sh.service.spec.failover
        detection, promotion = (fo.detection, fo.promotion) if fo else (0.0, 0.0)
        needs = bool(fo.requires) if fo else False
        k = sh.service.k
        while True:
            while sh.active.available:
                yield sh.changed.wait()
            self._log(sh.label, f"leader {sh.active.label} lost")
            sh.active = None
            self._touch(sh.service)
            while sh.active is None:
                if sh.available < k:                 # no majority: the first majority elects at once
                    self._set_state(sh, NO_LEADER)
                    while sh.available < k:
                        yield sh.changed.wait()
                    steps = [(REGAINED, None)] if needs else []
                elif needs:
                    steps = [(DETECT, detection), (WAIT_REQ, None), (ELECT, promotion)]
                else:                                # nothing to wait for: one timer, as the kernel
                    steps = [(ELECT, detection + promotion)]
                kept = yield from self._election_steps(sh, steps, k)
                if kept:
                    self._make_active(sh, sh.lowest_available())

    def _election_steps(self, sh: _Shard, steps, k: int):
        """Go through ``(state, delay)`` steps (a delay of None: wait for ``failover.requires``);
        False as soon as the majority is lost, True when every step is done."""
        for state, delay in steps:
            if delay is not None and not delay > 0:
                continue
            self._set_state(sh, state)
            if delay is None:                    # fired by the settle (requires evaluated first)
                done = sh.may_promote.wait()
            else:
                done = self._timer(KIND_SHARD_TIMER, delay)
            while sh.available >= k:
                fired = yield done | sh.changed.wait()
                if done in fired:
                    break
            if sh.available < k:
                if delay is not None:
                    done.cancelled = True
                return False
        return True

    def _health_probes(self, hc, healthy: Callable[[], bool], routed: Callable[[], bool],
                       flip: Callable[[], None], wake: _Signal):
        """Probe one endpoint every ``interval`` from a uniformly random phase.  It leaves rotation at
        the ``unhealthy_threshold``-th consecutive failed probe and returns at the
        ``healthy_threshold``-th consecutive good one.  Probes that cannot change anything (the
        endpoint agrees with its rotation state and no streak is running) are not simulated."""
        interval = hc.interval
        phase = self.rng.random() * interval
        streak = 0
        done = -1                                # index of the last simulated probe (at phase + n * interval)
        while True:
            if streak == 0 and healthy() == routed():
                yield wake.wait()
                continue
            now = self.env.now
            n = max(done + 1, math.floor((now - phase) / interval) + 1)
            if phase + n * interval <= now:      # (rounding)
                n += 1
            done = n
            yield self._timer(KIND_SERVICE_TIMER, phase + n * interval - now)
            if healthy() == routed():
                streak = 0
                continue
            streak += 1
            if streak == (hc.unhealthy_threshold if routed() else hc.healthy_threshold):
                streak = 0
                flip()

    def _flip_instance(self, inst: _Instance) -> None:
        sh = inst.shard
        inst.routed = not inst.routed
        d = 1 if inst.routed else -1
        if inst.available:
            sh.routed_up += d
        else:
            sh.routed_down += d
        self._log(inst.label, "re-added" if inst.routed else "removed from rotation")
        self._touch(sh.service)

    def _flip_target(self, s: _Service, i: int) -> None:
        r = s.router
        r.seen_up[i] = not r.seen_up[i]
        self._log(s.name, f"sees {self.m.order[r.targets[i]]} {'up' if r.seen_up[i] else 'down'}")
        self._touch(s)

    def _dns(self, s: _Service):
        """A router's answer as clients see it.  When the answer changes (the settle found another one)
        the clients still on the previous mixture fall linearly from 1 to 0 over ``dns.ttl``;
        ``stale_fraction`` of them stay for ``stale_for``.  A change during a ramp starts a new ramp
        from the current mixture.  Without ``dns`` the switch is instant."""
        r = s.router
        change = r.changed.wait()
        while True:
            yield change
            now = self.env.now
            r.mix0 = self._mixture(r, now) if r.ends else None
            r.answer, r.t0 = r.desired, now
            self._log(s.name, "answers " + ", ".join(self.m.order[t] for t, w in zip(r.targets, r.answer) if w > 0))
            self._touch(s)
            change = r.changed.wait()
            for end in r.ends:
                timer = self._timer(KIND_SERVICE_TIMER, end - (self.env.now - r.t0))
                fired = yield timer | change
                if change in fired:
                    timer.cancelled = True
                    break
                self._touch(s)               # one piece of the ramp is over
            else:
                r.mix0 = None

    def _cache(self, c: _Cache):
        """``cached: {service: X, ttl}``: when X drops below 1 the cache serves for ``ttl``, then X's
        outage shows until X is fully back, which makes the cache fresh again."""
        owner = self.svc[c.owner]
        label = f"{owner.name} cache of {self.m.order[c.dep]}"
        while True:
            yield c.wake.wait()              # the settle saw X drop below 1
            c.state = SERVING
            self._log(label, SERVING)
            self._touch(owner)
            back = c.wake.wait()
            timer = self._timer(KIND_SERVICE_TIMER, c.ttl)
            fired = yield timer | back
            if back in fired:
                timer.cancelled = True
            else:
                c.state = EXPIRED
                self._log(label, EXPIRED)
                self._touch(owner)
                yield back
            c.state = FRESH
            self._log(label, FRESH)
            self._touch(owner)

    # =========================================================================================
    # Served fractions
    # =========================================================================================

    def _own(self, s: _Service) -> float:
        """Mean over shards of what each shard's own pool serves."""
        if not s.shards:
            return 1.0
        total, full = 0.0, True
        for sh in s.shards:
            x = self._shard_own(s, sh)
            total += x
            full = full and x == 1.0
        return 1.0 if full else total / len(s.shards)

    def _shard_own(self, s: _Service, sh: _Shard) -> float:
        mode = s.spec.mode
        if mode == "standby":
            return 1.0 if sh.state == UP else 0.0
        if mode == "quorum":
            return 1.0 if (sh.active is not None and sh.available >= s.k) else 0.0
        h = sh.routed_up
        if s.hc_loss:
            return h / max(h + sh.routed_down, s.k)
        return 1.0 if h >= s.k else h / s.k

    def _mixture(self, r: _Router, t: float) -> list[float]:
        total = sum(r.answer)
        a = [x / total for x in r.answer]
        if r.mix0 is None:
            return a
        w = r.weight(t)
        return [(1.0 - w) * x + w * y for x, y in zip(a, r.mix0)]

    def _compute(self, s: _Service, vals, t: float) -> float:
        """s_X = own_X x (router: the clients' mixture over targets) x prod of hard dependencies."""
        val = s.own
        r = s.router
        if r is not None:
            targets = [vals[u] for u in r.targets]
            a = _average(r.answer, targets)
            w = r.weight(t) if r.mix0 is not None else 0.0
            val *= a if w == 0.0 else a + w * (_average(r.mix0, targets) - a)
        for d in s.deps:
            cache = s.masked_by.get(d)
            if cache is None or cache.state != SERVING:
                val *= vals[d]
        return val

    def _reacts(self, s: _Service) -> bool:
        """Wake a mechanism of ``s`` that must act before ``s`` is evaluated (True: the settle pauses)."""
        woke = False
        if s.spec.mode in ("standby", "quorum"):
            req = [self.m.index[q] for q in s.spec.failover.requires] if s.spec.failover else []
            if all(self.svc[q].status != ZERO for q in req):
                for sh in s.shards:
                    if sh.state in (WAIT_REQ, REGAINED):
                        sh.may_promote.fire()
                        woke = True
        for c in s.caches:
            dep_full = self.svc[c.dep].status == FULL
            if (c.state == FRESH and not dep_full) or (c.state != FRESH and dep_full):
                c.wake.fire()
                woke = True
        r = s.router
        if r is not None:
            for i, u in enumerate(r.targets):
                healthy = self.svc[u].status != ZERO
                if r.hc is None:
                    r.seen_up[i] = healthy
                elif healthy != r.seen_up[i]:
                    r.probes[i].fire()           # its probes start counting (no pause: nothing changes now)
            desired = r.answer_for(r.seen_up)
            if desired != r.answer:
                r.desired = desired
                r.changed.fire()
                woke = True
        return woke

    def _evaluate(self, s: _Service) -> bool:
        """Recompute ``s``'s value and status; True if anything its parents read changed."""
        now = self.env.now
        s.own = self._own(s)
        statuses = [_status(s.own)]
        varying, degree = False, 0
        r = s.router
        if r is not None:
            support = [i for i, w in enumerate(r.answer) if w > 0]
            ramp = r.mix0 is not None and r.weight(now) > 0.0
            if ramp:
                support += [i for i, w in enumerate(r.mix0) if w > 0 and r.answer[i] == 0]
            tst = {self.svc[r.targets[i]].status for i in support}
            statuses.append(tst.pop() if len(tst) == 1 and tst <= {FULL, ZERO} else PARTIAL)
            linear = ramp and r.ttl > 0 and now - r.t0 < r.ttl
            inner = [self.svc[r.targets[i]] for i in support]
            varying = linear or any(x.varying for x in inner)
            degree = int(linear) + max((x.degree for x in inner), default=0)
        for d in s.deps:
            cache = s.masked_by.get(d)
            if cache is not None and cache.state == SERVING:
                continue
            dep = self.svc[d]
            statuses.append(dep.status)
            varying = varying or dep.varying
            degree += dep.degree
        status = ZERO if ZERO in statuses else (FULL if all(x == FULL for x in statuses) else PARTIAL)
        val = self._compute(s, self.vals, now)
        if status == FULL:
            val = 1.0
        elif status == ZERO:
            val = 0.0
        if s.status == FULL and status != FULL:
            s.episode_cause = self.event_cause if self.event_cause is not None else self._inherit(s)
        changed = (val != s.val or status != s.status or varying != s.varying or degree != s.degree)
        s.val, s.status, s.varying, s.degree = val, status, varying, degree
        self.vals[s.index] = val
        return changed

    def _inherit(self, s: _Service) -> int:
        """Root cause of a drop at a timer: the episode of the dependency whose degradation shows."""
        r = s.router
        if r is not None:
            for i, w in enumerate(r.answer):
                t = self.svc[r.targets[i]]
                if w > 0 and t.status != FULL:
                    return t.episode_cause
        for d in s.deps:
            dep = self.svc[d]
            cache = s.masked_by.get(d)
            if dep.status != FULL and (cache is None or cache.state != SERVING):
                return dep.episode_cause
        return s.index

    def _mark_dirty(self, v: int) -> None:
        if not self.is_dirty[v]:
            self.is_dirty[v] = True
            heappush(self.dirty, v)

    def _settle(self, _ev=None) -> None:
        """Re-evaluate dirty services in topological order (see the module docstring): always the
        lowest dirty index next, from a heap (O(log n) per service marked dirty)."""
        self.settle_pending = False
        dirty, is_dirty = self.dirty, self.is_dirty
        while dirty:
            v = dirty[0]
            s = self.svc[v]
            if self._reacts(s):
                self.pauses += 1
                if self.pauses > _MAX_PAUSES:
                    raise RuntimeError(f"reference engine: no progress settling {s.name!r} at t={self.env.now}")
                self.settle_pending = True
                _Soon(self.env, _SETTLE, self._settle)
                return
            heappop(dirty)
            is_dirty[v] = False
            if self._evaluate(s):
                for u in self.m.parents[v]:
                    self._mark_dirty(u)
        self.pauses = 0  # a bound on the pauses of one settle, not of a whole history
        self.varying = [s.index for s in self.svc if s.varying]
        self.max_degree = max((self.svc[v].degree for v in self.varying), default=0)
        self.stage_now = None
        self._record()

    # =========================================================================================
    # Measures
    # =========================================================================================

    def _stage(self, now: float) -> int:
        """The mechanism responsible for loss on the interval starting at ``now``: the first of
        dns > detection > failover > zone > capacity > stale-cache > repair that applies to a part
        the entry can depend on (an expired cache only when nothing that can keep its dependency
        down is still running)."""
        svc = self.svc
        for r in self.st_routers:      # clients on a stale answer pointing to a target that serves 0
            if r.mix0 is not None and r.weight(now) > 0.0:
                if any(w > 0 and r.answer[i] == 0 and svc[r.targets[i]].status == ZERO
                       for i, w in enumerate(r.mix0)):
                    return DNS
        for r in self.st_routers:      # a router that has not noticed yet that its target serves 0
            if any(w > 0 and r.seen_up[i] and svc[r.targets[i]].status == ZERO for i, w in enumerate(r.answer)):
                return DETECTION
        if any(sh.routed_down > 0 for sh in self.st_hc_shards):   # failed but still routed
            return DETECTION
        if any(sh.state in _FAILOVER_STATES for sh in self.st_fo_shards):
            return FAILOVER
        if any(self.zone_is_down[z] for z in self.st_zones):
            return ZONE
        if any(0 < sh.available < sh.service.k for sh in self.st_cap_shards):
            return CAPACITY
        if any(c.state == EXPIRED for c in self.st_caches):
            return STALE_CACHE
        return REPAIR

    def _integrals(self, a: float, b: float) -> list[float]:
        """Integral of every service's served fraction over [a, b] (exact: Gauss-Legendre on polynomials)."""
        vals = self.vals
        out = [x * (b - a) for x in vals]
        if not self.varying:
            return out
        x, w = _gauss(self.max_degree // 2 + 1)
        half, mid = 0.5 * (b - a), 0.5 * (a + b)
        acc = {v: 0.0 for v in self.varying}
        for xi, wi in zip(x, w):
            t = mid + half * xi
            point = list(vals)
            for v in self.varying:               # topological order: dependencies first
                point[v] = self._compute(self.svc[v], point, t)
            for v in self.varying:
                acc[v] += wi * point[v]
        for v in self.varying:
            out[v] = half * acc[v]
        return out

    def _advance(self, t: float) -> None:
        """Integrate every measure over [t_last, t] with the state as it stands (nothing changed yet)."""
        a = self.t_last
        if t <= a:
            return
        stage = -1
        if self.svc[self.m.entry].status != FULL:
            if self.stage_now is None:
                self.stage_now = self._stage(a)
            stage = self.stage_now
        while t > self.win_end:                  # crosses window boundaries
            self._piece(a, self.win_end, stage)
            self._close_window(self.win_end - self.win_start)
            self.k_win += 1
            a = self.win_start = self.win_end
            self.win_end = self.horizon if self.k_win >= self.n_windows - 1 else (self.k_win + 1) * self.window
        self._piece(a, t, stage)
        self.t_last = t

    def _piece(self, a: float, b: float, stage: int) -> None:
        """Measures over [a, b], inside one window and between two events."""
        if b <= a:
            return
        entry = self.svc[self.m.entry]
        ints = self._integrals(a, b)
        for s, x in zip(self.svc, ints):
            s.acc += x
        dt = b - a
        if entry.status == FULL:
            self.t_full += dt
            return
        q = dt - ints[self.m.entry] if entry.varying else (1.0 - entry.val) * dt
        self.lost += q
        self.win_lost += q
        if entry.status == ZERO:
            self.t_down += dt
        self.out.loss[self.r, self.o_cause, stage] += q

    def _close_window(self, length: float) -> None:
        avail = 1.0 - self.win_lost / length if length > 0.0 else 1.0
        if self.k_win < self.out.win.shape[1]:
            self.out.win[self.r, self.k_win] = avail
        if avail < self.threshold:
            self.breaches += 1
        self.worst = min(self.worst, avail)
        self.win_lost = 0.0

    def _record(self) -> None:
        """After an event has settled: open or close an outage of the entry."""
        entry = self.svc[self.m.entry]
        if self.log_rows is not None:
            for row in reversed(self.log_rows):
                if not math.isnan(row[3]):
                    break
                row[3] = entry.val
        full = entry.status == FULL
        if not full and not self.in_outage:
            self.in_outage = True
            self.o_start = self.env.now
            self.o_cause = entry.episode_cause
        elif full and self.in_outage:
            self._close_outage(self.env.now)

    def _close_outage(self, t: float) -> None:
        self.in_outage = False
        d = t - self.o_start
        if d > 0.0:
            o, r, n = self.out, self.r, self.n_out
            keep = o.out_start.shape[1]
            if n < keep:
                slot = n
            else:   # bottom-k sample of the replica's outages: replace the largest key if larger
                key = lambda j: int(sample_key(*self.sample, np.uint64(j)))  # noqa: E731
                slot = max(range(keep), key=lambda x: key(o.out_index[r, x]), default=None)
                if slot is not None and key(o.out_index[r, slot]) <= key(n):
                    slot = None
            if slot is not None:
                o.out_start[r, slot] = self.o_start
                o.out_dur[r, slot] = d
                o.out_cause[r, slot] = self.o_cause
                o.out_index[r, slot] = n
            self.n_out += 1
            self.longest = max(self.longest, d)

    # =========================================================================================
    # Run
    # =========================================================================================

    def run(self) -> None:
        env, m = self.env, self.m
        for z in range(len(m.zones)):
            env.process(self._zone_life(z))
        for inst in self.instances:
            inst.proc = env.process(self._instance_life(inst))
        for s in self.svc:
            hc = s.spec.health_check
            if s.router is None and hc is not None:
                for sh in s.shards:
                    for inst in sh.instances:
                        inst.probe = _Signal(env)
                        env.process(self._health_probes(
                            hc, (lambda i=inst: i.available), (lambda i=inst: i.routed),
                            (lambda i=inst: self._flip_instance(i)), inst.probe))
            for sh in s.shards:
                if s.spec.mode == "standby":
                    env.process(self._standby_failover(sh))
                elif s.spec.mode == "quorum":
                    env.process(self._quorum_election(sh))
            if s.router is not None:
                env.process(self._dns(s))
                if hc is not None:
                    for i, u in enumerate(s.router.targets):
                        wake = _Signal(env)
                        s.router.probes.append(wake)
                        env.process(self._health_probes(
                            hc, (lambda u=u: self.svc[u].status != ZERO),
                            (lambda s=s, i=i: s.router.seen_up[i]),
                            (lambda s=s, i=i: self._flip_target(s, i)), wake))
            for c in s.caches:
                env.process(self._cache(c))
        env.run(until=self.horizon)
        self.event_cause = None
        self._advance(self.horizon)
        self._close_window(self.horizon - self.win_start)
        if self.in_outage:
            self._close_outage(self.horizon)
        o, r, H = self.out, self.r, self.horizon
        o.ra[r] = 1.0 - self.lost / H
        o.ta[r] = self.t_full / H
        o.down[r] = self.t_down / H
        o.degraded[r] = max(0.0, 1.0 - (self.t_full + self.t_down) / H)
        o.outages[r] = self.n_out
        o.longest[r] = self.longest
        o.events[r] = self.events
        o.breaches[r] = self.breaches
        o.worst[r] = self.worst
        for s in self.svc:
            o.svc_ra[r, s.index] = s.acc / H


# =============================================================================================
# Public API
# =============================================================================================


def _settings(scenario: Scenario, replicas, seed, horizon):
    replicas = scenario.replicas if replicas is None else int(replicas)
    seed = scenario.seed if seed is None else int(seed)
    horizon = float(scenario.horizon if horizon is None else parse_duration(horizon))
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    if not horizon > 0:
        raise ValueError("horizon must be positive")
    window = float(scenario.window)
    slo = scenario.slo if scenario.slo is not None else DEFAULT_SLO
    return replicas, seed, horizon, window, n_windows(horizon, window), slo / 100.0


def _rng(seed: int, replica: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, replica]))


def simulate_reference(scenario: Scenario, replicas: int | None = None, seed: int | None = None,
                       horizon: float | str | None = None, *, keep_windows: int | None = None,
                       keep_outages: int = 16, progress: bool | Callable[[int, int], None] | None = None,
                       ) -> tuple[SimOutput, dict]:
    """Simulate ``scenario`` with the SimPy reference engine.

    Parameters are those of :func:`hasim.engine.simulate`.  Replica ``i`` draws
    from ``numpy.random.default_rng(SeedSequence([seed, i]))``: its draws differ
    from the numba engine's, its distributions do not.

    Returns
    -------
    out : SimOutput
        The per-replica arrays documented in :mod:`hasim.sim.kernel._output`.
    info : dict
        ``events`` (primary events processed), ``elapsed_seconds``, ``replicas``,
        ``seed``, ``horizon``, ``window``, ``n_windows``, ``threshold`` (the
        window availability below which a window breaches).
    """
    replicas, seed, horizon, window, windows, threshold = _settings(scenario, replicas, seed, horizon)
    model = _Model(scenario)
    keep_windows = _keep_windows(keep_windows, windows, replicas)
    out = new_output(replicas, len(model.causes), len(model.order), keep_windows, max(0, int(keep_outages)))
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=replicas, unit="replica", desc=f"{scenario.name} (simpy)", leave=False)
    started = time.perf_counter()
    for r in range(replicas):
        _Replica(model, _rng(seed, r), horizon, window, windows, threshold, out, r, sample=(seed, r)).run()
        if bar is not None:
            bar.update(1)
        elif callable(progress):
            progress(r + 1, replicas)
    elapsed = time.perf_counter() - started
    if bar is not None:
        bar.close()
    info = {"events": int(out.events.sum()), "elapsed_seconds": elapsed, "replicas": replicas, "seed": seed,
            "horizon": horizon, "window": window, "n_windows": windows, "threshold": threshold,
            "engine": "simpy"}
    return out, info


def trace(scenario: Scenario, replica: int = 0, seed: int | None = None, horizon: float | str | None = None):
    """The event log of one replica as a DataFrame ``time_h, component, event, served``.

    ``served`` is the entry's served fraction right after the event (at the
    start of a DNS ramp: its value at that instant).  The replica is the same
    history :func:`simulate_reference` computes for index ``replica``.
    """
    import pandas as pd

    _, seed, horizon, window, windows, threshold = _settings(scenario, 1, seed, horizon)
    model = _Model(scenario)
    out = new_output(1, len(model.causes), len(model.order), 0, 0)
    rows: list = []
    _Replica(model, _rng(seed, replica), horizon, window, windows, threshold, out, 0, log=rows,
             sample=(seed, replica)).run()
    frame = pd.DataFrame(rows, columns=["time_h", "component", "event", "served"])
    frame["served"] = frame["served"].ffill().fillna(1.0)
    return frame
