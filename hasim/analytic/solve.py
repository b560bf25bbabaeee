"""The exact solver: steady-state availability computed, not simulated.

What is exact
-------------
* One instance: MTTF / (MTTF + MTTR) for any pair of laws (alternating renewal).
* Pools: given the zone states, instances are independent, so the number of
  healthy instances of a shard is binomial; ``active`` serves min(1, H/k),
  ``quorum`` is up while H > n/2, a hot ``standby`` with instant failover is up
  while H >= 1.  Shards are independent copies (their mean is served).
* Zones, nested: the zone processes are independent of the instances (an
  instance's clocks are suspended while its zone is down, so its own state
  seen in zone-up time is independent of the zones); conditioning on every
  zone configuration is exact.
* Dependencies: a request to X succeeds with probability
  ``s_X = own_X * prod(s_Y for Y in X.requires)`` (one call per required
  service).  A service reached by two paths is one random variable: every
  service reachable from the entry by more than one path is conditioned on,
  so the rest is a tree of independent parts.
* Routers with instant switching: ``failover`` serves the first target that is
  not down; ``weighted`` spreads over the targets that are not down.
* Warm and cold standbys: a birth-death Markov chain over the number of failed
  instances (exact for exponential laws only; flagged otherwise).

What is first order (``exact: false``)
--------------------------------------
The delay terms of ``product.md`` ("Ground truth"), each a rate of events
times the loss per event, mapped to the entry service through the exact
model: failover detection + promotion per active failure, promotion failure
(``(1 - success) * E[min(manual, residual repair)]``), leader elections,
load-balancer detection (E[D] = interval/2 + (unhealthy_threshold - 1) * interval
of a failed instance still receiving its share), router detection plus the
DNS TTL (``TTL/2`` of request loss per switch) and stale resolvers, and cached
dependencies (an outage shows only after the cache TTL).  Their neglected
second-order error is the product of two small unavailabilities (e.g. a second
failure during a failover) and is stated in the docs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field
from typing import Iterable

import numpy as np

from hasim.units import HOURS_PER_YEAR
from hasim.model.scenario import Scenario, Service
from hasim.model.structure import needed, share

__all__ = ["analyze", "Analysis", "TIERS", "instance_availability", "nines"]

#: SLA tiers in percent with the downtime they allow per year (minutes).
TIERS = (99.0, 99.9, 99.99, 99.999)
_MINUTES_PER_YEAR = HOURS_PER_YEAR * 60.0
_MAX_ZONE_CONFIGS = 1 << 14
_MAX_CONDITIONING = 200_000
_ROUND = 12

Dist = dict  # value -> probability, a finite discrete law of a served fraction


def instance_availability(svc_or_zone) -> float:
    """MTTF / (MTTF + MTTR) of one instance (or zone): exact for any pair of laws."""
    mttf, mttr = svc_or_zone.failure.mean_hours, svc_or_zone.repair.mean_hours
    return mttf / (mttf + mttr)


def nines(availability: float) -> float:
    """-log10(1 - A): 3.0 for 99.9 %. Infinite for A = 1."""
    return math.inf if availability >= 1.0 else -math.log10(1.0 - availability)


def _point(value: float) -> Dist:
    return {round(float(value), _ROUND): 1.0}


def _add(law: Dist, value: float, p: float) -> None:
    if p > 0.0:
        key = round(float(value), _ROUND)
        law[key] = law.get(key, 0.0) + p


def _product(a: Dist, b: Dist) -> Dist:
    out: Dist = {}
    for va, pa in a.items():
        for vb, pb in b.items():
            _add(out, va * vb, pa * pb)
    return out


def _mean_of_copies(shard: Dist, copies: int) -> Dist:
    """Law of the mean of ``copies`` independent draws from ``shard``."""
    total: Dist = {0.0: 1.0}
    for _ in range(copies):
        nxt: Dist = {}
        for vt, pt in total.items():
            for vs, ps in shard.items():
                _add(nxt, vt + vs, pt * ps)
        total = nxt
    return {round(v / copies, _ROUND): p for v, p in total.items()}


def _binomial(m: int, a: float) -> list[float]:
    return [math.comb(m, h) * a**h * (1.0 - a) ** (m - h) for h in range(m + 1)]


def _standby_chain(n: int, lam: float, mu: float, idle_factor: float) -> tuple[np.ndarray, float]:
    """Stationary law of the number of failed instances of a standby group.

    One instance is active (failure rate ``lam``), the other healthy ones idle
    at ``idle_factor * lam`` (1 hot, ``warm_factor`` warm, 0 cold); each failed
    instance is repaired independently at rate ``mu``.  Returns the law over
    0..n failed and the rate of entering "all failed".
    """
    up_rates = [lam + idle_factor * lam * (n - 1 - f) for f in range(n)]
    weights = [1.0]
    for f in range(n):
        weights.append(weights[-1] * up_rates[f] / ((f + 1) * mu))
    pi = np.asarray(weights) / sum(weights)
    return pi, float(pi[n - 1] * up_rates[n - 1])


def _route(route: str, weights: list[float], values: tuple[float, ...]) -> float:
    """Served fraction of a router given its targets' served fractions (instant switching)."""
    if route == "failover":
        return next((v for v in values if v > 0.0), 0.0)
    live = [(w, v) for w, v in zip(weights, values) if v > 0.0]
    total = sum(w for w, _ in live)
    return sum(w * v for w, v in live) / total if total > 0 else 0.0


