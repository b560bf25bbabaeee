"""Failover: how a standby service promotes a standby, or a quorum elects a leader (the ``failover`` stage)."""

from __future__ import annotations

from pydantic import Field

from hasim.model._types import Delay, HasimModel, PositiveDuration, Probability
from hasim.model.mechanism import Knob, Mechanism
from hasim.text import duration

__all__ = ["Failover", "MECHANISM"]


class Failover(HasimModel):
    """How a standby service promotes a standby, or a quorum elects a leader.

    The service is down for ``detection + promotion`` after its active instance
    (leader) fails.  With probability ``1 - success`` the promotion fails and the
    service stays down for ``manual`` (a human intervenes) or until an instance
    is repaired, whichever comes first.  ``requires``: services that must be up
    for a promotion to proceed (a Sentinel quorum); while one is down the
    failover waits.
    """

    detection: Delay = 0.0
    promotion: Delay = 0.0
    success: Probability = 1.0
    manual: PositiveDuration | None = None
    requires: list[str] = Field(default_factory=list)


def _knobs(name: str, svc) -> list[Knob]:
    fo = svc.failover
    if fo is None:
        return []
    return [Knob(f"{name} failover {key}", f"services.{name}.failover.{key}", key, getattr(fo, key),
                 lambda f, v=getattr(fo, key): v * f) for key in ("detection", "promotion")]


def _describe(svc) -> list[str]:
    fo = svc.failover
    if fo is None:
        return []
    parts = [f"detect {duration(fo.detection)}", f"promote {duration(fo.promotion)}"]
    if fo.success < 1:
        parts.append(f"success {fo.success:g}")
    if fo.manual is not None:
        parts.append(f"manual {duration(fo.manual)}")
    if fo.requires:
        parts.append("needs " + ", ".join(fo.requires))
    return parts


def _badge(svc) -> str | None:
    fo = svc.failover
    if fo is not None and (fo.detection or fo.promotion):
        return f"failover {duration(fo.detection + fo.promotion)}"
    return None


MECHANISM = Mechanism(
    name="failover", stage="failover",
    summary="A standby promotes after detection + promotion; a quorum elects a new leader; either may "
            "wait for the services in failover.requires, fail, and need a manual recovery.",
    declares=("failover", "standby", "warm_factor", "mode"),
    worse_when_raised={"detection": 1, "promotion": 1},
    service_knobs=_knobs, describe=_describe,
    used_by=lambda sc: [n for n, s in sc.services.items() if s.has_instances and s.mode in ("standby", "quorum")], column="failover", badge=_badge,
    parts={"kernel": "hasim.sim.kernel._failover", "reference": "hasim.sim.reference.failover", "analytic": "hasim.analytic.mechanisms.failover",
           "tests": "tests/mechanisms/test_failover.py"},
)
