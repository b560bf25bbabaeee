"""People (the ``response`` stage): the on-call engineer a manual recovery waits for.

"Human-in-the-loop recovery adds latency" (the guide).  With ``oncall:`` at the top level, a manual
recovery (``failover.manual``: a promotion that failed) is a chain instead of a fixed time (and so
is a ``paged`` rollback of a bad release, :mod:`hasim.model.deploys`): the page goes out when the
promotion fails, the engineer acknowledges and starts after ``respond``
(``night`` outside ``business_hours``, if given), then the manual action takes ``failover.manual``.
The wait for the engineer is charged to ``response``, the action itself to ``failover``; an
instance that comes back meanwhile ends both, as before.  A service with ``repair_paged: true``
repairs its instances by hand: a failed instance pages the engineer, and its ``repair`` starts
when they answer (a database server on hardware someone has to replace, where a Kubernetes pod
restarts itself); its instances are down for the response plus the repair, and the loss while a
failed one waits for the engineer is charged to ``response`` instead of ``repair`` (by the clock:
a zone outage meanwhile stops the repair's clock, the wait's included, as it always did).

The hour of the day is the simulation's clock (hour 0 is midnight; every day alike: weekends are
not told apart).  Published figures to start from: PagerDuty's guidance and most SRE rotations
ask for an acknowledgement within 5 minutes in business hours and 15 at night; Google's SRE book
puts the on-call response time at 5 minutes for user-facing services and 30 for less critical ones.

First order (:mod:`hasim.analytic.mechanisms.failover`): a failed promotion waits
``E[min(residual repair, response)]`` for the engineer, then ``failover.manual`` more unless the
repair comes first; pages fall uniformly over the hours of the day, so the response is the mixture
of ``respond`` (``business_hours`` of the 24) and ``night`` (the rest).  A paged repair's instance is
down for ``E[response] + E[repair]`` on average (:func:`repair_hours`): the steady-state solver's
availability of an instance depends on its repair's mean only.
"""

from __future__ import annotations

import math
from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from hasim.model._types import HasimModel, inconsistent
from hasim.model.deploys import Law
from hasim.model.mechanism import Knob, Mechanism

__all__ = ["OnCall", "MECHANISM", "day_share", "repair_hours"]


def _hours(value):
    if isinstance(value, (list, tuple)) and len(value) == 2:
        return [int(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and float(x).is_integer() else x
                for x in value]
    return value


class OnCall(HasimModel):
    """Who answers a page, and how fast (see the module docstring).

    ``respond``: from the page to the engineer acting (a duration or a law), in business hours or
    always; ``night``: the same outside ``business_hours`` (``[9, 18]``: from 09:00 to 18:00).
    """

    respond: Law
    night: Law | None = None
    business_hours: Annotated[list[int], BeforeValidator(_hours)] = Field(default_factory=lambda: [9, 18])

    @model_validator(mode="after")
    def _a_day(self):
        a, b = (self.business_hours + [0, 0])[:2] if len(self.business_hours) >= 2 else (None, None)
        if len(self.business_hours) != 2 or not (0 <= a < b <= 24):
            inconsistent("business_hours", "business_hours: expected [start, end] hours of the day with "
                                           "0 <= start < end <= 24, like [9, 18], got {got}", got=self.business_hours)
        return self

    def law_at(self, t: float):
        """The response law of a page at time ``t`` (hours of the simulation's clock, 0 at midnight)."""
        hour = min(int(t - 24.0 * math.floor(t / 24.0)), 23)
        a, b = self.business_hours
        return self.respond if self.night is None or a <= hour < b else self.night

    @property
    def laws(self) -> list:
        """``[(share of the day, law), ...]``: the response laws of a page at a uniform hour."""
        day = day_share(self)
        return [(day, self.respond)] + ([(1.0 - day, self.night)] if self.night is not None else [])

    @property
    def mean_response(self) -> float:
        """The mean response over a day whose hours page alike (hours)."""
        return sum(share * law.mean_hours for share, law in self.laws)


def repair_hours(sc, svc) -> float:
    """The mean time a failed instance of ``svc`` is down: its repair, after the on-call's response
    if its repairs are paged (``repair_paged``)."""
    wait = sc.oncall.mean_response if svc.repair_paged and sc.oncall is not None else 0.0
    return svc.repair.mean_hours + wait


def day_share(oc: OnCall) -> float:
    """The share of the day in business hours (1 without a ``night`` law: every hour alike)."""
    if oc.night is None:
        return 1.0
    a, b = oc.business_hours
    return (b - a) / 24.0


def _knobs_top(sc) -> list[Knob]:
    oc = sc.oncall
    if oc is None:
        return []
    out = [Knob("on-call response", "oncall.respond", "response", oc.respond.mean_hours,
                lambda f, d=oc.respond: d.scaled(f).model_dump(mode="json"))]
    if oc.night is not None:
        out.append(Knob("on-call response at night", "oncall.night", "response", oc.night.mean_hours,
                        lambda f, d=oc.night: d.scaled(f).model_dump(mode="json")))
    return out


MECHANISM = Mechanism(
    name="oncall", stage="response",
    summary="A manual recovery waits for the paged on-call engineer (slower at night), then takes its own time.",
    declares=("repair_paged",),
    worse_when_raised={"response": +1},
    scenario_knobs=_knobs_top, column="failover",
    used_by=lambda sc: [n for n, s in sc.services.items() if sc.oncall is not None and (
        (s.failover is not None and s.failover.manual is not None) or (s.deploys is not None and s.deploys.paged)
        or s.repair_paged
        or any(n in p.services and p.paged for p in sc.config_pushes.values()))],
    parts={"kernel": "hasim.sim.kernel._failover", "reference": "hasim.sim.reference.failover",
           "analytic": "hasim.analytic.mechanisms.failover", "tests": "tests/mechanisms/test_oncall.py"},
)