# --- the structural model ------------------------------------------------------------------


@dataclass
class _Params:
    """The primitive availabilities the structure is evaluated at (perturbed for frequencies)."""

    instance: dict[str, float]        # per-instance availability, by service
    shard: dict[str, float]           # warm/cold standby: availability of one shard (chain), by service
    zone: dict[str, float]            # zone availability, by zone


class _Structure:
    """Evaluates laws of served fractions for one scenario under given primitive availabilities."""

    def __init__(self, sc: Scenario, params: _Params):
        self.sc, self.p = sc, params
        self.edges = {name: svc.dependencies + list(svc.targets) for name, svc in sc.services.items()}
        self.placement = {name: [svc.zones[i % len(svc.zones)] if svc.zones else None for i in range(svc.replicas)]
                          for name, svc in sc.services.items()}
        self.chain = {z: sc.zone_chain(z) for z in sc.zones}

    # -- own pool --------------------------------------------------------------------------
    def available(self, name: str, zone_up: dict[str, bool]) -> int:
        """Instances of one shard of ``name`` whose zones are all up."""
        return sum(1 for z in self.placement[name] if z is None or all(zone_up[c] for c in self.chain[z]))

    def own(self, name: str, zone_up: dict[str, bool]) -> Dist:
        svc = self.sc.services[name]
        if not svc.has_instances:
            return _point(1.0)
        m = self.available(name, zone_up)
        if svc.mode == "standby" and svc.standby != "hot":
            up = self._chain_availability(name, m)
            shard = {1.0: up, 0.0: 1.0 - up}
        else:
            law = _binomial(m, self.p.instance[name])
            shard: Dist = {}
            for h, prob in enumerate(law):
                _add(shard, share(svc, h), prob)
        return _mean_of_copies(shard, svc.shards) if svc.shards > 1 else shard

    def _chain_availability(self, name: str, m: int) -> float:
        svc = self.sc.services[name]
        if m == 0:
            return 0.0
        base = self.p.shard[name]
        if m == svc.replicas:
            return base
        # Zone outages removed instances: the chain with the m that are left, shifted by
        # any perturbation applied to the full group (only used for frequencies).
        return min(1.0, max(0.0, _chain_up(svc, m) + base - _chain_up(svc, svc.replicas)))

    # -- whole served fraction ---------------------------------------------------------------
    def law(self, target: str, zone_up: dict[str, bool], fixed: dict[str, float], forced_own=None,
            forced_s=None) -> Dist:
        """Law of s_target given the zone states and fixed own values of shared services."""
        forced_own, forced_s = forced_own or {}, forced_s or {}
        memo: dict[str, Dist] = {}

        def go(name: str) -> Dist:
            if name in memo:
                return memo[name]
            if name in forced_s:
                memo[name] = _point(forced_s[name])
                return memo[name]
            svc = self.sc.services[name]
            if name in forced_own:
                law = _point(forced_own[name])
            elif name in fixed:
                law = _point(fixed[name])
            else:
                law = self.own(name, zone_up)
            if svc.is_router:
                target_laws = [go(t) for t in svc.targets]
                weights = svc.weights or [1.0] * len(svc.targets)
                routed: Dist = {}
                for combo in itertools.product(*(list(t.items()) for t in target_laws)):
                    prob = math.prod(p for _, p in combo)
                    _add(routed, _route(svc.route, weights, tuple(v for v, _ in combo)), prob)
                law = _product(law, routed)
            for dep in svc.dependencies:
                law = _product(law, go(dep))
            memo[name] = law
            return law

        return go(target)


def _chain_up(svc: Service, m: int) -> float:
    lam, mu = 1.0 / svc.failure.mean_hours, 1.0 / svc.repair.mean_hours
    idle = {"hot": 1.0, "warm": svc.warm_factor, "cold": 0.0}[svc.standby]
    pi, _ = _standby_chain(m, lam, mu, idle)
    return float(1.0 - pi[m])


def _paths_from(sc: Scenario, entry: str, edges: dict[str, list[str]]) -> dict[str, int]:
    """Number of distinct paths from ``entry`` to every service it reaches."""
    order = [s for s in reversed(sc.topological_order())]  # entry side first
    paths = {s: 0 for s in sc.services}
    paths[entry] = 1
    for s in order:
        for d in edges[s]:
            paths[d] += paths[s]
    return {s: c for s, c in paths.items() if c > 0}


