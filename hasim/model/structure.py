"""The structure of a scenario, computed once for every engine, the solver and the results.

Who reads whose state, what the entry's served fraction can depend on, and the
role of every service.  Until issue 17 "what the entry depends on" was computed
in three places, and the one that labelled results left out
``failover.requires``: a coordination service was *required* on one engine and
*unused* on the other.  Everything here is a pure function of the
:class:`~hasim.model.scenario.Scenario`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from hasim.model.capacity import HOURS, daily_demand, demand, flow_edges, request_weights
from hasim.model.deploys import Deploys, change_cause, config_cause
from hasim.model.maintenance import maintenance_cause
from hasim.model.scenario import Scenario, Service

__all__ = ["reads", "watched", "flow_edges", "read_by", "reach", "roles", "needed", "needed_daily", "share", "demand", "daily_demand",
           "request_weights", "utilisation", "cause_labels", "Labels", "labels", "placement",
           "zone_descendants", "zones_that_matter", "dr_copies", "changed", "Change", "maintained"]


class Labels(NamedTuple):
    """The names of every axis of an engine's output, from the scenario alone: what
    :class:`hasim.results.summary.Results` reads, whichever engine produced the arrays."""

    scenario: Scenario
    services: list   # in output order: topological, dependencies first
    causes: list     # every service (an instance of it failed), then every zone ("zone Z")
    cause_kinds: list


def cause_labels(sc: Scenario) -> tuple[list[str], list[str]]:
    """(cause names, cause kinds) of a scenario, in output order: every service (its instances),
    every zone, then every process of changes (:func:`changed`: "change <name>", "config <push>",
    :mod:`hasim.model.deploys`), then every service with maintenance windows in topological order
    ("maintenance <name>": the outages a window's start begins, :mod:`hasim.model.maintenance`)."""
    services = sc.topological_order()
    changes = changed(sc)
    windows = maintained(sc)
    return (list(services) + [f"zone {z}" for z in sc.zones] + [c.cause for c in changes]
            + [maintenance_cause(n) for n in windows],
            ["instance"] * len(services) + ["zone"] * len(sc.zones) + ["change"] * len(changes)
            + ["maintenance"] * len(windows))


def maintained(sc: Scenario) -> list[str]:
    """The services with maintenance windows, in topological order (their causes' order)."""
    return [n for n in sc.topological_order() if sc.services[n].maintenance is not None]


class Change(NamedTuple):
    """One process of changes: a service's deploys, or a config push to several services."""

    cause: str            # "change <service>" or "config <push>"
    spec: Deploys         # its releases (a ConfigPush is a Deploys)
    services: list[str]   # the services it exposes


def changed(sc: Scenario) -> list[Change]:
    """Every process of changes, in cause order: the services with ``deploys`` in topological order,
    then the config pushes in declaration order."""
    out = [Change(change_cause(n), sc.services[n].deploys, [n]) for n in sc.topological_order()
           if sc.services[n].deploys is not None]
    return out + [Change(config_cause(n), push, list(push.services)) for n, push in sc.config_pushes.items()]


def labels(sc: Scenario) -> Labels:
    """The :class:`Labels` of ``sc``."""
    causes, kinds = cause_labels(sc)
    return Labels(sc, sc.topological_order(), causes, kinds)


def needed(sc: Scenario, name: str) -> float:
    """Available instances one shard of ``name`` needs to serve in full (at its peak hour).

    An active pool with a ``capacity`` needs the load offered to the shard over one instance's
    capacity (a real number: 2.1 means two instances serve 2 / 2.1 of the requests); otherwise
    ``min_healthy`` (active), a strict majority (quorum), one (standby, and a router's own
    instances)."""
    svc = sc.services[name]
    if svc.is_router or svc.mode == "standby":
        return 1
    if svc.mode == "quorum":
        return svc.replicas // 2 + 1
    if svc.capacity is not None:
        return demand(sc)[name] / svc.shards / svc.capacity
    return svc.min_healthy


def needed_daily(sc: Scenario, name: str) -> np.ndarray:
    """:func:`needed` at each of the 24 hours of the day (the same at every hour unless a daily
    load profile reaches the pool; 0 at an hour without load)."""
    svc = sc.services[name]
    if svc.capacity is not None and svc.mode == "active" and not svc.is_router:
        return daily_demand(sc)[name] / svc.shards / svc.capacity
    return np.full(HOURS, float(needed(sc, name)))


def share(svc: Service, h: int, k: float) -> float:
    """What one shard with ``h`` available instances serves when no failover, election or
    health check is in progress, ``k`` being :func:`needed`: ``min(1, h / k)`` for an active
    pool, all or nothing for the other modes."""
    if svc.mode == "active" and not svc.is_router:
        return 1.0 if h >= k else h / k  # k = 0: no load at this hour, nothing to lose
    return 1.0 if h >= k else 0.0


def utilisation(sc: Scenario, name: str, h: int) -> float:
    """Offered load over the capacity of ``h`` available instances of one shard of ``name`` (inf at
    ``h = 0``; NaN for a service without ``capacity``): above 1 the excess is shed."""
    svc = sc.services[name]
    if svc.capacity is None:
        return float("nan")
    k = needed(sc, name)
    return k / h if h > 0 else float("inf")


def reads(sc: Scenario) -> dict[str, list[str]]:
    """For every service, the services whose state it reads, each once: its hard dependencies
    (``requires`` and ``cached``), its router ``targets``, its ``failover.requires`` and the
    dependencies it watches (:func:`watched`).

    Other ``optional`` dependencies are not read: their outage degrades nothing the SLO counts.
    """
    out = {}
    for name, svc in sc.services.items():
        required = svc.failover.requires if svc.failover is not None else []
        out[name] = list(dict.fromkeys(svc.dependencies + list(svc.targets) + list(required) + watched(svc)))
    return out


def dr_copies(sc: Scenario) -> dict[str, list[str | None]]:
    """For every ``route: failover`` router, per target (in order): the disaster-recovery copy
    (a service with ``replication.of``, :mod:`hasim.model.replication`) the target reaches, or
    ``None``.  A router's answer moving to a target with a copy that the previous answer's target
    did not reach is a data-loss incident of that copy."""
    copies = [n for n, s in sc.services.items() if s.replication is not None and s.replication.of is not None]
    out = {}
    for name, svc in sc.services.items():
        if svc.route == "failover" and copies:
            out[name] = [next((c for c in copies if c in reach(sc, start=t)), None) for t in svc.targets]
    return out


def watched(svc: Service) -> list[str]:
    """The dependencies of ``svc`` whose failed share it acts on, in declaration order: those with a
    timeout (a failing call holds a worker) or a circuit breaker (:mod:`hasim.model.breaker`),
    optional ones included."""
    return [d for d in svc.dependencies + list(svc.optional) if d in svc.timeouts or d in svc.breakers]


def reach(sc: Scenario, optional: bool = False, start: str | None = None) -> set[str]:
    """The services the entry's (or ``start``'s) served fraction can depend on, itself included;
    with ``optional``, also those reached through ``optional`` dependencies (reported, not counted)."""
    edges = reads(sc)
    seen: set[str] = set()
    todo = [sc.entry if start is None else start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges[name])
            if optional:
                todo.extend(sc.services[name].optional)
    return seen


def roles(sc: Scenario) -> dict[str, str]:
    """``entry``, ``required`` (the entry can depend on it), ``optional`` (reached from the entry
    only through an ``optional`` dependency) or ``unused`` (nothing the entry reaches uses it),
    for every service."""
    needed, reported = reach(sc), reach(sc, optional=True)
    return {name: "entry" if name == sc.entry else "required" if name in needed else
            "optional" if name in reported else "unused" for name in sc.services}


def read_by(sc: Scenario) -> dict[str, list[str]]:
    """For every service, the services that read its state (the inverse of :func:`reads`), in
    topological order: whom an event at it must re-evaluate."""
    order = sc.topological_order()
    edges = reads(sc)
    out: dict[str, list[str]] = {name: [] for name in order}
    for reader in order:
        for name in edges[reader]:
            out[name].append(reader)
    return out


def placement(sc: Scenario) -> list[tuple[str, int, int, str | None]]:
    """Every instance in output order (services topological, then shards, then replicas) as
    ``(service, shard, replica, zone)``: replicas are spread round-robin over the service's zones
    (``None`` without zones)."""
    out = []
    for name in sc.topological_order():
        svc = sc.services[name]
        if svc.has_instances:
            for sh in range(svc.shards):
                for i in range(svc.replicas):
                    out.append((name, sh, i, svc.zones[i % len(svc.zones)] if svc.zones else None))
    return out


def zone_descendants(sc: Scenario) -> dict[str, list[str]]:
    """For every zone, the zones whose outage it takes with it: itself and every zone within it
    (at any depth), in declaration order."""
    return {z: [d for d in sc.zones if z in sc.zone_chain(d)] for z in sc.zones}


def zones_that_matter(sc: Scenario) -> set[str]:
    """The zones whose outage can touch the entry: those holding an instance of a service the
    entry depends on, and every zone those lie within (the ``zone`` stage looks only at these)."""
    needed = reach(sc)
    return {c for name, _, _, z in placement(sc) if z is not None and name in needed for c in sc.zone_chain(z)}
