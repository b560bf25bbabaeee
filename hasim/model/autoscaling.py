"""Autoscaling (the ``scaling`` stage): a pool that adds instances when its utilisation is above a
target, after a delay, and removes them when it is back below.

An auto-scaling group keeps its ``replicas`` (spread over its zones: ``min_per_zone`` of them in
each, the guide's "minimum of 2 per AZ") and a target-tracking policy on top:

* the policy wants ``ceil(need / target)`` instances in service, ``need`` being the instances the
  load needs at 100 % (:func:`hasim.model.structure.needed`, timeouts' held workers included);
* while fewer are in service (a zone lost, instances failed, the daily peak rising), a scale-out
  runs: ``delay`` later (launch, boot, warm-up, registration) the group has as many as it then
  wants, up to ``max`` in all;
* while more are in service than it wants, a scale-in runs: ``scale_in`` later the extra
  instances it added are removed (never the ``replicas``: they are the group's minimum).

The instances a scale-out adds are fluid: they serve at once when they arrive, do not fail while
they run (a second failure during a scale-out is neglected) and land in zones that are up.  The
loss while a scale-out is running is charged to ``scaling``; once the group is at ``max``, what
it still lacks is ``capacity``.
"""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from hasim.model._types import Delay, HasimModel, Int
from hasim.model.breaker import share
from hasim.model.mechanism import Knob, Mechanism
from hasim.text import duration

__all__ = ["Autoscaling", "MECHANISM", "wanted"]

_MINUTE = 1.0 / 60.0


class Autoscaling(HasimModel):
    """A target-tracking scaling policy (AWS: ``TargetValue``, the instance warm-up, ``MaxSize``).

    ``target``: the utilisation it keeps (``60%`` or ``0.6``); ``delay``: how long an instance takes
    to serve once asked for; ``scale_in``: how long the group stays above what it wants before it
    removes instances; ``max``: the most instances in all; ``min_per_zone``: the group's minimum in
    each of its zones (``replicas`` defaults to ``min_per_zone x zones`` and may not be fewer).
    """

    target: float
    delay: Delay = 5 * _MINUTE
    scale_in: Delay = 15 * _MINUTE
    max: Int = Field(ge=1)
    min_per_zone: Int | None = Field(default=None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _percent(cls, data):
        if isinstance(data, dict) and "target" in data:
            return {**data, "target": share(data["target"], "target", "a target utilisation")}
        return data


def wanted(need: float, target: float) -> int:
    """Instances the policy wants in service for a need of ``need`` (at 100 %): ``ceil(need / target)``,
    read to a billionth so that 4.2 / 0.7 is 6, not 7."""
    return max(0, math.ceil(need / target - 1e-9))


def _knobs(name: str, svc) -> list[Knob]:
    a = svc.autoscaling
    if a is None:
        return []
    return [Knob(f"{name} scale-out delay", f"services.{name}.autoscaling.delay", "scale_delay", a.delay,
                 lambda f, v=a.delay: v * f),
            Knob(f"{name} scaling target", f"services.{name}.autoscaling.target", "scale_target", a.target,
                 lambda f, v=a.target: min(0.99, v * f), "ratio")]


def _describe(svc) -> list[str]:
    a = svc.autoscaling
    if a is None:
        return []
    return [f"scales to {a.target:.0%} utilisation within {duration(a.delay)}, {svc.replicas} to {a.max} "
            f"instances"]


MECHANISM = Mechanism(
    name="autoscaling", stage="scaling",
    summary="A pool above its target utilisation gets more instances after a delay, up to a maximum, and gives "
            "them back when the load falls; the loss while it catches up is the delay's.",
    declares=("autoscaling",),
    worse_when_raised={"scale_delay": +1, "scale_target": +1},
    service_knobs=_knobs, describe=_describe, column="deps",
    used_by=lambda sc: [n for n, s in sc.services.items() if s.autoscaling is not None],
    badge=lambda svc: None if svc.autoscaling is None else f"ASG {svc.replicas}-{svc.autoscaling.max}",
    # No closed form: tests/mechanisms/test_autoscaling.py checks both engines against the rule.
    parts={"kernel": "hasim.sim.kernel._autoscaling", "reference": "hasim.sim.reference.autoscaling",
           "tests": "tests/mechanisms/test_autoscaling.py"},
)