class _Solver:
    """Expected served fraction and P(fully up) of a root service, exactly."""

    def __init__(self, sc: Scenario, params: _Params, root: str):
        self.sc, self.root = sc, root
        self.st = _Structure(sc, params)
        self.reach = _paths_from(sc, root, self.st.edges)
        self.shared = [s for s, c in self.reach.items() if c > 1]
        used = {z for s in self.reach for z in self.sc.services[s].zones}
        zones = sorted({c for z in used for c in sc.zone_chain(z)})
        if 2 ** len(zones) > _MAX_ZONE_CONFIGS:
            raise ValueError(f"{len(zones)} zones are too many for the exact solver (at most "
                             f"{int(math.log2(_MAX_ZONE_CONFIGS))}); use the simulator")
        self.zones = zones
        self.params = params

    def law(self, forced_own=None, forced_s=None) -> Dist:
        total: Dist = {}
        for states in itertools.product((True, False), repeat=len(self.zones)):
            p_zone = math.prod(self.params.zone[z] if up else 1.0 - self.params.zone[z]
                               for z, up in zip(self.zones, states))
            if p_zone == 0.0:
                continue
            zone_up = {z: True for z in self.sc.zones}
            zone_up.update(zip(self.zones, states))
            shared = [s for s in self.shared if s not in (forced_own or {}) and s not in (forced_s or {})]
            own_laws = [list(self.st.own(s, zone_up).items()) for s in shared]
            if math.prod(len(o) for o in own_laws) > _MAX_CONDITIONING:
                raise ValueError("the dependency graph shares too many services for the exact solver; "
                                 "use the simulator")
            for combo in itertools.product(*own_laws):
                p_combo = math.prod(p for _, p in combo)
                fixed = {s: v for s, (v, _) in zip(shared, combo)}
                for v, p in self.st.law(self.root, zone_up, fixed, forced_own, forced_s).items():
                    _add(total, v, p_zone * p_combo * p)
        return total

    def measures(self, forced_own=None, forced_s=None) -> tuple[float, float, float]:
        """(request availability, time availability, P(down)) of the root."""
        law = self.law(forced_own, forced_s)
        mean = sum(v * p for v, p in law.items())
        return mean, law.get(1.0, 0.0), law.get(0.0, 0.0)


# --- result types ----------------------------------------------------------------------------


@dataclass
class DelayTerm:
    """One first-order delay contribution, already mapped to the entry service."""

    service: str
    stage: str                 # detection | failover | dns | stale-cache
    events_per_year: float
    hours_per_event: float     # request-weighted loss at the service per event
    request_unavailability: float
    time_unavailability: float
    description: str


@dataclass
class CutSet:
    """A minimal set of components whose joint failure takes the entry service down."""

    order: int
    components: list[str]
    count: int                 # equivalent sets (by symmetry) summarised by this row
    probability: float         # steady-state P(all failed), summed over the equivalent sets
    share: float               # probability / request unavailability (rare-event approximation)


@dataclass
class Analysis:
    """What ``hasim analyze`` reports.  ``to_dict()`` is the ``--json`` contract."""

    scenario: str
    entry: str
    slo: float | None
    request_availability: float
    time_availability: float
    down_probability: float
    exact: bool
    notes: list[str]
    structural_request_availability: float
    structural_time_availability: float
    delay_terms: list[DelayTerm]
    services: list[dict]
    optional: list[dict]
    cut_sets: list[CutSet]

    @property
    def downtime_minutes_per_year(self) -> float:
        return (1.0 - self.request_availability) * _MINUTES_PER_YEAR

    @property
    def nines(self) -> float:
        return nines(self.request_availability)

    @property
    def tiers(self) -> list[dict]:
        return [{"tier": t, "allowed_minutes_per_year": round((1 - t / 100) * _MINUTES_PER_YEAR, 4),
                 "met": self.request_availability >= t / 100.0} for t in TIERS]

    @property
    def slo_margin_minutes_per_year(self) -> float | None:
        """Allowed minus expected downtime per year under the SLO (negative: missed)."""
        if self.slo is None:
            return None
        return (1 - self.slo / 100) * _MINUTES_PER_YEAR - self.downtime_minutes_per_year

    # -- DataFrames for notebooks ----------------------------------------------------------
    @property
    def summary(self):
        """One row per headline figure (pandas DataFrame: metric, value)."""
        import pandas as pd

        rows = [("request_availability", self.request_availability),
                ("time_availability", self.time_availability),
                ("down_probability", self.down_probability),
                ("nines", self.nines),
                ("downtime_minutes_per_year", self.downtime_minutes_per_year),
                ("structural_request_availability", self.structural_request_availability),
                ("structural_time_availability", self.structural_time_availability)]
        if self.slo is not None:
            rows.append(("slo_margin_minutes_per_year", self.slo_margin_minutes_per_year))
        return pd.DataFrame(rows, columns=["metric", "value"])

    @property
    def delays(self):
        """The first-order delay terms as a DataFrame, with minutes per year at the entry."""
        import pandas as pd

        frame = pd.DataFrame([asdict(t) for t in self.delay_terms],
                             columns=list(DelayTerm.__dataclass_fields__))
        frame["minutes_per_year"] = frame["request_unavailability"] * _MINUTES_PER_YEAR
        return frame

    @property
    def cuts(self):
        """The minimal cut sets as a DataFrame (components joined with ' + ')."""
        import pandas as pd

        rows = [{**asdict(c), "components": " + ".join(c.components)} for c in self.cut_sets]
        return pd.DataFrame(rows, columns=list(CutSet.__dataclass_fields__))

    def __repr__(self) -> str:
        return (f"Analysis({self.scenario!r}, request_availability={self.request_availability:.8f}, "
                f"time_availability={self.time_availability:.8f}, exact={self.exact})")

    def to_dict(self) -> dict:
        return {
            "scenario": self.scenario,
            "entry": self.entry,
            "request_availability": self.request_availability,
            "time_availability": self.time_availability,
            "down_probability": self.down_probability,
            "nines": self.nines,
            "downtime_minutes_per_year": self.downtime_minutes_per_year,
            "exact": self.exact,
            "notes": self.notes,
            "slo": self.slo,
            "slo_met": None if self.slo is None else self.request_availability >= self.slo / 100,
            "slo_margin_minutes_per_year": self.slo_margin_minutes_per_year,
            "tiers": self.tiers,
            "structural": {"request_availability": self.structural_request_availability,
                           "time_availability": self.structural_time_availability},
            "delay_terms": [asdict(t) for t in self.delay_terms],
            "services": self.services,
            "optional": self.optional,
            "cut_sets": [asdict(c) for c in self.cut_sets],
        }


