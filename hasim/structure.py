"""The structure of a scenario, computed once for every engine, the solver and the results.

Who reads whose state, what the entry's served fraction can depend on, and the
role of every service.  Until issue 17 "what the entry depends on" was computed
in three places, and the one that labelled results left out
``failover.requires``: a coordination service was *required* on one engine and
*unused* on the other.  Everything here is a pure function of the
:class:`~hasim.model.Scenario`.
"""

from __future__ import annotations

from .model import Scenario

__all__ = ["reads", "reach", "roles"]


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
