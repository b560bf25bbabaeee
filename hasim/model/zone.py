"""Zones: failure domains (availability zone, region, rack), the common cause of the ``zone`` stage."""

from __future__ import annotations

from typing import ClassVar

from pydantic import field_validator, model_validator

from hasim.model._types import HasimModel, check_name, expand_shorthand
from hasim.model.distributions import Distribution
from hasim.model.mechanism import Knob, Mechanism

__all__ = ["Zone", "MECHANISM"]


class Zone(HasimModel):
    """A failure domain (availability zone, region, rack): a common cause.

    An outage of the zone takes down every instance placed in it or in a zone
    ``within`` it.  Zone processes are independent of each other.
    """

    shorthand_keys: ClassVar[tuple[str, ...]] = ("mtbf", "mttr")

    name: str | None = None
    failure: Distribution
    repair: Distribution
    within: str | None = None

    _expand = model_validator(mode="before")(classmethod(lambda cls, data: expand_shorthand(data)))
    _name = field_validator("name")(classmethod(lambda cls, v: check_name(v)))


def _scaled(dist):
    return lambda f: dist.scaled(f).model_dump(mode="json")


def _knobs(name: str, zone) -> list[Knob]:
    return [Knob(f"zone {name} MTBF", f"zones.{name}.failure", "mtbf", zone.failure.mean_hours, _scaled(zone.failure)),
            Knob(f"zone {name} MTTR", f"zones.{name}.repair", "mttr", zone.repair.mean_hours, _scaled(zone.repair))]


MECHANISM = Mechanism(
    name="zone", stage="zone",
    summary="An outage of a zone (or of a zone it is within) takes down every instance placed there at once.",
    declares=("zones", "within"),
    worse_when_raised={"mtbf": -1, "mttr": 1},
    zone_knobs=_knobs, used_by=lambda sc: list(sc.zones),
    # No first-order term: the exact solver conditions on every zone configuration.
    parts={"kernel": "hasim.sim.kernel._zones", "reference": "hasim.sim.reference.zones", "tests": "tests/mechanisms/test_zone.py"},
)