# --- the analysis ----------------------------------------------------------------------------


def _default_params(sc: Scenario) -> _Params:
    inst, shard = {}, {}
    for name, svc in sc.services.items():
        if not svc.has_instances:
            continue
        a = instance_availability(svc)
        if svc.health_check is not None and not svc.is_router:
            # A repaired instance only counts for capacity once re-added (healthy_threshold probes).
            readd = svc.health_check.interval * (svc.health_check.healthy_threshold - 0.5)
            a = svc.failure.mean_hours / (svc.failure.mean_hours + svc.repair.mean_hours + readd)
        inst[name] = a
        if svc.mode == "standby" and svc.standby != "hot":
            shard[name] = _chain_up(svc, svc.replicas)
    zone = {z: instance_availability(zn) for z, zn in sc.zones.items()}
    return _Params(inst, shard, zone)


def _frequency(sc: Scenario, root: str, params: _Params, event: str) -> float:
    """Steady-state rate (per hour) at which ``root`` enters the event 'not fully up' or 'down'.

    Birnbaum: f = sum over primitive components of f_c * dP(event)/d a_c; the
    derivative is taken numerically on the exact model (a polynomial in a_c).
    """
    def p_event(p: _Params) -> float:
        ra, ta, down = _Solver(sc, p, root).measures()
        return 1.0 - ta if event == "not-full" else down

    total = 0.0
    solver = _Solver(sc, params, root)
    for table, key, rate in _primitives(sc, params, set(solver.reach)):
        a = getattr(params, table)[key]
        h = 1e-6 * max(min(a, 1.0 - a), 1e-9)
        hi, lo = _perturbed(params, table, key, a + h), _perturbed(params, table, key, a - h)
        total += rate * -(p_event(hi) - p_event(lo)) / (2 * h)
    return max(total, 0.0)


def _primitives(sc: Scenario, params: _Params, reach: set[str]) -> Iterable[tuple[str, str, float]]:
    """(table, key, transition frequency per hour of one unit, summed over identical units)."""
    for name in reach:
        svc = sc.services[name]
        if not svc.has_instances:
            continue
        if name in params.shard:
            lam, mu = 1.0 / svc.failure.mean_hours, 1.0 / svc.repair.mean_hours
            idle = {"warm": svc.warm_factor, "cold": 0.0}[svc.standby]
            _, down_rate = _standby_chain(svc.replicas, lam, mu, idle)
            # One binary shard: its failure frequency is the flow into "all failed".
            yield "shard", name, down_rate
        else:
            yield "instance", name, 1.0 / (svc.failure.mean_hours + svc.repair.mean_hours)
    used = {c for s in reach for z in sc.services[s].zones for c in sc.zone_chain(z)}
    for z in sorted(used):
        zone = sc.zones[z]
        yield "zone", z, 1.0 / (zone.failure.mean_hours + zone.repair.mean_hours)


def _perturbed(params: _Params, table: str, key: str, value: float) -> _Params:
    tables = {"instance": dict(params.instance), "shard": dict(params.shard), "zone": dict(params.zone)}
    tables[table][key] = value
    return _Params(tables["instance"], tables["shard"], tables["zone"])


