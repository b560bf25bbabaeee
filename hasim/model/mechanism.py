"""What a mechanism is: the one description every layer above the model reads.

A *mechanism* is one way a design loses or keeps service: instances failing and being
repaired, zones taking instances down together, pools running short of capacity, failover,
health checks, DNS caching, caches serving stale data.  Each one lives in its own files,
one per layer (see the README's "Adding a mechanism"):

* its declaration, a module of :mod:`hasim.model` holding its pydantic model (the keys a
  scenario file may write) and its :class:`Mechanism`;
* its kernel module, its reference process, its first-order analytic term and its test
  module, named in :attr:`Mechanism.parts` (``tests/mechanisms/test_parts.py`` checks they
  exist);
* a one-line registration in :data:`hasim.model.mechanisms.MECHANISMS`.

Everything that describes a mechanism to people or to other studies reads it from here:
the stage it is charged to in the attribution tables, the parameters
:func:`hasim.sensitivity` varies and which way each should move the downtime, the line the
report's assumptions table and the architecture chart print for a service that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

__all__ = ["Knob", "Mechanism"]


@dataclass(frozen=True)
class Knob:
    """A parameter of a mechanism in one design, which a sensitivity study varies.

    Attributes
    ----------
    label : str
        For people: ``"db failover detection"``.
    path : str
        The dotted key :meth:`Scenario.replace` takes: ``"services.db.failover.detection"``.
    kind : str
        The kind of parameter (``"detection"``, ``"mtbf"``, ``"replicas"``...): the key of
        :attr:`Mechanism.worse_when_raised`.
    base : float
        Its value in the design: hours for durations, a count for ``unit="count"``.
    scaled : callable or None
        ``scaled(factor)`` is the value to write at ``path`` for the duration times
        ``factor``; ``None`` for counts (a sensitivity study moves those by one).
    unit : str
        ``"h"`` (a duration in hours), ``"count"`` (moved by one), ``"rps"`` (requests/s) or ``"ratio"``
        (a utilisation); all but counts are scaled.
    """

    label: str
    path: str
    kind: str
    base: float
    scaled: Callable[[float], Any] | None
    unit: str = "h"


def _nothing(*_: Any) -> list:
    return []


@dataclass(frozen=True)
class Mechanism:
    """One mechanism, described once for every layer that is not its own code.

    Attributes
    ----------
    name : str
        Its name, which is also the stem of its modules (``"health_check"``).
    stage : str
        The attribution stage charged while this mechanism keeps a loss going (one of
        :data:`hasim.model.mechanisms.STAGES`); empty for one that loses data, not service
        (replication).
    summary : str
        One sentence for people.
    declares : tuple of str
        The :class:`~hasim.model.scenario.Service` / :class:`~hasim.model.zone.Zone` keys
        that switch it on or set it (empty: every design has it).
    worse_when_raised : mapping
        For each :attr:`Knob.kind` of this mechanism, +1 when raising the parameter should cost
        availability and -1 when it should buy some: a study that finds the opposite beyond
        its CI has found something worth explaining.
    service_knobs, zone_knobs, scenario_knobs : callable
        ``service_knobs(name, service)`` / ``zone_knobs(name, zone)`` / ``scenario_knobs(scenario)``:
        the :class:`Knob` s of this mechanism in one service or zone of a design, or at its top
        level (the on-call, the config pushes).
    describe : callable
        ``describe(service)``: the phrases the report's assumptions table prints for a service
        that uses the mechanism, in the table's column :attr:`column`.
    column : str
        ``"failover"``, ``"routing"`` or ``"deps"``: where :attr:`describe` goes.
    used_by : callable
        ``used_by(scenario)``: the names of the services (or zones) in which the mechanism is at
        work; empty when the design does not use it.
    badge : callable
        ``badge(service)``: the short note the architecture chart prints in the service's box,
        or ``None``.
    parts : mapping
        Where its code lives, layer by layer: ``kernel``, ``reference``, ``analytic`` (module
        paths) and ``tests`` (a path from the repository root).  A mechanism without a part in
        some layer (zones have no first-order term: the exact solver covers them) omits it.
    """

    name: str
    stage: str
    summary: str
    declares: tuple[str, ...] = ()
    worse_when_raised: Mapping[str, int] = field(default_factory=dict)
    service_knobs: Callable[[str, Any], list[Knob]] = _nothing
    zone_knobs: Callable[[str, Any], list[Knob]] = _nothing
    scenario_knobs: Callable[[Any], list[Knob]] = _nothing
    describe: Callable[[Any], list[str]] = _nothing
    column: str = ""
    used_by: Callable[[Any], list[str]] = _nothing
    badge: Callable[[Any], str | None] = lambda service: None
    parts: Mapping[str, str] = field(default_factory=dict)
