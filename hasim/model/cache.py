"""Caches: a dependency behind a cache whose stale data hides its outages for a TTL (the ``stale-cache`` stage)."""

from __future__ import annotations

from hasim.model._types import Delay, HasimModel
from hasim.model.mechanism import Knob, Mechanism
from hasim.text import duration

__all__ = ["Cached", "MECHANISM"]


class Cached(HasimModel):
    """A dependency behind a cache: an outage of ``service`` is hidden for up to ``ttl``."""

    service: str
    ttl: Delay


def _knobs(name: str, svc) -> list[Knob]:
    out = []
    for i, cache in enumerate(svc.cached):
        def scaled(f, i=i, svc=svc):
            items = [c.model_dump(mode="json") for c in svc.cached]
            items[i]["ttl"] = svc.cached[i].ttl * f
            return items
        out.append(Knob(f"{name} cache TTL of {cache.service}", f"services.{name}.cached", "cache_ttl", cache.ttl,
                        scaled))
    return out


def _describe(svc) -> list[str]:
    return [f"cached {c.service} (TTL {duration(c.ttl)})" for c in svc.cached]


MECHANISM = Mechanism(
    name="cache", stage="stale-cache",
    summary="A cache in front of a dependency serves stale data for up to its TTL when the dependency "
            "fails, hiding short outages.",
    declares=("cached",),
    worse_when_raised={"cache_ttl": -1},
    service_knobs=_knobs, describe=_describe,
    used_by=lambda sc: [n for n, s in sc.services.items() if s.cached], column="deps",
    parts={"kernel": "hasim.sim.kernel._cache", "reference": "hasim.sim.reference.caches", "analytic": "hasim.analytic.mechanisms.cache",
           "tests": "tests/mechanisms/test_cache.py"},
)