class _FirstOrder:
    """Impacts of one short event at a service on the entry, with everything else up.

    First order means exactly this: while the event lasts, every other
    component is assumed up (the neglected error is the probability of a
    second concurrent failure).  Routers are *sticky* during the event: they
    keep sending clients to the target they were using until their health
    check notices it is down and the DNS answers expire, which
    :meth:`router_loss` models.
    """

    _QUAD = 256  # midpoints over the uniform probe phase

    def __init__(self, sc: Scenario, st: _Structure, root: str):
        self.sc, self.st, self.root = sc, st, root
        self._bases: dict[str | None, tuple[float, dict[str, float]]] = {}

    def zone_up(self, down_zone: str | None = None) -> dict[str, bool]:
        """Every zone up, except ``down_zone`` (and so everything within it)."""
        return {z: z != down_zone for z in self.sc.zones}

    def baseline(self, down_zone: str | None = None) -> tuple[float, dict[str, float]]:
        """s_entry and every service's value with everything up but ``down_zone``."""
        if down_zone not in self._bases:
            values: dict[str, float] = {}
            base = _deterministic(self.sc, self.st, self.root, self.zone_up(down_zone), {}, record=values)
            self._bases[down_zone] = (base, values)
        return self._bases[down_zone]

    def serves(self, name: str, down_zone: str | None = None) -> float:
        """The value of service ``name`` with everything up but ``down_zone``."""
        values: dict[str, float] = {}
        _deterministic(self.sc, self.st, name, self.zone_up(down_zone), {}, record=values)
        return values[name]

    def impact(self, name: str, value: float, on: str = "own", down_zone: str | None = None):
        """(drop in s_entry, drop in 1[s_entry = 1], router that would switch or None).

        ``down_zone``: the event happens while that zone is down (a common cause), so
        the baseline already has the zone's instances out.
        """
        base, base_values = self.baseline(down_zone)
        forced = {"own": {}, "s": {}}
        forced[on][name] = value
        values: dict[str, float] = {}
        hit = _deterministic(self.sc, self.st, self.root, self.zone_up(down_zone), {},
                             forced_own=forced["own"], forced_s=forced["s"], sticky=base_values, record=values)
        switching = None
        for r in self.sc.topological_order():
            svc = self.sc.services[r]
            if svc.is_router and len(svc.targets) > 1 and r != name and r in values:
                down = [t for t in svc.targets if base_values.get(t, 0) > 0 and values.get(t, 1) == 0]
                alive = [t for t in svc.targets if values.get(t, 0) > 0]
                if down and alive:
                    switching = r
                    break
        return base - hit, float(base == 1.0) - float(hit == 1.0), switching

    def router_loss(self, router: str, tau: float, dns: bool = True) -> tuple[float, float]:
        """(request-equivalent hours, degraded hours) lost through ``router`` for a target outage of ``tau``.

        The router notices after D = (U + unhealthy_threshold - 1) * interval
        (U uniform: the probe phase), then the share of clients on the old
        answer falls linearly over the TTL, and ``stale_fraction`` of them stay
        for ``stale_for``.
        """
        svc = self.sc.services[router]
        hc, dns = svc.health_check, (svc.dns if dns else None)
        ttl = dns.ttl if dns else 0.0
        f = dns.stale_fraction if dns else 0.0
        stale_for = dns.stale_for if dns and f > 0 else 0.0
        span = max(ttl, stale_for)
        phases = (np.arange(self._QUAD) + 0.5) / self._QUAD
        detect = np.zeros(1) if hc is None else (phases + hc.unhealthy_threshold - 1) * hc.interval
        after = np.maximum(tau - detect, 0.0)
        held = np.minimum(after, ttl)
        ramp = held - held**2 / (2 * ttl) if ttl > 0 else np.zeros_like(after)
        req = np.minimum(tau, detect) + (1 - f) * ramp + f * np.minimum(after, stale_for)
        time = np.minimum(tau, detect + span)
        return float(req.mean()), float(time.mean())


