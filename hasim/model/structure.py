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

from hasim.model.scenario import Scenario, Service

__all__ = ["reads", "reach", "roles", "needed", "share", "cause_labels", "Labels", "labels"]


class Labels(NamedTuple):
    """The names of every axis of an engine's output, from the scenario alone: what
    :class:`hasim.results.summary.Results` reads, whichever engine produced the arrays."""

    scenario: Scenario
    services: list   # in output order: topological, dependencies first
    causes: list     # every service (an instance of it failed), then every zone ("zone Z")
    cause_kinds: list


def cause_labels(sc: Scenario) -> tuple[list[str], list[str]]:
    """(cause names, cause kinds) of a scenario, in output order."""
    services = sc.topological_order()
    return (list(services) + [f"zone {z}" for z in sc.zones],
            ["instance"] * len(services) + ["zone"] * len(sc.zones))


def labels(sc: Scenario) -> Labels:
    """The :class:`Labels` of ``sc``."""
    causes, kinds = cause_labels(sc)
    return Labels(sc, sc.topological_order(), causes, kinds)


def needed(svc: Service) -> int:
    """Available instances a shard needs to serve in full: ``min_healthy`` (active), a strict
    majority (quorum), one (standby, and a router's own instances)."""
    if svc.is_router or svc.mode == "standby":
        return 1
    if svc.mode == "quorum":
        return svc.replicas // 2 + 1
    return svc.min_healthy


def share(svc: Service, h: int) -> float:
    """What one shard with ``h`` available instances serves when no failover, election or
    health check is in progress: ``min(1, h / min_healthy)`` for an active pool, all or nothing
    for the other modes."""
    k = needed(svc)
    if svc.mode == "active" and not svc.is_router:
        return min(1.0, h / k)
    return 1.0 if h >= k else 0.0


def reads(sc: Scenario) -> dict[str, list[str]]:
    """For every service, the services whose state it reads, each once: its hard dependencies
    (``requires`` and ``cached``), its router ``targets`` and its ``failover.requires``.

    ``optional`` dependencies are not read: their outage degrades nothing the SLO counts.
    """
    out = {}
    for name, svc in sc.services.items():
        required = svc.failover.requires if svc.failover is not None else []
        out[name] = list(dict.fromkeys(svc.dependencies + list(svc.targets) + list(required)))
    return out


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
