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

The first-order delay terms that correct this answer are in
:mod:`hasim.analytic.first_order` and :mod:`hasim.analytic.mechanisms`; the
whole analysis is :func:`hasim.analytic.analysis.analyze`.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from hasim.units import HOURS_PER_YEAR
from hasim.model.maintenance import share_of_time
from hasim.model.oncall import repair_hours
from hasim.model.scenario import Scenario, Service
from hasim.model.structure import needed, share

__all__ = ["TIERS", "instance_availability", "nines"]

#: SLA tiers in percent with the downtime they allow per year (minutes).
TIERS = (99.0, 99.9, 99.99, 99.999)
_MINUTES_PER_YEAR = HOURS_PER_YEAR * 60.0
_MAX_ZONE_CONFIGS = 1 << 14
_MAX_CONDITIONING = 200_000
_ROUND = 12

Dist = dict  # value -> probability, a finite discrete law of a served fraction


def instance_availability(svc_or_zone, sc: Scenario | None = None) -> float:
    """MTTF / (MTTF + MTTR) of one instance (or zone): exact for any pair of laws.

    Parameters
    ----------
    svc_or_zone : Service or Zone
        Anything with ``failure`` and ``repair`` laws.
    sc : Scenario, optional
        The design, whose on-call a service's paged repairs wait for (``repair_paged``: the
        instance is down for the response, then the repair).

    Returns
    -------
    float
        The steady-state probability that it is up (alternating renewal).
    """
    mttf = svc_or_zone.failure.mean_hours
    mttr = repair_hours(sc, svc_or_zone) if sc is not None and isinstance(svc_or_zone, Service) \
        else svc_or_zone.repair.mean_hours
    return mttf / (mttf + mttr)


def nines(availability: float) -> float:
    """-log10(1 - A): 3.0 for 99.9 %. Infinite for A = 1.

    Parameters
    ----------
    availability : float
        A probability in [0, 1].

    Returns
    -------
    float
        The number of nines, ``math.inf`` for a perfect availability.
    """
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


def windowed_measures(sc: Scenario, params: "_Params", root: str,
                      base: tuple[float, float, float] | None = None) -> tuple[float, float, float]:
    """``_Solver(...).measures()`` averaged over the maintenance windows of the services ``root``
    reaches (:mod:`hasim.model.maintenance`): solved for every set of them in a window at once,
    weighted by ``prod f x prod (1 - f)`` (independent phases, ``f`` each one's share of the time).
    ``base``: the measures without any window, if the caller has them already."""
    solver = _Solver(sc, params, root)
    names = [n for n in solver.reach if sc.services[n].maintenance is not None and sc.services[n].has_instances]
    if not names:
        return solver.measures() if base is None else base
    base = solver.measures() if base is None else base
    total = np.zeros(3)
    for states in itertools.product((False, True), repeat=len(names)):
        w = math.prod(share_of_time(sc.services[n].maintenance) if on else 1.0 - share_of_time(sc.services[n].maintenance)
                      for n, on in zip(names, states))
        held = frozenset(n for n, on in zip(names, states) if on)
        total += w * np.array(base if not held else _Solver(sc, params, root, held).measures())
    return float(total[0]), float(total[1]), float(total[2])


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

    def __init__(self, sc: Scenario, params: _Params, held: frozenset = frozenset()):
        self.sc, self.p = sc, params
        self.edges = {name: svc.dependencies + list(svc.targets) for name, svc in sc.services.items()}
        # A service in ``held`` is in a maintenance window: its first ``takes`` instances a shard are out.
        self.placement = {name: [svc.zones[i % len(svc.zones)] if svc.zones else None for i in range(svc.replicas)]
                          [svc.maintenance.takes if name in held else 0:] for name, svc in sc.services.items()}
        self.chain = {z: sc.zone_chain(z) for z in sc.zones}
        self.k = {name: needed(sc, name) for name in sc.services}

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
                _add(shard, share(svc, h, self.k[name]), prob)
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
        return min(1.0, max(0.0, _chain_up(self.sc, svc, m) + base - _chain_up(self.sc, svc, svc.replicas)))

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


def _chain_up(sc: Scenario, svc: Service, m: int) -> float:
    lam, mu = 1.0 / svc.failure.mean_hours, 1.0 / repair_hours(sc, svc)
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

    def __init__(self, sc: Scenario, params: _Params, root: str, held: frozenset = frozenset()):
        self.sc, self.root = sc, root
        self.st = _Structure(sc, params, held)
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


# --- parameters and event frequencies ------------------------------------------------------


def _default_params(sc: Scenario) -> _Params:
    inst, shard = {}, {}
    for name, svc in sc.services.items():
        if not svc.has_instances:
            continue
        a = instance_availability(svc, sc)
        if svc.health_check is not None and not svc.is_router:
            # A repaired instance only counts for capacity once re-added (healthy_threshold probes).
            readd = svc.health_check.interval * (svc.health_check.healthy_threshold - 0.5)
            a = svc.failure.mean_hours / (svc.failure.mean_hours + repair_hours(sc, svc) + readd)
        inst[name] = a
        if svc.mode == "standby" and svc.standby != "hot":
            shard[name] = _chain_up(sc, svc, svc.replicas)
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
            lam, mu = 1.0 / svc.failure.mean_hours, 1.0 / repair_hours(sc, svc)
            idle = {"warm": svc.warm_factor, "cold": 0.0}[svc.standby]
            _, down_rate = _standby_chain(svc.replicas, lam, mu, idle)
            # One binary shard: its failure frequency is the flow into "all failed".
            yield "shard", name, down_rate
        else:
            yield "instance", name, 1.0 / (svc.failure.mean_hours + repair_hours(sc, svc))
    used = {c for s in reach for z in sc.services[s].zones for c in sc.zone_chain(z)}
    for z in sorted(used):
        zone = sc.zones[z]
        yield "zone", z, 1.0 / (zone.failure.mean_hours + zone.repair.mean_hours)


def _perturbed(params: _Params, table: str, key: str, value: float) -> _Params:
    tables = {"instance": dict(params.instance), "shard": dict(params.shard), "zone": dict(params.zone)}
    tables[table][key] = value
    return _Params(tables["instance"], tables["shard"], tables["zone"])


# --- deterministic evaluation and the helpers of the first-order terms ----------------------


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
                values.append(share(svc, h, st.k[name]))
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