def _delay_terms(sc: Scenario, params: _Params, solver: _Solver) -> list[DelayTerm]:
    terms: list[DelayTerm] = []
    fo1 = _FirstOrder(sc, solver.st, solver.root)

    def add(name, stage, rate, tau, value, description, on="own", down_zone=None):
        """``rate`` events per hour, each holding ``name`` at ``value`` for ``tau`` hours."""
        if rate <= 0 or tau <= 0:
            return
        d_req, d_time, router = fo1.impact(name, value, on, down_zone)
        req_h, time_h = fo1.router_loss(router, tau) if router else (tau, tau)
        terms.append(DelayTerm(
            service=name, stage=stage, events_per_year=rate * HOURS_PER_YEAR,
            hours_per_event=req_h * d_req, request_unavailability=rate * req_h * d_req,
            time_unavailability=rate * time_h * d_time,
            description=description + (f" (seen through {router}'s switch)" if router else "")))

    for name in solver.reach:
        svc = sc.services[name]
        zone_rate = _zone_loss_rate(sc, svc)
        if svc.mode in ("standby", "quorum") and svc.failover is not None and svc.has_instances:
            fo = svc.failover
            lam = 1.0 / svc.failure.mean_hours + zone_rate
            a = params.instance[name]
            shard_down = 1.0 - 1.0 / svc.shards
            if svc.mode == "standby":
                # The active fails (it is up: a) while a healthy standby exists.
                S, n = svc.shards, svc.replicas
                rate = S / svc.failure.mean_hours * a * (1.0 - (1.0 - a) ** (n - 1))
                delay = fo.detection + fo.promotion
                add(name, "failover", rate, delay, shard_down,
                    f"detection {fo.detection * 3600:.0f}s + promotion {fo.promotion * 3600:.0f}s per failure "
                    f"of the active instance")
                # A zone outage takes the active of every shard that has it there, all at once;
                # if it also silences a service the promotion requires (a Sentinel quorum in
                # the same zone), the failover waits for the zone to come back.
                for z, share, zone_rate in _zone_hits(sc, svc):
                    if share >= 1.0:
                        continue  # no standby outside the zone: the exact model counts it
                    blocked = [r for r in fo.requires if fo1.serves(r, z) <= 0.0]
                    tau = sc.zones[z].repair.mean_hours + fo.promotion if blocked else delay
                    for k in range(1, S + 1):
                        weight = math.comb(S, k) * share**k * (1.0 - share) ** (S - k)
                        text = (f"zone {z} takes the active of {k} of {S} shard(s)" if S > 1 else
                                f"zone {z} takes the active instance")
                        text += (f"; the promotion waits for {', '.join(blocked)} (down with the zone)"
                                 if blocked else ": detection + promotion")
                        add(name, "failover", zone_rate * weight, tau, 1.0 - k / S, text, down_zone=z)
                    if not blocked:
                        rate += zone_rate * share * S
                if fo.success < 1.0:
                    # Down from the failed promotion until manual intervention or the repair
                    # of the failed instance (its residual repair time after the delay).
                    wait = svc.repair.partial_expectation(delay)
                    if fo.manual is not None:
                        wait -= svc.repair.partial_expectation(delay + fo.manual)
                    add(name, "failover", rate * (1.0 - fo.success), wait, shard_down,
                        f"promotion fails with probability {1 - fo.success:.3g}: down until manual "
                        f"intervention or repair")
            else:
                n, need = svc.replicas, needed(svc)
                # The leader (up: a) is lost while the others still hold a majority.
                keep = a * sum(_binomial(n - 1, a)[need:])
                rate = svc.shards * lam * keep
                # A zone outage that takes the leader and silences a service the election
                # requires (a KRaft controller quorum in the same zone) makes it wait for the zone.
                for z, share, zone_rate in _zone_hits(sc, svc):
                    blocked = [r for r in fo.requires if fo1.serves(r, z) <= 0.0]
                    if not blocked or n - round(share * n) < need:
                        continue  # no wait, or no majority left (the exact model counts it)
                    hit = svc.shards * zone_rate * share * keep
                    rate -= hit
                    add(name, "failover", hit, sc.zones[z].repair.mean_hours + fo.promotion, shard_down,
                        f"zone {z} takes the leader; the election waits for {', '.join(blocked)} "
                        f"(down with the zone)", down_zone=z)
                add(name, "failover", rate, fo.detection + fo.promotion, shard_down,
                    "leader election (detection + promotion) per loss of the leader")
            # Either mode: a failover whose detection ends while a required service serves
            # nothing waits for it.  That service is down with probability U and, taking its
            # outages as exponential with the mean D = U / frequency, the wait beyond the
            # detection already counted is E[(residual - detection)+] = D exp(-detection / D).
            for r in fo.requires:
                down = _Solver(sc, params, r).measures()[2]
                freq = _frequency(sc, r, params, "down")
                if down <= 0 or freq <= 0:
                    continue
                mean = down / freq
                wait = down * mean * math.exp(-fo.detection / mean)
                add(name, "failover", rate, wait, shard_down,
                    f"the {'promotion' if svc.mode == 'standby' else 'election'} waits for {r} when it is "
                    f"down ({down:.3g} of the time, outages of {mean * 60:.3g} min on average)")
        if svc.health_check is not None and not svc.is_router and svc.mode == "active" and svc.has_instances:
            hc = svc.health_check
            detect = hc.interval * (hc.unhealthy_threshold - 0.5)
            # The share is lost until the instance is removed or repaired, whichever is first:
            # E[min(D, R)] with D = (U + unhealthy_threshold - 1) * interval, U uniform.
            phases = (np.arange(256) + 0.5) / 256
            routed = float(np.mean([svc.repair.expected_min((u + hc.unhealthy_threshold - 1) * hc.interval)
                                    for u in phases]))
            n, k = svc.replicas, svc.min_healthy
            before, during = min(1.0, (n - 1) / k), (n - 1) / max(n, k)
            if not svc.retry and n >= 2 and before > during:
                rate = svc.shards * n / svc.failure.mean_hours
                add(name, "detection", rate, routed, 1.0 - (before - during) / svc.shards,
                    f"a failed instance keeps its 1/{n} share for E[min(D, repair)] = {routed * 3600:.0f}s "
                    f"(E[D] = {detect * 3600:.0f}s until {hc.unhealthy_threshold} failed probes)")
        if svc.is_router and len(svc.targets) > 1:
            weights = svc.weights or [1.0] * len(svc.targets)
            watched = svc.targets[:1] if svc.route == "failover" else svc.targets
            for t in watched:
                share = 1.0 if svc.route == "failover" else weights[svc.targets.index(t)] / sum(weights)
                rate = _frequency(sc, t, params, "down")
                d_req, d_time, _ = fo1.impact(name, 1.0 - share, "s")
                detect_req, detect_time = fo1.router_loss(name, math.inf, dns=False)
                full_req, full_time = fo1.router_loss(name, math.inf)
                hc = svc.health_check
                stages = [("detection", detect_req, detect_time,
                           f"{t} down: the router notices after E[D] = "
                           f"{hc.interval * (hc.unhealthy_threshold - 0.5) * 3600:.0f}s" if hc else "")]
                if svc.dns is not None:
                    stages.append(("dns", full_req - detect_req, full_time - detect_time,
                                   f"{t} down: clients keep the old answer, TTL {svc.dns.ttl * 3600:.0f}s "
                                   f"(TTL/2 lost)" + (f", {svc.dns.stale_fraction:.0%} for "
                                                      f"{svc.dns.stale_for * 60:.0f} min" if
                                                      svc.dns.stale_fraction else "")))
                for stage, req_h, time_h, text in stages:
                    if req_h <= 0:
                        continue
                    terms.append(DelayTerm(
                        service=name, stage=stage, events_per_year=rate * HOURS_PER_YEAR,
                        hours_per_event=req_h * share, request_unavailability=rate * req_h * d_req,
                        time_unavailability=rate * time_h * d_time, description=text))
        for cache in svc.cached:
            dep = sc.services[cache.service]
            rate = _frequency(sc, cache.service, params, "not-full")
            if rate <= 0:
                continue
            dep_ra, _, _ = _Solver(sc, params, cache.service).measures()
            loss_per_outage = (1.0 - dep_ra) / rate
            if _single_instance(dep):
                masked = dep.repair.expected_min(cache.ttl)
            else:  # outages of a composite service taken as exponential with the right mean
                masked = loss_per_outage * (1.0 - math.exp(-cache.ttl / loss_per_outage))
            d_req, d_time, _ = fo1.impact(cache.service, 0.0, "s")
            terms.append(DelayTerm(
                service=name, stage="stale-cache", events_per_year=rate * HOURS_PER_YEAR,
                hours_per_event=-masked,
                request_unavailability=-rate * masked * d_req,
                time_unavailability=-rate * masked * d_time,
                description=f"a cache masks the first {cache.ttl * 60:.3g} min of each outage of {cache.service}"))
    return terms


