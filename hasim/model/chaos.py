"""Chaos experiments: faults injected into a scenario at given times, and what the design must do.

An experiment file names faults and, optionally, what the design is expected to achieve::

    name: az-loss
    faults:
      - zone: eu-west-1a          # the zone (or region) is down
        at: 5m                    # from the start of the experiment
        for: 30m                  # a duration, or a law ({dist: lognormal, median: 2h, sigma: 1})
    duration: 1h                  # what is observed, from the start
    expect: {recovers_within: 2m, min_served: 0.5}

Faults
------
``kill: SERVICE`` (``count`` instances of each shard, the lowest-index ones, for ``for`` or, by
default, a time drawn from the service's own repair law: a pod terminated and restarted);
``service: SERVICE`` (every instance of it: a dependency failing); ``zone: ZONE`` (a zone or a
region: every instance placed in it or in a zone within it); ``latency: SERVICE, add: DURATION``
(calls to it take ``add`` longer; every caller must have a ``timeouts`` entry for it no longer
than ``add``: hasim's load model sees a slow dependency only through its callers' timeouts, so
each call times out and the dependency is failed *for its callers*, while its own instances are
not); ``failover_fails: SERVICE`` (every promotion of that standby service during the
experiment fails, as ``failover.success: 0``: its ``manual`` time applies).

How a fault is simulated
------------------------
A timed fault is a *fault zone*: a zone of its own placed above what it takes down (a kill or a
service fault holds the instances it targets, within the zone each was in; a zone fault becomes
the zone's parent), which fails once at the fault's time and is repaired after its ``for``.
So both engines run the experiment as an ordinary scenario (:meth:`Experiment.apply`), the
fault is the root cause of what it does (the attribution names it) and its loss is charged to
the stages that act on it (detection, failover, dns, ...).  Every replica is first run for a
settle time (the experiment's ``duration`` rounded up to whole days, plus 30 days with
``background: true``) which is not measured: experiment time 0 is then midnight of a design
that has been running, and a fault zone, whose next failure would come a settle time after its
repair, fails only once.  Without ``background`` the components fail only as the faults make
them (their failure laws are set to never, and no release goes bad, no maintenance window opens,
no noise spikes the alert rules); with it they fail as the scenario says, and every replica is a
different history around the same faults.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, ValidationError, field_validator, model_validator

from hasim.errors import Problem, ScenarioError, problems_from_validation_error
from hasim.model._types import Delay, HasimModel, Int, PositiveDuration, Share, _positive_duration, check_name, inconsistent
from hasim.model.distributions import Distribution
from hasim.model.io import parse_text, read_source
from hasim.model.scenario import Scenario
from hasim.text import duration

__all__ = ["Expectations", "ServiceExpectations", "Experiment", "Fault", "FaultPlan", "PlannedFault", "load_experiment", "NEVER_HOURS",
           "SETTLE_BACKGROUND_HOURS"]

#: A failure law that never fires within any experiment (about 114,000 years).
NEVER_HOURS = 1e9
#: Added to the settle time with ``background: true``: long enough for every part's state to be
#: that of a design that has been running (repairs take hours, not weeks).
SETTLE_BACKGROUND_HOURS = 720.0

#: The keys that say what a fault is; exactly one per fault.
KINDS = ("kill", "service", "zone", "latency", "failover_fails")


def _law(value: Any) -> Any:
    """``for: 30m`` is the fixed law of 30 minutes; a mapping is any distribution."""
    if isinstance(value, dict) or hasattr(value, "dist"):
        return value
    return {"dist": "fixed", "value": _positive_duration(value)}


class Fault(HasimModel):
    """One fault of an experiment (see the module docstring for the kinds)."""

    kill: str | None = None
    count: Int | None = Field(default=None, ge=1)
    service: str | None = None
    zone: str | None = None
    latency: str | None = None
    add: PositiveDuration | None = None
    failover_fails: str | None = None
    at: Delay | None = None
    for_: Annotated[Distribution, BeforeValidator(_law)] | None = Field(default=None, alias="for")

    @model_validator(mode="after")
    def _one_kind(self):
        given = [k for k in KINDS if getattr(self, k) is not None]
        if not given:
            inconsistent(None, "a fault needs one of " + ", ".join(repr(k) for k in KINDS)
                 + " (e.g. {{kill: api, at: 5m}} or {{zone: eu-west-1a, at: 5m, for: 30m}})")
        if len(given) > 1:
            inconsistent(given[1], "one fault per item: this one gives both {a} and {b} (make two items)",
                 a=repr(given[0]), b=repr(given[1]))
        kind = given[0]
        if self.count is not None and kind != "kill":
            inconsistent("count", "'count' applies to kill (instances of each shard to kill)")
        if kind == "latency" and self.add is None:
            inconsistent("add", "latency needs 'add' (how much longer each call takes, e.g. 200ms)")
        if self.add is not None and kind != "latency":
            inconsistent("add", "'add' applies to latency faults")
        if kind == "failover_fails":
            for key in ("at", "for_"):
                if getattr(self, key) is not None:
                    inconsistent("for" if key == "for_" else key, "failover_fails holds for the whole experiment: "
                         "it takes no '{k}'", k="for" if key == "for_" else key)
        else:
            if self.at is None:
                inconsistent("at", "a {k} fault needs 'at' (when it happens, from the start of the experiment, "
                           "e.g. 5m)", k=kind)
            if self.for_ is None and kind != "kill":
                inconsistent("for", "a {k} fault needs 'for' (how long it lasts, e.g. 30m, or a law)", k=kind)
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)

    @property
    def target(self) -> str:
        return getattr(self, self.kind)

    @property
    def label(self) -> str:
        """For people: ``"kill 1 of api at 5m for its repair law"``."""
        k, t = self.kind, self.target
        what = {"kill": f"kill {self.count or 1} of {t}", "service": f"{t} down", "zone": f"zone {t} down",
                "latency": f"{t} +{duration(self.add or 0.0)} latency", "failover_fails": f"{t} failovers fail"}[k]
        if k == "failover_fails":
            return what
        if self.for_ is None:
            span = "its repair law"
        elif self.for_.dist == "fixed":
            span = duration(self.for_.mean_hours)
        else:
            span = f"a {self.for_.dist} law (mean {duration(self.for_.mean_hours)})"
        return f"{what} at {duration(self.at)} for {span}"


class ServiceExpectations(HasimModel):
    """What one service (not the entry) must do: ``recovers_within`` (it serves in full again within
    this of the first fault), ``min_served`` (its served fraction per step never falls below this)."""

    recovers_within: Delay | None = None
    min_served: Share | None = None

    @model_validator(mode="after")
    def _something(self):
        if self.recovers_within is None and self.min_served is None:
            inconsistent(None, "give recovers_within or min_served for this service")
        return self


class Expectations(HasimModel):
    """What the design must do under the faults; checked in every replica.

    ``recovers_within``: the entry serves in full again within this of the first fault;
    ``detects_within``: the time the entry lost requests while no mechanism had noticed the fault
    (the ``detection`` stage) is at most this; ``full_health_within``: every service serves in full
    again within this of the first fault; ``min_served``: the entry's served fraction, averaged
    over each step of ``resolution``, never falls below this; ``lost_at_most``: the requests lost
    to the faults, in time at full traffic (``1m``: a minute of all requests), at most this;
    ``writes_lost_at_most``: the writes the faults' promotions lose (a replicated standby's
    data-loss windows, :mod:`hasim.model.replication`), summed, at most this (the RPO of the test).
    ``services``: the same for other services, by name (``{db: {recovers_within: 2m}}``: the
    database's own failover, whatever the entry did meanwhile).
    ``tolerance``: the share of replicas allowed to miss an expectation (default 0: none may).
    """

    recovers_within: Delay | None = None
    detects_within: Delay | None = None
    full_health_within: Delay | None = None
    min_served: Share | None = None
    lost_at_most: Delay | None = None
    writes_lost_at_most: Delay | None = None
    services: dict[str, ServiceExpectations] = Field(default_factory=dict)
    tolerance: Share = 0.0

    @model_validator(mode="after")
    def _something(self):
        if not self.stated() and not self.services:
            inconsistent(None, "expect needs at least one of recovers_within, detects_within, "
                               "full_health_within, min_served, lost_at_most, writes_lost_at_most, "
                               "services")
        return self

    def stated(self) -> dict[str, float]:
        """The expectations given, by key."""
        keys = ("recovers_within", "detects_within", "full_health_within", "min_served", "lost_at_most",
                "writes_lost_at_most")
        return {k: getattr(self, k) for k in keys if getattr(self, k) is not None}


class Experiment(HasimModel):
    """A chaos experiment: faults injected into a scenario (see the module docstring).

    Parameters
    ----------
    name, description
        For people.
    faults : list of Fault
        At least one timed fault (``failover_fails`` only changes how the others play out).
    duration : duration
        What is observed, from the start of the experiment (default 1h); every fault starts in it.
    resolution : duration
        The step of the timelines: served fractions are averaged over each step (default 10s).
    background : bool
        Whether the scenario's own failures happen too (default false: only the faults).
    replicas : int
        Histories simulated (default 200): they differ by the draws of the probes' phases, the
        repair laws and the background.
    seed : int, optional
        Default: the scenario's.
    expect : Expectations, optional
        Checked in every replica; ``hasim chaos`` exits 1 when one is missed.
    """

    name: str
    description: str = ""
    faults: list[Fault] = Field(min_length=1)
    duration: PositiveDuration = 1.0
    resolution: PositiveDuration = 10.0 / 3600.0
    background: bool = False
    replicas: Int = Field(default=200, ge=1)
    seed: Int | None = Field(default=None, ge=0)
    expect: Expectations | None = None

    _name = field_validator("name")(classmethod(lambda cls, v: check_name(v)))

    @model_validator(mode="after")
    def _timed(self):
        if all(f.kind == "failover_fails" for f in self.faults):
            inconsistent("faults", "failover_fails only changes what a failure does: add a fault that causes one "
                           "(e.g. {{kill: db, at: 5m}})")
        for i, f in enumerate(self.faults):
            if f.at is not None and f.at >= self.duration:
                inconsistent(f"faults.{i}.at", "the fault starts at or after the end of the experiment (duration {d}): "
                                       "make 'duration' longer", d=_text(self.duration))
        if self.resolution > self.duration / 2:
            inconsistent("resolution", "the timeline's step must be at most half the duration")
        if self.duration / self.resolution > 20000:
            inconsistent("resolution", "more than 20000 steps: make the step longer (at most duration / 20000)")
        return self

    # -- the experiment as a scenario -------------------------------------------------------
    def check(self, sc: Scenario) -> None:
        """Raise :class:`ScenarioError` (key paths into the experiment) for a fault ``sc`` cannot take."""
        problems: list[Problem] = []
        for name in (self.expect.services if self.expect is not None else {}):
            if name not in sc.services:
                problems.append(Problem(f"expect.services.{name}",
                                        f"no service {name!r} in scenario {sc.name!r}{_known(sc.services)}"))
        for i, f in enumerate(self.faults):
            path = f"faults.{i}.{f.kind}"
            t = f.target
            if f.kind == "zone":
                if t not in sc.zones:
                    problems.append(Problem(path, f"no zone {t!r} in scenario {sc.name!r}{_known(sc.zones)}"))
                continue
            if t not in sc.services:
                problems.append(Problem(path, f"no service {t!r} in scenario {sc.name!r}{_known(sc.services)}"))
                continue
            svc = sc.services[t]
            if f.kind in ("kill", "service", "latency") and not svc.has_instances:
                problems.append(Problem(path, f"{t!r} is a router without instances of its own: fail its "
                                              "targets instead"))
            elif f.kind == "kill" and f.count is not None and f.count > svc.replicas:
                problems.append(Problem(f"faults.{i}.count", f"{t!r} has {svc.replicas} instance(s) per shard, "
                                                             f"not {f.count}"))
            elif f.kind == "failover_fails" and (svc.mode != "standby" or svc.failover is None):
                problems.append(Problem(path, f"{t!r} has no failover (failover_fails applies to a mode: standby "
                                              "service with a 'failover' block)"))
            elif f.kind == "latency":
                problems += _latency_problems(sc, t, f.add, f"faults.{i}")
        if problems:
            raise ScenarioError(problems)

    def apply(self, sc: Scenario) -> "FaultPlan":
        """The scenario both engines simulate, with a fault zone per timed fault (module docstring)."""
        self.check(sc)
        days = math.ceil(self.duration / 24.0 - 1e-12)
        settle = 24.0 * max(days, 1) + (SETTLE_BACKGROUND_HOURS if self.background else 0.0)
        data = sc.model_dump(mode="json", exclude_defaults=True, by_alias=True)
        for table in ("zones", "services"):
            for obj in data.get(table, {}).values():
                obj.pop("name", None)
        data.setdefault("zones", {})
        services = data["services"]
        never = {"dist": "fixed", "value": NEVER_HOURS}
        if not self.background:
            for name, svc in sc.services.items():
                if svc.has_instances:
                    services[name]["failure"] = dict(never)
                # Nothing but the faults: no release goes bad, no window takes an instance out.
                services[name].pop("deploys", None)
                services[name].pop("maintenance", None)
            for z in data["zones"].values():
                z["failure"] = dict(never)
            data.pop("config_pushes", None)
            data.pop("alert_noise", None)
            if not any(s.failover is not None and s.failover.manual is not None or s.repair_paged
                       for s in sc.services.values()):
                data.pop("oncall", None)  # it answered only the releases' pages
        # Every instance's zone, explicitly (round-robin expanded): a fault takes some of them.
        placed: dict[str, list[str | None]] = {}
        moved: set[str] = set()
        for name, svc in sc.services.items():
            if svc.has_instances:
                placed[name] = [svc.zones[i % len(svc.zones)] if svc.zones else None for i in range(svc.replicas)]
        planned: list[PlannedFault] = []
        for k, f in enumerate(self.faults):
            if f.kind == "failover_fails":
                services[f.target].setdefault("failover", {})["success"] = 0.0
                planned.append(PlannedFault(f.label, f.kind, f.target, None, (), None))
                continue
            start = settle + f.at
            law = f.for_ if f.for_ is not None else sc.services[f.target].repair
            fz = {"failure": {"dist": "fixed", "value": start}, "repair": law.model_dump(mode="json")}
            names: list[str] = []
            if f.kind == "zone":
                name = _fresh(f"fault{k + 1}", data["zones"])
                parent = data["zones"][f.target].get("within")
                data["zones"][name] = {**fz, **({"within": parent} if parent else {})}
                data["zones"][f.target]["within"] = name
                names.append(name)
            else:
                count = (f.count or 1) if f.kind == "kill" else sc.services[f.target].replicas
                where = placed[f.target]
                moved.add(f.target)
                by_zone: dict[str | None, str] = {}
                for j in range(count):
                    z = where[j]
                    if z not in by_zone:
                        name = _fresh(f"fault{k + 1}" + (f"-{z}" if z else ""), data["zones"])
                        data["zones"][name] = {**fz, **({"within": z} if z else {})}
                        by_zone[z] = name
                        names.append(name)
                    where[j] = by_zone[z]
            planned.append(PlannedFault(f.label, f.kind, f.target, f.at, tuple(names),
                                        f.for_.mean_hours if f.for_ is not None else None))
        for name in sorted(moved):
            where = placed[name]
            if any(z is None for z in where):
                # A pool without zones some of whose instances a fault takes: the others get a zone
                # that never fails, so that the placement names every instance's zone.
                calm = _fresh("calm", data["zones"])
                data["zones"][calm] = {"failure": dict(never), "repair": {"dist": "fixed", "value": 1.0}}
                where = [z if z is not None else calm for z in where]
            services[name]["zones"] = where
            if isinstance(services[name].get("autoscaling"), dict):
                services[name]["autoscaling"].pop("min_per_zone", None)  # replicas are explicit
            services[name]["replicas"] = sc.services[name].replicas
        data["window"] = self.resolution
        data["horizon"] = self.duration
        try:
            faulted = Scenario.model_validate(data)
        except (ValidationError, ScenarioError) as exc:  # a bug of this translation, not of the user's files
            raise RuntimeError(f"the experiment {self.name!r} does not translate into a valid scenario: {exc}") from exc
        return FaultPlan(self, sc, faulted, settle, tuple(planned))


def _fresh(base: str, taken: dict) -> str:
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def _text(hours: float) -> str:
    return duration(hours)


def _known(table: dict) -> str:
    names = list(table)
    return f" (it has: {', '.join(names)})" if names else " (it has none)"


def _latency_problems(sc: Scenario, target: str, add: float, path: str) -> list[Problem]:
    """A latency fault is simulated as the target failing for its callers: true only when every
    caller gives up on it (a timeout no longer than the added latency)."""
    callers = [n for n, s in sc.services.items()
               if target in s.requires or target in s.optional or any(c.service == target for c in s.cached)
               or target in s.targets]
    problems = []
    for c in callers:
        svc = sc.services[c]
        t = svc.timeouts.get(target)
        if target in svc.targets:
            problems.append(Problem(path, f"{c!r} routes to {target!r}: a router does not time out on a slow "
                                          "target, and hasim models latency only through callers' timeouts"))
        elif t is None:
            problems.append(Problem(path, f"{c!r} calls {target!r} without a timeout: hasim models latency only "
                                          f"through callers' timeouts (give services.{c}.timeouts.{target}, no "
                                          f"longer than the added {_text(add)})"))
        elif t > add:
            problems.append(Problem(path, f"{c!r} waits {_text(t)} for {target!r}, longer than the added "
                                          f"{_text(add)}: its calls succeed slowly, which hasim does not model "
                                          "(only calls that time out)"))
    if not callers:
        problems.append(Problem(path, f"nothing calls {target!r}"))
    return problems


@dataclass(frozen=True)
class PlannedFault:
    """A fault as simulated: ``zones`` are its fault zones (causes in the results), ``at`` its time
    from the start of the experiment (``None`` for ``failover_fails``), ``for_h`` its fixed or mean
    length when given."""

    label: str
    kind: str
    target: str
    at: float | None
    zones: tuple[str, ...]
    for_h: float | None


@dataclass(frozen=True)
class FaultPlan:
    """An experiment made a scenario: ``scenario`` is what the engines run, for ``horizon`` hours
    after a ``settle`` (warm-up) not measured; experiment time 0 is simulated time ``settle``."""

    experiment: Experiment
    original: Scenario
    scenario: Scenario
    settle: float
    faults: tuple[PlannedFault, ...]

    @property
    def horizon(self) -> float:
        return self.experiment.duration

    @property
    def first_fault(self) -> float:
        """Experiment time of the first timed fault."""
        return min(f.at for f in self.faults if f.at is not None)

    @property
    def fault_zones(self) -> list[str]:
        return [z for f in self.faults for z in f.zones]


def load_experiment(path) -> Experiment:
    """Read and validate an experiment file (YAML, read safely).

    Raises
    ------
    ScenarioError
        One problem per line, naming the file and the key path.
    """
    path = Path(path)
    source = str(path)
    text = read_source(path, "an experiment file")
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise ScenarioError([Problem("", f"unknown file type {path.suffix or '(none)'!r}; expected .yaml or .yml")],
                            source)
    data = parse_text(text, "yaml", source=source, needs="an experiment needs at least 'faults'",
                      keys="name, faults, expect, ...")
    if "name" not in data:
        data = {"name": path.stem, **data}
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_from_validation_error(exc, Experiment), source) from None
