"""The registry: every mechanism of the model, one line each, and the stages they are charged to.

Adding a mechanism is one line here (after its own modules exist: see
:mod:`hasim.model.mechanism` and the README's "Adding a mechanism").  The order of
:data:`MECHANISMS` is the order in which studies list a service's parameters and the report
its phrases.
"""

from __future__ import annotations

from hasim.model import (alerts, autoscaling, breaker, cache, capacity, deploys, dns, failover, health_check,
                         maintenance, oncall, overload, replication, zone)
from hasim.model.instances import REPAIR
from hasim.model.mechanism import Knob, Mechanism

__all__ = ["MECHANISMS", "in_use", "STAGES", "PRECEDENCE", "by_name", "by_stage", "knobs", "worse_when_raised"]

MECHANISMS: tuple[Mechanism, ...] = (
    zone.MECHANISM,
    REPAIR,
    failover.MECHANISM,
    health_check.MECHANISM,
    dns.MECHANISM,
    cache.MECHANISM,
    capacity.MECHANISM,
    overload.MECHANISM,
    breaker.MECHANISM,
    autoscaling.MECHANISM,
    replication.MECHANISM,
    deploys.MECHANISM,
    oncall.MECHANISM,
    alerts.MECHANISM,
    maintenance.MECHANISM,
)

#: The stage axis of every engine's output, in this order (a new stage goes at the end: the
#: kernel's output layout and stored batch results index it).
STAGES: tuple[str, ...] = ("detection", "failover", "dns", "capacity", "repair", "zone", "stale-cache", "overload",
                            "breaker", "scaling", "rollback", "response", "alerting", "maintenance")

#: When several mechanisms keep one loss going, the one charged: the first of these still
#: running (a region outage behind a cached dependency is the zone's, not the cache's).
PRECEDENCE: tuple[str, ...] = ("dns", "detection", "alerting", "response", "failover", "rollback", "scaling", "zone", "maintenance", "overload", "capacity",
                               "breaker", "stale-cache", "repair")


def by_name(name: str) -> Mechanism:
    """The mechanism called ``name``."""
    return next(m for m in MECHANISMS if m.name == name)


def by_stage(stage: str) -> Mechanism:
    """The mechanism charged with ``stage``."""
    return next(m for m in MECHANISMS if m.stage == stage)


def knobs(scenario) -> list[Knob]:
    """Every :class:`Knob` of a design: the top level's, zones, then each service's, mechanism by mechanism."""
    out = [k for m in MECHANISMS for k in m.scenario_knobs(scenario)]
    out += [k for zname, z in scenario.zones.items() for m in MECHANISMS for k in m.zone_knobs(zname, z)]
    for name, svc in scenario.services.items():
        out += [k for m in MECHANISMS for k in m.service_knobs(name, svc)]
    return out


def worse_when_raised() -> dict[str, int]:
    """Knob kind -> +1 when raising it should cost availability, -1 when it should buy some."""
    out: dict[str, int] = {}
    for m in MECHANISMS:
        out.update(m.worse_when_raised)
    return out


def in_use(scenario) -> list[tuple[Mechanism, list[str]]]:
    """The mechanisms at work in a design, each with the services (or zones) that use it."""
    return [(m, users) for m in MECHANISMS if (users := m.used_by(scenario))]