def _single_instance(svc: Service) -> bool:
    return svc.has_instances and svc.replicas == 1 and svc.shards == 1 and not svc.dependencies \
        and not svc.zones and not svc.is_router


def _zone_hits(sc: Scenario, svc: Service) -> list[tuple[str, float, float]]:
    """(zone, share of the service's instances it takes down, outage frequency per hour)."""
    out = []
    chains = [sc.zone_chain(svc.zones[i % len(svc.zones)]) for i in range(svc.replicas)] if svc.zones else []
    for z in sorted({c for chain in chains for c in chain}):
        share = sum(1 for chain in chains if z in chain) / svc.replicas
        zone = sc.zones[z]
        out.append((z, share, 1.0 / (zone.failure.mean_hours + zone.repair.mean_hours)))
    return out


def _zone_loss_rate(sc: Scenario, svc: Service) -> float:
    """Rate at which a zone outage takes away the instance that happens to be active (placement-weighted)."""
    if not svc.zones:
        return 0.0
    rate = 0.0
    for i in range(svc.replicas):
        for z in sc.zone_chain(svc.zones[i % len(svc.zones)]):
            zone = sc.zones[z]
            rate += 1.0 / (zone.failure.mean_hours + zone.repair.mean_hours) / svc.replicas
    return rate


def _cut_sets(sc: Scenario, params: _Params, solver: _Solver, unavailability: float) -> list[CutSet]:
    """Minimal cut sets of order 1 and 2 over zones and instances (by symmetry classes)."""
    st = solver.st
    reach = list(solver.reach)
    # Symmetry classes of instances: same service and same zone placement.
    classes = []  # (service, zone or None, [instance indices of one shard])
    for name in reach:
        svc = sc.services[name]
        if not svc.has_instances:
            continue
        by_zone: dict = {}
        for i, z in enumerate(st.placement[name]):
            by_zone.setdefault(z, []).append(i)
        for z, idx in by_zone.items():
            classes.append((name, z, idx))
    zones = sorted({c for s in reach for z in sc.services[s].zones for c in sc.zone_chain(z)})

    def down(failed_zones: set[str], failed: dict[tuple[str, int], set[int]]) -> bool:
        zone_up = {z: z not in failed_zones for z in sc.zones}
        return _deterministic(sc, st, solver.root, zone_up, failed) == 0.0

    def q_inst(name: str) -> float:
        if name in params.shard:
            return 1.0 - instance_availability(sc.services[name])
        return 1.0 - params.instance[name]

    def label(name: str, shard: int, i: int) -> str:
        svc = sc.services[name]
        return f"{name}[{i}]" if svc.shards == 1 else f"{name}/shard{shard}[{i}]"

    singles: list[CutSet] = []
    single_zone, single_class = set(), set()
    for z in zones:
        if down({z}, {}):
            single_zone.add(z)
            singles.append(CutSet(1, [f"zone {z}"], 1, 1 - params.zone[z], 0.0))
    for ci, (name, z, idx) in enumerate(classes):
        if down(set(), {(name, 0): {idx[0]}}):
            single_class.add(ci)
            count = len(idx) * sc.services[name].shards
            singles.append(CutSet(1, [label(name, 0, idx[0])], count, count * q_inst(name), 0.0))
    pairs: list[CutSet] = []
    free_zones = [z for z in zones if z not in single_zone]
    for z1, z2 in itertools.combinations(free_zones, 2):
        if down({z1, z2}, {}):
            pairs.append(CutSet(2, [f"zone {z1}", f"zone {z2}"], 1, (1 - params.zone[z1]) * (1 - params.zone[z2]), 0))
    free_classes = [c for c in range(len(classes)) if c not in single_class]
    for z in free_zones:
        for ci in free_classes:
            name, _, idx = classes[ci]
            if down({z}, {(name, 0): {idx[0]}}):
                count = len(idx) * sc.services[name].shards
                pairs.append(CutSet(2, [f"zone {z}", label(name, 0, idx[0])], count,
                                    count * (1 - params.zone[z]) * q_inst(name), 0))
    for a, b in itertools.combinations_with_replacement(free_classes, 2):
        (na, _, ia), (nb, _, ib) = classes[a], classes[b]
        shards = sc.services[na].shards
        options = []
        if a == b:
            if len(ia) >= 2:
                options.append(({(na, 0): {ia[0], ia[1]}}, shards * math.comb(len(ia), 2), 0, 0, ia[1]))
            if shards >= 2:
                options.append(({(na, 0): {ia[0]}, (na, 1): {ia[0]}}, math.comb(shards, 2) * len(ia) ** 2, 0, 1, ia[0]))
        elif na == nb:
            options.append(({(na, 0): {ia[0], ib[0]}}, shards * len(ia) * len(ib), 0, 0, ib[0]))
            if shards >= 2:
                options.append(({(na, 0): {ia[0]}, (na, 1): {ib[0]}}, shards * (shards - 1) * len(ia) * len(ib),
                                0, 1, ib[0]))
        else:
            options.append(({(na, 0): {ia[0]}, (nb, 0): {ib[0]}},
                            len(ia) * shards * len(ib) * sc.services[nb].shards, 0, 0, ib[0]))
        for failed, count, sa, sb, second in options:
            if down(set(), failed):
                pairs.append(CutSet(2, [label(na, sa, ia[0]), label(nb, sb, second)], count,
                                    count * q_inst(na) * q_inst(nb), 0))
    out = singles + pairs
    for c in out:
        c.share = c.probability / unavailability if unavailability > 0 else 0.0
    out.sort(key=lambda c: (c.order, -c.probability))
    return out


