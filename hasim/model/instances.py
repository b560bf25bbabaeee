"""The mechanism every pool has: instances that fail and are repaired (the ``repair`` stage).

Its keys are fields of :class:`~hasim.model.scenario.Service` itself (``failure``, ``repair``):
there is no separate declaration.  The pool's other mechanism, serving less when it is short of
instances, is :mod:`hasim.model.capacity`.
"""

from __future__ import annotations

from hasim.model.mechanism import Knob, Mechanism

__all__ = ["REPAIR"]


def _scaled(dist):
    return lambda f: dist.scaled(f).model_dump(mode="json")


def _repair_knobs(name: str, svc) -> list[Knob]:
    if not svc.has_instances:
        return []
    return [Knob(f"{name} MTBF", f"services.{name}.failure", "mtbf", svc.failure.mean_hours, _scaled(svc.failure)),
            Knob(f"{name} MTTR", f"services.{name}.repair", "mttr", svc.repair.mean_hours, _scaled(svc.repair))]


REPAIR = Mechanism(
    name="repair", stage="repair",
    summary="Each instance fails after a time drawn from its failure law and is back after one drawn from its repair law.",
    declares=("failure", "repair", "mtbf", "mttr"),
    worse_when_raised={"mtbf": -1, "mttr": 1},
    service_knobs=_repair_knobs,
    used_by=lambda sc: [n for n, s in sc.services.items() if s.has_instances],
    # The exact solver is this mechanism's analytic part (no first-order term).
    parts={"kernel": "hasim.sim.kernel._events", "reference": "hasim.sim.reference.instances", "tests": "tests/mechanisms/test_repair.py"},
)
