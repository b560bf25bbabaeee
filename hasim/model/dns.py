"""DNS: client-side caching of a router's answer, with a TTL and stale resolvers (the ``dns`` stage)."""

from __future__ import annotations

from pydantic import model_validator
from pydantic_core import PydanticCustomError

from hasim.model._types import Delay, HasimModel, Probability
from hasim.model.mechanism import Knob, Mechanism
from hasim.text import duration

__all__ = ["Dns", "MECHANISM"]


class Dns(HasimModel):
    """Client-side DNS caching behind a router.

    After the router changes its answer, the share of clients still on the
    old target falls linearly from 1 to 0 over ``ttl``; a share
    ``stale_fraction`` of clients (resolvers that ignore the TTL) stays on it
    for ``stale_for``.
    """

    ttl: Delay
    stale_fraction: Probability = 0.0
    stale_for: Delay = 0.0

    @model_validator(mode="after")
    def _stale_pair(self):
        if self.stale_fraction > 0 and self.stale_for == 0:
            raise PydanticCustomError(
                "missing_parameter", "stale_fraction > 0 needs 'stale_for' (how long those clients stay)",
                {"key": "stale_for"},
            )
        return self


def _knobs(name: str, svc) -> list[Knob]:
    if svc.dns is None:
        return []
    return [Knob(f"{name} DNS TTL", f"services.{name}.dns.ttl", "dns_ttl", svc.dns.ttl, lambda f, v=svc.dns.ttl: v * f)]


def _describe(svc) -> list[str]:
    d = svc.dns
    if d is None:
        return []
    text = f"DNS TTL {duration(d.ttl)}"
    if d.stale_fraction:
        text += f", {100 * d.stale_fraction:g} % stale for {duration(d.stale_for)}"
    return [text]


def _badge(svc) -> str | None:
    return f"TTL {duration(svc.dns.ttl)}" if svc.dns is not None and svc.dns.ttl else None


MECHANISM = Mechanism(
    name="dns", stage="dns",
    summary="After a router changes its answer, clients move over the TTL; stale resolvers stay on the "
            "old answer for stale_for.",
    declares=("dns",),
    worse_when_raised={"dns_ttl": 1},
    service_knobs=_knobs, describe=_describe,
    used_by=lambda sc: [n for n, s in sc.services.items() if s.dns is not None], column="routing", badge=_badge,
    parts={"kernel": "hasim.sim.kernel._dns", "reference": "hasim.sim.reference.routers", "analytic": "hasim.analytic.mechanisms.routing",
           "tests": "tests/mechanisms/test_dns.py"},
)
