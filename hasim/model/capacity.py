"""Capacity (the ``capacity`` stage): a pool serves less when it has fewer instances than it needs.

How many it needs comes one of two ways:

* ``min_healthy: k`` says it outright: k instances carry the full load, fewer serve
  ``healthy / k``;
* ``capacity`` (requests/s one instance serves) and the ``load`` that reaches the pool say it
  in the units an SRE measures: a shard receiving ``d`` requests/s needs ``d / capacity``
  instances (a real number), and with ``h`` of them serves ``min(1, h * capacity / d)``: the
  excess is shed.  That *is* ``min(1, h / k)`` with ``k = d / capacity``, so every engine and
  the solver keep one rule and read ``k`` from :func:`hasim.model.structure.needed`.

Load enters where a service declares it (``load: 1200``, requests/s, or ``load: 70%`` of the
service's own healthy capacity) and flows to what it calls: each request makes one call to
every hard or optional dependency, or ``calls: {db: 3}`` of them; a failover router sends its
whole load to the target it uses (every target must be able to take it).  The load a
service receives is the load *offered* to it, whether or not its callers are serving: a
caller short of instances still forwards what it admits, and a design is judged at the load
its users send.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import model_validator
from pydantic_core import PydanticCustomError

from hasim.errors import Problem
from hasim.model._types import HasimModel, as_share
from hasim.model.mechanism import Knob, Mechanism

__all__ = ["Load", "parse_load", "flow_edges", "demand", "daily_demand", "request_weights", "load_problems", "hour_classes",
           "at_hour", "HOURS", "MECHANISM"]


def _positive(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value) > 0:
        raise PydanticCustomError("load", "expected {what}, got {got}", {"what": what, "got": repr(value)})
    return float(value)


class Load(HasimModel):
    """The load a service receives from outside the design (its users).

    Exactly one of ``rate`` (requests per second) and ``utilisation`` (a share of the service's
    own capacity with every instance healthy, ``0.7`` for 70 %).  A file writes ``load: 1200``
    or ``load: 70%``; the mapping form ``load: {rate: 1200}`` is the same.

    ``daily``: 24 factors, one per hour of the day (simulated time 0 is midnight), by which
    the rate or utilisation is multiplied: ``{rate: 1000, daily: [0.3, 0.25, ...]}`` peaks at
    1000 x the largest factor.  Without it the load is the same at every hour.
    """

    rate: float | None = None
    utilisation: float | None = None
    daily: list[float] | None = None

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, data: Any) -> Any:
        return parse_load(data)

    @model_validator(mode="after")
    def _one(self):
        if (self.rate is None) == (self.utilisation is None):
            raise PydanticCustomError("load", "give either 'rate' (requests/s) or 'utilisation' (a share of "
                                              "capacity like 70%), not both or neither")
        if self.rate is not None:
            _positive(self.rate, "a positive rate in requests/s like 1200")
        else:
            _positive(self.utilisation, "a positive utilisation like 70% or 0.7")
        if self.daily is not None:
            if len(self.daily) != 24:
                raise PydanticCustomError("load", "daily: expected 24 factors, one per hour of the day, got {n}",
                                          {"n": len(self.daily)})
            if any(f < 0 for f in self.daily) or not any(f > 0 for f in self.daily):
                raise PydanticCustomError("load", "daily: expected factors >= 0, at least one of them > 0")
        return self

    def factors(self) -> tuple[float, ...]:
        """The 24 hourly factors (all 1 without ``daily``)."""
        return tuple(self.daily) if self.daily is not None else (1.0,) * 24


def parse_load(value: Any) -> Any:
    """``1200`` -> ``{rate: 1200}``, ``"70%"`` -> ``{utilisation: 0.7}``; a mapping is left as it is."""
    if isinstance(value, dict) or isinstance(value, Load):
        return value
    if isinstance(value, str):
        share = as_share(value) if value.strip().endswith("%") else None
        if share is not None and share > 0:
            return {"utilisation": share}
        if share is not None:
            raise PydanticCustomError("load", "expected a positive utilisation like 70%, got {got}",
                                      {"got": repr(value)})
        raise PydanticCustomError("load", "expected a rate in requests/s like 1200 or a utilisation like 70%, "
                                          "got {got}", {"got": repr(value)})
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError("load", "expected a rate in requests/s like 1200 or a utilisation like 70%, "
                                          "got {got}", {"got": repr(value)})
    return {"rate": _positive(value, "a positive rate in requests/s like 1200")}


HOURS = 24  #: hours of the daily profile


def external(svc) -> np.ndarray:
    """Requests/s the service receives from its users at each hour of the day (0 without ``load``)."""
    if svc.load is None:
        return np.zeros(HOURS)
    base = svc.load.rate if svc.load.rate is not None else \
        svc.load.utilisation * svc.capacity * svc.replicas * svc.shards
    return base * np.asarray(svc.load.factors(), dtype=float)


def flow_edges(sc) -> list[tuple[str, str, float]]:
    """Every edge load flows along, as ``(caller, callee, calls per request of the caller)``, each caller
    before what it calls: a dependency (``calls``, default 1), each target of a weighted router (its
    weight's share) and every target of a failover router (all of it: the one in use takes it all)."""
    out = []
    for name in reversed(sc.topological_order()):  # callers before what they call
        svc = sc.services[name]
        for dep in list(svc.dependencies) + [o for o in svc.optional if o not in svc.dependencies]:
            out.append((name, dep, float(svc.calls.get(dep, 1.0))))
        if svc.route == "weighted":
            # Each target's load would depend on which targets are healthy; hasim does not model that yet
            # (the flow goes on by weight so that the targets are not also reported as receiving none).
            weights = svc.weights or [1.0] * len(svc.targets)
            out += [(name, t, wt / sum(weights)) for t, wt in zip(svc.targets, weights)]
        elif svc.route == "failover":
            out += [(name, t, 1.0) for t in svc.targets]
    return out


def _flow(sc) -> tuple[dict[str, np.ndarray], list[Problem]]:
    """Requests/s offered to every service at each hour, and the problems of the flow (a weighted router)."""
    offered = {name: external(svc) for name, svc in sc.services.items()}
    for caller, callee, calls in flow_edges(sc):
        offered[callee] = offered[callee] + offered[caller] * calls
    problems = [Problem(f"services.{name}.route", "load through route: weighted is not modelled (each target's "
                        "share would depend on which targets are healthy); give the load to the targets instead, "
                        "or use route: failover")
                for name, svc in sc.services.items() if svc.route == "weighted" and offered[name].any()]
    return offered, problems


def daily_demand(sc) -> dict[str, np.ndarray]:
    """Requests/s offered to every service of a valid scenario at each of the 24 hours of the day (0 where
    no load reaches), all shards together."""
    return _flow(sc)[0]


def demand(sc) -> dict[str, float]:
    """Requests/s offered to every service of a valid scenario at its peak hour (0 where no load reaches),
    all shards together."""
    return {name: float(d.max()) for name, d in daily_demand(sc).items()}


def request_weights(sc) -> np.ndarray:
    """How many requests each hour of the day carries relative to the mean hour: the entry's offered load
    over its daily mean (all 1 when the entry's load is constant or it receives none).  Request
    availability is the mean served fraction weighted by these."""
    d = daily_demand(sc)[sc.entry]
    if not d.any():
        return np.ones(HOURS)
    return d / d.mean()


def hour_classes(sc) -> list[tuple[int, list[int]]]:
    """The hours of the day grouped by the load they carry everywhere: ``[(hour, hours alike)]``
    (one class of all 24 hours when every load is constant)."""
    key = {}
    flows = daily_demand(sc)
    for h in range(HOURS):
        sig = tuple(round(float(d[h]), 9) for d in flows.values())
        key.setdefault(sig, []).append(h)
    return [(hours[0], hours) for hours in key.values()]


def at_hour(sc, hour: int):
    """``sc`` with every load frozen at its value at ``hour`` (constant over the day): what the exact
    solver evaluates hour by hour.  Not validated again: a load may be 0 at that hour."""
    services = {}
    for name, svc in sc.services.items():
        if svc.load is not None and svc.load.daily is not None:
            f = svc.load.daily[hour]
            frozen = Load.model_construct(rate=None if svc.load.rate is None else svc.load.rate * f,
                                          utilisation=None if svc.load.utilisation is None
                                          else svc.load.utilisation * f, daily=None)
            svc = svc.model_copy(update={"load": frozen})
        services[name] = svc
    return sc.model_copy(update={"services": services})


def load_problems(sc) -> list[Problem]:
    """What is wrong with the load of a scenario whose names and references are valid."""
    offered, problems = _flow(sc)
    loaded = [n for n, s in sc.services.items() if s.load is not None]
    for name, svc in sc.services.items():
        if svc.capacity is not None and not offered[name].any():
            problems.append(Problem(f"services.{name}.capacity", f"no load reaches {name}: give the entry (or a "
                                    f"caller of {name}) a 'load' in requests/s, or remove 'capacity'"))
    for name in loaded:
        reached = _reached(sc, name)
        if not any(sc.services[r].capacity is not None for r in reached):
            problems.append(Problem(f"services.{name}.load", f"nothing the load of {name} reaches has a 'capacity' "
                                    "(requests/s per instance), so it changes nothing: give the pools that serve "
                                    "it a capacity"))
    return problems


def _reached(sc, start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            svc = sc.services[name]
            todo += list(svc.dependencies) + list(svc.optional) + list(svc.targets)
    return seen


def _knobs(name: str, svc) -> list[Knob]:
    if not svc.has_instances:
        return []
    out = [Knob(f"{name} replicas", f"services.{name}.replicas", "replicas", float(svc.replicas), None, "count")]
    if svc.capacity is not None:
        out.append(Knob(f"{name} capacity per instance", f"services.{name}.capacity", "capacity", svc.capacity,
                        lambda f, c=svc.capacity: c * f, "rps"))
    return out


def _describe(svc) -> list[str]:
    out = []
    if svc.capacity is not None:
        out.append(f"{svc.capacity:g} req/s per instance")
    if svc.load is not None:
        out.append(f"receives {svc.load.rate:g} req/s" if svc.load.rate is not None
                   else f"receives {svc.load.utilisation:.0%} of its capacity")
    out += [f"{n:g} calls to {dep} per request" for dep, n in svc.calls.items() if n != 1]
    return out


def _used_by(sc) -> list[str]:
    return [n for n, s in sc.services.items() if s.has_instances and not s.is_router
            and (s.mode == "quorum" or (s.mode == "active" and (s.replicas > 1 or s.capacity is not None)))]


MECHANISM = Mechanism(
    name="capacity", stage="capacity",
    summary="An active pool serves min(1, healthy / needed) of its requests, where needed is min_healthy or "
            "the load it receives over one instance's capacity (the excess is shed); a quorum needs a majority.",
    declares=("replicas", "min_healthy", "shards", "capacity", "load", "calls"),
    worse_when_raised={"replicas": -1, "capacity": -1},
    service_knobs=_knobs, describe=_describe, used_by=_used_by, column="deps",
    badge=lambda svc: None if svc.capacity is None else f"{svc.capacity:g} req/s each",
    # No first-order term: the exact solver covers it, and hasim.analytic.load solves utilisation and static stability.
    parts={"kernel": "hasim.sim.kernel._shards", "reference": "hasim.sim.reference.evaluation",
           "tests": "tests/mechanisms/test_capacity.py"},
)
