"""Overload: a pool driven past what it can take collapses, and client retries can keep it down
after the trigger is gone (a metastable failure; the ``overload`` stage).

Without ``overload`` a pool short of capacity sheds the excess and serves ``capacity / load``
(:mod:`hasim.model.capacity`): perfect admission control, which never collapses.  With it:

* the pool's *offered* utilisation is the load its clients send over the capacity of its available
  instances, retries included: while a share ``f`` of requests fails and every failed attempt is
  retried up to ``retries.attempts`` times, the clients send ``1 + f + ... + f^(attempts-1)``
  attempts per request, at most ``1 + retries.budget`` (a retry budget, as in gRPC and Finagle);
* above ``overload.threshold`` for ``overload.grace`` the pool collapses (threads exhausted,
  queues full, GC thrash) and serves only ``overload.goodput`` of its capacity (0: nothing);
* a collapsed pool recovers only when its offered utilisation falls below ``overload.recovery``
  (at most the threshold: the gap is the hysteresis).  While it fails, ``f`` is large, the
  retries multiply the load, and the pool can stay collapsed after the zone loss or the peak
  that triggered it has passed, until the load falls (a daily trough) or a retry budget caps it.

Both are fluid approximations: attempts are spread over time (backoff changes when retries
arrive, not how many, so it has no key), and the retried requests that succeed are counted once.
``overload.admit`` puts an admission limiter in front of the pool (load shedding: Envoy's
adaptive concurrency, a token bucket, a queue bound): it lets in at most ``admit`` of the
available instances' capacity and rejects the rest at once, so the pool serves at most
``admit x H / k`` and is offered at most ``admit``, retries included.  Below the threshold it
never collapses: it sheds instead, the excess and, with a margin (``admit < 1``), a little more.

A pool with no instance available has no load to be overloaded by: the grace period does not run
while ``h = 0``, and a collapsed pool stays collapsed until instances are back and the load allows.
"""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from hasim.model._types import Delay, HasimModel, Int, PositiveFloat, Probability, as_share
from hasim.model.mechanism import Knob, Mechanism
from hasim.text import duration

__all__ = ["Overload", "Retries", "MECHANISM", "retry_factor"]


class Overload(HasimModel):
    """When a pool collapses under load, and when it recovers.

    Utilisations are offered load over the capacity of the available instances (1.0 = 100 %).
    """

    threshold: PositiveFloat = 1.0
    grace: Delay = 0.0
    recovery: PositiveFloat | None = None
    goodput: Probability = 0.0
    admit: PositiveFloat | None = None

    @model_validator(mode="after")
    def _hysteresis(self):
        if self.recovery is not None and self.recovery > self.threshold:
            raise PydanticCustomError("overload", "recovery ({r}) must be at most threshold ({t}): a pool that "
                                                  "recovers above the load that collapses it would collapse again at "
                                                  "once", {"r": f"{self.recovery:g}", "t": f"{self.threshold:g}",
                                                           "key": "recovery"})
        return self

    @model_validator(mode="before")
    @classmethod
    def _admit_percent(cls, data):
        if not isinstance(data, dict) or data.get("admit") is None:
            return data
        value = as_share(data["admit"])
        if value is None or not value > 0:
            raise PydanticCustomError("admit", "expected a positive share of capacity like 95% or 0.95, got {g}",
                                      {"g": repr(data["admit"]), "key": "admit"})
        return {**data, "admit": value}

    @property
    def admits(self) -> float:
        """The admission limit as a utilisation (inf without one)."""
        return float("inf") if self.admit is None else self.admit

    @property
    def recovers_below(self) -> float:
        """The recovery threshold (the collapse threshold when none is given: no hysteresis but the retries')."""
        return self.threshold if self.recovery is None else self.recovery


class Retries(HasimModel):
    """How the clients of a service retry its failed requests: ``attempts`` in all (1: no retry),
    with retries at most ``budget`` of the requests (``10%`` or ``0.1``; none: unlimited)."""

    attempts: Int = Field(default=3, ge=1)
    budget: float | None = None

    @model_validator(mode="before")
    @classmethod
    def _percent(cls, data):
        if not isinstance(data, dict) or "budget" not in data or data["budget"] is None:
            return data
        raw = data["budget"]
        value = as_share(raw)
        if value is None or not value >= 0:
            raise PydanticCustomError("budget", "expected a share >= 0 like 10% or 0.1, got {g}",
                                      {"g": repr(raw), "key": "budget"})
        return {**data, "budget": value}

    @property
    def cap(self) -> float:
        """The most attempts per request the budget allows (inf without a budget)."""
        return float("inf") if self.budget is None else 1.0 + self.budget


def retry_factor(attempts: int, cap: float, f: float) -> float:
    """Attempts per request when each attempt fails with probability ``f`` and failed ones are retried
    up to ``attempts`` in all, capped at ``cap``: ``min(cap, 1 + f + ... + f^(a - 1))``.

    Summed term by term, as the numba kernel does, so that both engines compare the same bits with a
    recovery threshold."""
    if f <= 0.0:
        return 1.0
    m, x = 1.0, 1.0
    for _ in range(attempts - 1):
        x *= f
        m += x
    return min(cap, m)


def _knobs(name: str, svc) -> list[Knob]:
    ov = svc.overload
    if ov is None:
        return []
    out = [Knob(f"{name} overload threshold", f"services.{name}.overload.threshold", "overload_threshold",
                ov.threshold, lambda f, v=ov.threshold: v * f, "ratio")]
    if ov.grace:
        out.append(Knob(f"{name} overload grace", f"services.{name}.overload.grace", "overload_grace", ov.grace,
                        lambda f, v=ov.grace: v * f))
    return out


def _describe(svc) -> list[str]:
    out = []
    ov = svc.overload
    if ov is not None:
        out.append(f"collapses above {ov.threshold:.0%} for {duration(ov.grace)}, recovers below "
                   f"{ov.recovers_below:.0%}" + (f", goodput {ov.goodput:.0%}" if ov.goodput else "")
                   + (f", admits at most {ov.admit:.0%}" if ov.admit is not None else ""))
    if svc.retries is not None:
        r = svc.retries
        out.append(f"clients try {r.attempts}x" + ("" if r.budget is None else f" (retry budget {r.budget:.0%})"))
    return out


MECHANISM = Mechanism(
    name="overload", stage="overload",
    summary="A pool offered more than its overload threshold for a grace period collapses and serves only its "
            "goodput until the offered load, retries included, falls below its recovery threshold.",
    declares=("overload", "retries"),
    worse_when_raised={"overload_threshold": -1, "overload_grace": -1},
    service_knobs=_knobs, describe=_describe, column="deps",
    used_by=lambda sc: [n for n, s in sc.services.items() if s.overload is not None],
    badge=lambda svc: None if svc.overload is None else f"collapses >{svc.overload.threshold:.0%}",
    # No closed form: tests/mechanisms/test_overload.py checks both engines against an independent simulation.
    parts={"kernel": "hasim.sim.kernel._overload", "reference": "hasim.sim.reference.overload",
           "tests": "tests/mechanisms/test_overload.py"},
)
