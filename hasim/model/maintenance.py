"""Maintenance windows (the ``maintenance`` stage): redundancy taken away on a schedule.

Patching a kernel, upgrading a database minor version, replacing a disk: planned work that takes
instances out of service while the rest carry the load.  A window does not fail anything by itself
in a pool with room to spare; what it costs is the redundancy it takes away, so that a failure that
the pool would have ridden out during the window becomes an outage (the "maintenance plus one
failure" outage of every postmortem that begins "while a node was out for patching").

An active pool with ``maintenance: {every: 7d, lasting: 2h, takes: 1}`` takes ``takes`` instances of
each shard (the same ones every window: by symmetry, taking turns changes nothing) out of service
for ``lasting`` every ``every``, from a random phase per history (so windows are stationary: one
may be in progress at time 0).  A maintained instance is out as if its zone were down: its clock
stops (it neither fails nor is repaired meanwhile) and it comes back in the state it left in.  The
loss while a window keeps a pool short is charged to ``maintenance`` (after ``zone``); an outage a
window's start begins is caused by "maintenance <service>".  Maintenance applies to active pools
(a standby's maintenance is a planned switchover, and a quorum's a planned election: not modelled).

Exact (:func:`hasim.analytic.analysis.analyze`): an instance's clock runs outside its windows only,
so it is up with its usual probability whenever a window begins; during a window the pool is the
same pool with ``replicas - takes`` instances (placed as the ones that stay).  With windows of
several services at independent phases, the design is solved for every set of services in a window
and the answers averaged with weights ``prod f`` / ``prod (1 - f)``, ``f = lasting / every``.
"""

from __future__ import annotations

from pydantic import model_validator

from hasim.model._types import HasimModel, Int, PositiveDuration, inconsistent
from hasim.model.mechanism import Knob, Mechanism
from hasim.text import duration

__all__ = ["Maintenance", "MECHANISM", "maintenance_cause", "share_of_time"]


class Maintenance(HasimModel):
    """A window every ``every`` lasting ``lasting`` that takes ``takes`` instances of each shard out
    of service (see the module docstring)."""

    every: PositiveDuration
    lasting: PositiveDuration
    takes: Int = 1

    @model_validator(mode="after")
    def _shorter_than_the_period(self):
        if not self.lasting < self.every:
            inconsistent("lasting", "a window must end before the next one starts: expected lasting shorter than "
                                    "every ({e} h), got {l} h", e=round(self.every, 6), l=round(self.lasting, 6))
        if self.takes < 1:
            inconsistent("takes", "a window takes at least one instance out, got {t}", t=self.takes)
        return self


def maintenance_cause(name: str) -> str:
    """The root-cause label of the outages a window of ``name`` begins."""
    return f"maintenance {name}"


def share_of_time(mt: Maintenance) -> float:
    """The share of the time a window is in progress."""
    return mt.lasting / mt.every


def _knobs(name: str, svc) -> list[Knob]:
    mt = svc.maintenance
    if mt is None:
        return []
    base = f"services.{name}.maintenance"
    return [Knob(f"{name} maintenance window", f"{base}.lasting", "maintenance_lasting", mt.lasting,
                 lambda f, v=mt.lasting, e=mt.every: min(v * f, 0.999 * e)),
            Knob(f"{name} time between maintenance windows", f"{base}.every", "maintenance_every", mt.every,
                 lambda f, v=mt.every, d=mt.lasting: max(v * f, 1.001 * d))]


def _describe(svc) -> list[str]:
    mt = svc.maintenance
    if mt is None:
        return []
    return [f"maintenance every {duration(mt.every)} for {duration(mt.lasting)}, {mt.takes} instance(s) a shard out"]


MECHANISM = Mechanism(
    name="maintenance", stage="maintenance",
    summary="Planned windows take instances out of service on a schedule: a failure during one can become an outage.",
    declares=("maintenance",),
    worse_when_raised={"maintenance_lasting": +1, "maintenance_every": -1},
    service_knobs=_knobs, describe=_describe, column="failover",
    used_by=lambda sc: [n for n, s in sc.services.items() if s.maintenance is not None],
    badge=lambda svc: None if svc.maintenance is None else "maintenance",
    parts={"kernel": "hasim.sim.kernel._maintenance", "reference": "hasim.sim.reference.maintenance",
           "tests": "tests/mechanisms/test_maintenance.py"},
)
