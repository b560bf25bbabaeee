"""What one replica of the reference engine holds while it runs.

* the priorities of events at one instant and the states of shards and caches;
* :class:`Timer` and :class:`Soon`, the two :class:`simpy.Event` subclasses every
  process waits on (a primary event, and the settle step of an instant);
* the runtime objects (:class:`Instance`, :class:`Shard`, :class:`Router`,
  :class:`Cache`, :class:`Service`);
* :class:`ReplicaState`, the base of :class:`~hasim.sim.reference.engine.Replica`:
  builds those objects and the measures' accumulators, and owns the small helpers
  every mechanism calls (the event log, timers, and the heap of dirty services that
  the settle step sweeps).
"""

from __future__ import annotations

import math
from heapq import heappush
from typing import Callable

import numpy as np
import simpy

from hasim.sim.kernel._output import SimOutput
from hasim.model.structure import needed
from hasim.sim.reference.static import Model
from hasim.sim.settings import MASK64

# --- priorities of SimPy events at one instant (SimPy's own URGENT = 0 and NORMAL = 1 come first)
SETTLE = 2
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
FAILOVER_STATES = frozenset({DETECT, WAIT_REQ, PROMOTE, FAILED, ELECT, REGAINED})

# --- cache states
FRESH, SERVING, EXPIRED = "fresh", "serving-stale", "expired"


class Signal:
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


