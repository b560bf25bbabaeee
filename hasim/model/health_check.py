"""Health checks: load-balancer probes that take failed instances out of rotation (the ``detection`` stage)."""

from __future__ import annotations

from pydantic import Field

from hasim.model._types import HasimModel, Int, PositiveDuration
from hasim.model.mechanism import Knob, Mechanism
from hasim.text import duration

__all__ = ["HealthCheck", "MECHANISM"]


class HealthCheck(HasimModel):
    """Load-balancer probes: a failed instance leaves rotation after
    ``unhealthy_threshold`` consecutive failed probes and comes back after
    ``healthy_threshold`` good ones.  The first probe falls at a uniformly
    random phase of ``interval``.
    """

    interval: PositiveDuration
    unhealthy_threshold: Int = Field(default=3, ge=1)
    healthy_threshold: Int = Field(default=2, ge=1)


def _knobs(name: str, svc) -> list[Knob]:
    hc = svc.health_check
    if hc is None:
        return []
    return [Knob(f"{name} health-check interval", f"services.{name}.health_check.interval", "health_check",
                 hc.interval, lambda f, v=hc.interval: v * f)]


def _describe(svc) -> list[str]:
    out = []
    if svc.health_check is not None:
        hc = svc.health_check
        out.append(f"probe every {duration(hc.interval)}, out after {hc.unhealthy_threshold}, "
                   f"in after {hc.healthy_threshold}")
    if svc.retry:
        out.append("retry on a healthy instance")
    return out


def _badge(svc) -> str | None:
    hc = svc.health_check
    return None if hc is None else f"probe {duration(hc.interval)}×{hc.unhealthy_threshold}"


MECHANISM = Mechanism(
    name="health_check", stage="detection",
    summary="A failed instance (or router target) keeps its share of requests until enough probes have "
            "failed; a repaired one comes back after enough good probes.",
    declares=("health_check", "retry"),
    worse_when_raised={"health_check": 1},
    service_knobs=_knobs, describe=_describe,
    used_by=lambda sc: [n for n, s in sc.services.items() if s.health_check is not None], column="routing", badge=_badge,
    parts={"kernel": "hasim.sim.kernel._healthcheck", "reference": "hasim.sim.reference.health", "analytic": "hasim.analytic.mechanisms.health_check",
           "tests": "tests/mechanisms/test_health_check.py"},
)