def _deterministic(sc: Scenario, st: _Structure, root: str, zone_up: dict[str, bool],
                   failed: dict[tuple[str, int], set[int]], forced_own=None, forced_s=None,
                   sticky: dict[str, float] | None = None, record: dict[str, float] | None = None) -> float:
    """s_root with the given zones and instances failed and everything else up.

    ``forced_own`` / ``forced_s`` pin a service's own or total served fraction;
    with ``sticky`` (the values of an earlier evaluation) routers keep the
    targets they used then; ``record`` receives every service's value.
    """
    forced_own, forced_s = forced_own or {}, forced_s or {}
    memo: dict[str, float] = {} if record is None else record

    def go(name: str) -> float:
        if name in memo:
            return memo[name]
        if name in forced_s:
            memo[name] = forced_s[name]
            return memo[name]
        svc = sc.services[name]
        own = 1.0
        if name in forced_own:
            own = forced_own[name]
        elif svc.has_instances:
            values = []
            for shard in range(svc.shards):
                dead = failed.get((name, shard), set())
                h = sum(1 for i, z in enumerate(st.placement[name]) if i not in dead and
                        (z is None or all(zone_up[c] for c in st.chain[z])))
                values.append(share(svc, h))
            own = sum(values) / len(values)
        if svc.is_router:
            weights = svc.weights or [1.0] * len(svc.targets)
            current = tuple(go(t) for t in svc.targets)
            if sticky is not None:
                # Route by the targets' earlier state, serve with their current one.
                before = tuple(sticky.get(t, 0.0) for t in svc.targets)
                if svc.route == "failover":
                    chosen = next((i for i, v in enumerate(before) if v > 0), None)
                    own *= current[chosen] if chosen is not None else 0.0
                else:
                    live = [i for i, v in enumerate(before) if v > 0]
                    total = sum(weights[i] for i in live)
                    own *= sum(weights[i] * current[i] for i in live) / total if total else 0.0
            else:
                own *= _route(svc.route, weights, current)
        for dep in svc.dependencies:
            own *= go(dep)
        memo[name] = own
        return own

    return go(root)


def analyze(scenario: Scenario, *, cut_sets: bool = True) -> Analysis:
    """Steady-state availability of ``scenario.entry``, computed exactly where possible.

    Parameters
    ----------
    scenario : Scenario
        The design.
    cut_sets : bool
        Also enumerate minimal cut sets of order 1 and 2.

    Returns
    -------
    Analysis
        Request and time availability, tiers, per-service figures, delay terms
        (first order) and cut sets.  ``exact`` is False when any delay term or
        approximation enters; ``notes`` says which.
    """
    sc = scenario
    params = _default_params(sc)
    solver = _Solver(sc, params, sc.entry)
    ra, ta, down = solver.measures()
    notes: list[str] = []
    for name in solver.reach:
        svc = sc.services[name]
        if svc.mode == "standby" and svc.standby != "hot" and svc.has_instances:
            if not (svc.failure.dist == "exponential" and svc.repair.dist == "exponential"):
                notes.append(f"{name}: {svc.standby} standby solved as a Markov chain with the means of "
                             f"non-exponential laws (approximation)")
            if svc.zones:
                notes.append(f"{name}: zone outages of a {svc.standby} standby group are approximated")
        if svc.health_check is not None and not svc.is_router and svc.mode == "active":
            notes.append(f"{name}: re-adding a repaired instance after {svc.health_check.healthy_threshold} "
                         "good probes counted as extra repair time (first order)")
    terms = _delay_terms(sc, params, solver)
    if terms:
        notes.append("delay terms are first order: a second failure during a delay is neglected")
    d_req = sum(t.request_unavailability for t in terms)
    d_time = sum(t.time_unavailability for t in terms)
    total_ra = min(1.0, max(0.0, ra - d_req))
    total_ta = min(1.0, max(0.0, ta - d_time))
    services = []
    for name in sc.topological_order():
        if name not in solver.reach:
            continue
        s_ra, s_ta, s_down = _Solver(sc, params, name).measures()
        services.append({"service": name, "request_availability": s_ra, "time_availability": s_ta,
                         "down_probability": s_down})
    optional = []
    for name in solver.reach:
        for opt in sc.services[name].optional:
            o_ra, o_ta, _ = _Solver(sc, params, opt).measures()
            optional.append({"service": opt, "used_by": name, "request_availability": o_ra,
                             "time_availability": o_ta})
    cuts = _cut_sets(sc, params, solver, 1.0 - total_ra) if cut_sets else []
    return Analysis(
        scenario=sc.name, entry=sc.entry, slo=sc.slo,
        request_availability=total_ra, time_availability=total_ta, down_probability=down,
        exact=not notes, notes=notes,
        structural_request_availability=ra, structural_time_availability=ta,
        delay_terms=terms, services=services, optional=optional, cut_sets=cuts,
    )