class Timer(simpy.Event):
    """A primary event: triggered when created, like :class:`simpy.Timeout`, and scheduled ``delay``
    hours from now with priority ``kind`` (its rank among events at the same instant).

    ``on_primary`` runs first among its callbacks (before the process waiting on it resumes).
    A timer is never removed from SimPy's queue: ``cancelled`` makes it a no-op when it comes up
    (its process no longer waits on it).  ``at`` is its time, ``cause`` the root-cause index an
    outage starting at it is charged to (None: inherited, see :meth:`Replica._inherit`).
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


class Soon(simpy.Event):
    """Runs ``callback`` at the current instant, after SimPy's URGENT and NORMAL events and the
    earlier ones of the same ``priority`` (the engine's settle step, :data:`SETTLE`), before any
    primary event of this instant.  Triggered when created, like :class:`simpy.events.Initialize`."""

    def __init__(self, env: simpy.Environment, priority: int, callback: Callable[[simpy.Event], None]):
        self.env = env
        self.callbacks = [callback]
        self._ok = True
        self._value = None
        env.schedule(self, priority)


class Instance:
    __slots__ = ("index", "shard", "zone", "up", "available", "routed", "proc", "clock_speed", "interrupting",
                 "probe", "label", "cur", "waiting", "maintained")

    def __init__(self, index, shard, zone, label):
        self.index, self.shard, self.zone, self.label = index, shard, zone, label
        self.up = True
        self.available = True       # up, with every zone of its chain up
        self.routed = True          # in the load balancer's rotation (always, without health_check)
        self.proc = None
        self.clock_speed = None     # speed of the running clock; None while the process is not in one
        self.interrupting = False
        self.probe = None           # Signal of its health-probe process
        self.cur = math.inf         # replicated standby: its copy goes up to here (inf: it follows the writer)
        self.waiting = False        # down, its paged repair waiting for the on-call (repair_paged)
        self.maintained = False     # one of the instances its service's maintenance windows take out


class Shard:
    __slots__ = ("service", "instances", "available", "routed_up", "routed_down", "state", "active", "changed",
                 "may_promote", "label", "k", "base_k", "collapsed", "grace", "extra", "scale_timer", "scale_dir",
                 "capx", "t_col0", "t_col", "copies", "writer", "t_lost", "phase", "responding")

    def __init__(self, service, label):
        self.service, self.label = service, label
        self.instances: list[Instance] = []
        self.available = 0          # up, with every zone of the chain up
        self.routed_up = 0          # available and routed (health-checked pools)
        self.routed_down = 0        # not available but still routed
        self.state = UP
        self.active = None          # standby: the active instance; quorum: the leader
        self.changed = None         # Signal: (lost, gained) instances
        self.may_promote = None     # Signal: fired by the settle when failover.requires all serve > 0
        self.k = service.k          # instances it needs now (base_k x load factor x hold)
        self.base_k = service.k     # instances it needs at the current hour with every edge closed
        self.collapsed = False      # under overload
        self.grace = None           # Timer of the running overload grace period
        self.extra = 0              # instances an autoscaler added
        self.scale_timer = None     # Timer of the running scale-out (scale_dir 1) or scale-in (-1)
        self.scale_dir = 0
        ov = service.spec.overload     # an admission limiter below 100 % is short of capacity a little earlier
        self.capx = 1.0 / min(1.0, ov.admits) if ov is not None else 1.0
        self.t_col0 = 0.0           # when its current collapse began
        self.t_col = 0.0            # hours collapsed within the measured horizon, collapses ended
        self.copies = None          # its service's replication (hasim.sim.reference.replication)
        self.writer = None          # the instance that took the writes last
        self.t_lost = 0.0           # when the writer was lost
        self.phase = 0.0            # snapshots at phase + k x interval
        self.responding = False     # a failed promotion waiting for the on-call engineer

    def lowest_available(self, among=None):
        """The available instance of lowest index (among ``among`` if given), or None."""
        for inst in self.instances if among is None else sorted(among, key=lambda i: i.index):
            if inst.available:
                return inst
        return None


class Router:
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
        self.changed = Signal(env)          # the settle found a new answer: wakes _dns
        self.probes: list[Signal] = []      # per target: wakes its health-probe process
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


class Cache:
    __slots__ = ("owner", "dep", "ttl", "state", "wake")

    def __init__(self, owner, dep, ttl, env):
        self.owner, self.dep, self.ttl = owner, dep, ttl
        self.state = FRESH
        self.wake = Signal(env)


class Service:
    __slots__ = ("index", "name", "spec", "shards", "router", "caches", "masked_by", "deps", "own", "val",
                 "status", "varying", "degree", "episode_cause", "acc", "k", "hc_loss", "watch", "cut_by",
                 "load_factor", "hold", "releases", "maint_on", "hc_probed")

    def __init__(self, index, name, spec, k):
        self.index, self.name, self.spec = index, name, spec
        self.shards: list[Shard] = []
        self.router: Router | None = None
        self.caches: list[Cache] = []
        self.masked_by: dict[int, Cache] = {}
        self.deps: list[int] = []
        self.own = 1.0
        self.val = 1.0
        self.status = FULL
        self.varying = False
        self.degree = 0
        self.episode_cause = index  # a service that starts degraded: its own (the kernel's rule)
        self.acc = 0.0
        self.k = k  # instances a shard needs (hasim.model.structure.needed)
        self.hc_loss = spec.health_check is not None and not spec.is_router and not spec.retry
        self.watch = []             # watched dependency edges (hasim.sim.reference.breakers.Edge)
        self.cut_by = {}            # hard or optional dependency index -> the Edge whose breaker can cut it
        self.load_factor = 1.0      # share of its load the open breakers leave
        self.hold = 1.0             # worker time per request over its latency (timeouts)
        self.releases = []          # the changes that expose it (hasim.sim.reference.deploys.Release)
        self.maint_on = False       # a maintenance window of it is in progress
        self.hc_probed = spec.health_check is not None and not spec.is_router


def status_of(x: float) -> str:
    """The status of a served fraction: :data:`FULL` (exactly 1), :data:`ZERO` (exactly 0) or :data:`PARTIAL`."""
    return FULL if x == 1.0 else (ZERO if x == 0.0 else PARTIAL)


class ReplicaState:
    """The state of one simulated history of length ``horizon``, which writes row ``r`` of ``out``.

    The processes and the evaluation are mixed in by :class:`~hasim.sim.reference.engine.Replica`;
    this base builds the runtime objects and the accumulators and holds the helpers they all share.
    """

    def __init__(self, model: Model, rng: np.random.Generator, horizon: float, window: float, windows: int,
                 threshold: float, out: SimOutput, r: int, log: list | None = None, sample=(0, 0),
                 warmup: float = 0.0):
        # ``sample``: (seed, replica) of the outage sample keys, the kernel's (hasim.sim.kernel._output).
        self.sample = (np.uint64(sample[0] & MASK64), np.uint64(sample[1] & MASK64))
        self.m, self.rng, self.horizon = model, rng, horizon
        # Measured: [start, end]; a warm-up of ``start`` hours before it is simulated and forgotten.
        self.start, self.end = float(warmup), float(warmup) + horizon
        self.window, self.n_windows, self.threshold = window, windows, threshold
        self.out, self.r, self.log_rows = out, r, log
        self.env = simpy.Environment()
        self._build_components()
        self.hour, self.weight = 0, float(model.weights[0])
        for s in self.svc:
            for sh in s.shards:
                sh.k = sh.base_k = float(model.needs[s.index][0])
        self._init_breakers()
        self._init_deploys()
        self.rebased = 0.0          # loss forgotten at the warm-up's end (hasim.sim.reference.alerts)
        self._init_alerts()
        self.day_shards = [sh for s in self.svc if model.day_varies[s.index] for sh in s.shards]
        self._init_measures()
        for s in self.svc:          # everything starts up (a pool short of capacity even so serves < 1)
            if s.watch:             # a watched dependency may start short of capacity too
                self._breakers_react(s)
            s.own = self._own(s)
            s.val = self.vals[s.index] = self._compute(s, self.vals, 0.0)
            s.status = status_of(s.val)
        self._init_stage_parts()
        entry = self.svc[model.entry]
        if entry.status != FULL:   # an outage from the start, charged to the entry itself
            self.in_outage, self.o_start, self.o_cause = True, 0.0, entry.episode_cause

    def _build_components(self) -> None:
        """Services, zones, shards and instances (in the static model's order), routers and caches."""
        model, env = self.m, self.env
        sc = model.sc
        self.svc = [Service(v, name, sc.services[name], needed(sc, name)) for v, name in enumerate(model.order)]
        for s in self.svc:
            s.deps = [model.index[d] for d in s.spec.dependencies]
        self.zone_down = [0] * len(model.zones)       # down zones in the chain of each zone
        self.zone_is_down = [False] * len(model.zones)
        self.zone_insts: list[list[Instance]] = [[] for _ in model.zones]
        self.instances: list[Instance] = []
        for idx, (v, sh_no, z) in enumerate(model.instances):
            s = self.svc[v]
            if len(s.shards) <= sh_no:
                sh = Shard(s, s.name if s.spec.shards == 1 else f"{s.name}/shard{sh_no}")
                sh.changed = Signal(env)
                sh.may_promote = Signal(env)
                s.shards.append(sh)
            sh = s.shards[sh_no]
            inst = Instance(idx, sh, z, f"{sh.label}[{len(sh.instances)}]")
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
                s.router = r_ = Router(s.spec, [model.index[t] for t in s.spec.targets], env)
                r_.answer = r_.answer_for(r_.seen_up)
            for c in s.spec.cached:
                if c.ttl > 0:
                    cache = Cache(s.index, model.index[c.service], c.ttl, env)
                    s.caches.append(cache)
                    s.masked_by[cache.dep] = cache

    def _init_measures(self) -> None:
        """The settle heap, the integrals, the open outage and the current window, all empty."""
        windows = self.n_windows
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
        self.win_end = self.start if self.start > 0 else (self.end if windows <= 1 else self.window)
        self.win_lost = 0.0
        self.breaches = 0
        self.worst = 1.0

    def _init_stage_parts(self) -> None:
        """What the stage rule looks at: the parts the entry can depend on, by mechanism."""
        model = self.m
        reach = [s for s in self.svc if model.reach[s.index]]
        self.st_routers = [s.router for s in reach if s.router is not None]
        self.st_hc_shards = [sh for s in reach if s.hc_loss for sh in s.shards]
        self.st_fo_shards = [sh for s in reach if s.spec.mode != "active" for sh in s.shards]
        self.st_caches = [c for s in reach for c in s.caches]
        self.st_paged = [i for s in reach if s.spec.repair_paged for sh in s.shards for i in sh.instances]
        self.st_zones = [z for z, matters in enumerate(model.zone_matters) if matters]
        self.st_cap_shards = [sh for s in reach if s.spec.mode == "active" and (s.k > 1 or s.spec.capacity is not None)
                              for sh in s.shards]
        self.st_ov_shards = [sh for s in reach if s.spec.overload is not None for sh in s.shards]
        self.st_as_shards = [sh for s in reach if s.spec.autoscaling is not None for sh in s.shards]

    # --- helpers every mechanism calls ---------------------------------------------------------
    def _log(self, component: str, event: str) -> None:
        if self.log_rows is not None:
            self.log_rows.append([self.env.now, component, event, math.nan])

    def _timer(self, kind: int, delay: float, cause: int | None = None) -> Timer:
        """A primary event ``delay`` hours from now, ordered by ``kind`` among events at the same time."""
        return Timer(self.env, kind, delay, cause, self._on_primary)

    def _on_primary(self, ev) -> None:
        """Runs before the process sees its event: integrate up to now with the state unchanged."""
        if ev.cancelled:
            return
        self.events += 1
        self.event_cause = ev.cause
        self._advance(self.env.now)
        self.stage_now = None   # any event may change the stage (a zone going down under a failed instance)

    def _touch(self, s: Service) -> None:
        """``s`` may have changed: settle (and record) before the next primary event."""
        self._mark_dirty(s.index)
        if not self.settle_pending:
            self.settle_pending = True
            Soon(self.env, SETTLE, self._settle)

    def _mark_dirty(self, v: int) -> None:
        if not self.is_dirty[v]:
            self.is_dirty[v] = True
            heappush(self.dirty, v)
