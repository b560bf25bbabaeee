"""Timeouts and circuit breakers on dependency edges (the ``breaker`` stage: workers held by calls
that time out, and an open breaker failing fast after its dependency is back).

A *timeout* says how long a call waits for a dependency that does not answer.  A request of the
caller holds one of its workers for ``latency`` (the time the caller itself spends on it), plus
the timeout for every call that fails: while a share ``f`` of the calls to ``d`` fail, each
request keeps a worker ``calls_d * f * timeout_d / latency`` times longer, so the caller needs
that many more instances for the same load::

    hold = 1 + sum over watched edges (not open) of calls_d * f_d * timeout_d / latency

Its instances' need becomes ``hold * load / capacity`` and, past its capacity, it sheds -- or,
with ``overload``, collapses: a slow *optional* dependency, whose outage by itself costs nothing
the SLO counts, takes the caller down.

A *circuit breaker* (opossum, resilience4j, Hystrix) on an edge watches the dependency's failed
share ``f``:

* closed, it **opens** once ``f`` has stayed above ``threshold`` for ``window`` (the rolling
  error window); open, the caller does not call the dependency: no timeout holds a worker, the
  dependency's load from this edge is gone (and what the dependency would have called for it),
  and the requests are answered by the ``fallback`` (``serve``: counted as served, a cached or
  default answer; ``fail``: failed fast, which for a hard dependency fails the request);
* after ``reset_timeout`` it **half-opens** and lets calls through again (the load returns):
  if the dependency then fails more than ``threshold`` of them the breaker opens again at once,
  otherwise it closes.

Both are fluid: ``f`` is the dependency's failed share at the last event (between events it is
constant, or it ramps with a DNS switch and is read at the events), and a breaker's window is a
delay, not a count of calls.
"""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator
from pydantic_core import PydanticCustomError

from hasim.model._types import Delay, HasimModel, as_share
from hasim.model.mechanism import Knob, Mechanism
from hasim.text import duration

__all__ = ["Breaker", "MECHANISM", "hold_per_failure", "share"]

_SECOND = 1.0 / 3600.0


def share(raw, key: str, what: str) -> float:
    """``50%`` or ``0.5`` -> 0.5; anything else is an error naming ``key``."""
    value = as_share(raw)
    if value is None or not 0.0 < value < 1.0:
        raise PydanticCustomError("share", "expected {what} strictly between 0 and 1 like 50% or 0.5, got {g}",
                                  {"what": what, "g": repr(raw), "key": key})
    return value


class Breaker(HasimModel):
    """A circuit breaker on one dependency edge (opossum's defaults: 50 %, 10 s, 30 s).

    ``threshold``: the failed share of calls that opens it; ``window``: how long that share must
    last (the rolling window); ``reset_timeout``: how long it stays open before it half-opens;
    ``fallback``: ``serve`` (requests are answered without the dependency) or ``fail``.
    """

    threshold: float = 0.5
    window: Delay = 10 * _SECOND
    reset_timeout: Delay = 30 * _SECOND
    fallback: Literal["serve", "fail"] = "fail"

    @model_validator(mode="before")
    @classmethod
    def _percent(cls, data):
        if isinstance(data, dict) and "threshold" in data:
            return {**data, "threshold": share(data["threshold"], "threshold", "an error share")}
        return data

    @model_validator(mode="after")
    def _opens_at_all(self):
        if self.reset_timeout <= 0.0:
            raise PydanticCustomError("breaker", "reset_timeout must be positive: a breaker that half-opens at "
                                                 "once never stays open", {"key": "reset_timeout"})
        return self


def hold_per_failure(svc, dep: str) -> float:
    """Extra worker time per request, in units of the caller's ``latency``, for each unit of the failed
    share of ``dep``: ``calls * timeout / latency`` (0 without a timeout on the edge)."""
    t = svc.timeouts.get(dep)
    if not t or svc.latency is None:
        return 0.0
    return svc.calls.get(dep, 1.0) * t / svc.latency


def _knobs(name: str, svc) -> list[Knob]:
    out = []
    for dep, t in svc.timeouts.items():
        out.append(Knob(f"{name} timeout on {dep}", f"services.{name}.timeouts.{dep}", "timeout", t,
                        lambda f, v=t: v * f))
    return out  # a breaker's reset has no sign: longer keeps load off a struggling dependency and the fallback on


def _describe(svc) -> list[str]:
    out = [f"waits {duration(t)} for {dep}" for dep, t in svc.timeouts.items()]
    for dep, b in svc.breakers.items():
        out.append(f"breaker on {dep}: opens above {b.threshold:.0%} for {duration(b.window)}, half-opens after "
                   f"{duration(b.reset_timeout)}, fallback {b.fallback}")
    return out


MECHANISM = Mechanism(
    name="breaker", stage="breaker",
    summary="A call that times out holds a worker of its caller for the timeout, so a failing dependency eats its "
            "callers' capacity; a circuit breaker stops calling it while it fails, sheds its load and answers "
            "with a fallback.",
    declares=("latency", "timeouts", "breakers"),
    worse_when_raised={"timeout": +1},  # a longer timeout holds the caller's workers longer
    service_knobs=_knobs, describe=_describe, column="deps",
    used_by=lambda sc: [n for n, s in sc.services.items() if s.timeouts or s.breakers],
    badge=lambda svc: None if not svc.breakers else "breaker on " + ", ".join(svc.breakers),
    # No closed form: tests/mechanisms/test_breaker.py checks both engines against an independent simulation.
    parts={"kernel": "hasim.sim.kernel._breakers", "reference": "hasim.sim.reference.breakers",
           "tests": "tests/mechanisms/test_breaker.py"},
)
