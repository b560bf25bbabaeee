"""The scenario model: zones, services, routers and the scenario that holds them.

These pydantic models *are* the Python API and the file format at once: a
scenario file is parsed into exactly these constructors, so a notebook user and
a YAML file go through the same validation.  Everything is frozen; derive
variants with :meth:`pydantic.BaseModel.model_copy` or :func:`hasim.load`.

Semantics are those of ``product.md`` (Model section); the docstrings below
summarise them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from hasim.model._types import (NAME, Delay, HasimModel, Int, PositiveDuration, PositiveFloat, Probability, check_name,
                                expand_shorthand, inconsistent, parse_slo)
from hasim.model.cache import Cached
from hasim.model.capacity import Load, load_problems
from hasim.model.overload import Overload, Retries
from hasim.model.autoscaling import Autoscaling
from hasim.model.replication import Replication
from hasim.model.deploys import ConfigPush, Deploys
from hasim.model.oncall import OnCall
from hasim.model.alerts import AlertNoise, AlertRule
from hasim.model.maintenance import Maintenance
from hasim.model.breaker import Breaker
from hasim.model.dns import Dns
from hasim.model.failover import Failover
from hasim.model.health_check import HealthCheck
from hasim.model.zone import Zone
from hasim.model.distributions import Distribution
from hasim.text import duration as format_duration
from hasim.units import HOURS_PER_MONTH, HOURS_PER_YEAR, parse_duration
from hasim.errors import Problem, ScenarioError, problems_from_validation_error, suggest

__all__ = ["Zone", "Failover", "HealthCheck", "Dns", "Cached", "Service", "Scenario", "parse_slo",
           "window_problem"]

def _per_zone(data: Any) -> Any:
    """``autoscaling: {min_per_zone: k}`` over ``zones`` means ``replicas: k x len(zones)`` unless given."""
    if not isinstance(data, dict) or "replicas" in data:
        return data
    a, zones = data.get("autoscaling"), data.get("zones")
    k = a.get("min_per_zone") if isinstance(a, dict) else getattr(a, "min_per_zone", None)
    if isinstance(k, int) and not isinstance(k, bool) and k >= 1 and isinstance(zones, list) and zones:
        return {**data, "replicas": k * len(zones)}
    return data


def _as_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, (dict, Cached)):
        return [value]
    return value


_MODE_ONLY = {"standby": "standby", "warm_factor": "standby", "min_healthy": "active", "maintenance": "active"}
_ROUTER_FORBIDDEN = ("repair_paged", "mode", "min_healthy", "standby", "warm_factor", "failover", "shards", "retry", "capacity",
                     "calls", "overload", "retries", "latency", "timeouts", "breakers", "autoscaling",
                     "replication", "deploys", "maintenance")


class Service(HasimModel):
    """A pool of identical instances, or a router in front of other services.

    Parameters
    ----------
    replicas : int
        Instances per shard, spread round-robin over ``zones``.
    failure, repair : Distribution
        Time to failure and time to repair of one instance.
    mode : {'active', 'standby', 'quorum'}
        ``active``: all serve, ``min_healthy`` carry full load and fewer serve
        ``healthy / min_healthy``.  ``standby``: one active, failover to a
        standby (``standby`` hot / warm / cold).  ``quorum``: up while a strict
        majority is up; losing the leader costs an election.
    shards : int
        Independent copies of the pool; a request needs its own shard.
    health_check, retry
        Load-balancer detection of failed instances, and whether requests sent
        to a failed instance are retried on a healthy one.
    requires, optional, cached
        Hard, soft and cache-masked dependencies.
    overload, retries
        Collapse under overload and the client retries that can keep it going
        (:mod:`hasim.model.overload`).
    capacity, load, calls
        Requests/s one instance serves, the load the service receives from its users (requests/s,
        or ``"70%"`` of its capacity) and the calls one request makes to each dependency (default
        1): a pool then needs ``load / capacity`` instances (:mod:`hasim.model.capacity`).
    autoscaling
        A target-tracking scaling policy on top of the ``replicas`` (:mod:`hasim.model.autoscaling`).
    replication
        How a standby service's copies follow its active instance (``sync``, ``async`` with a
        ``lag``, ``snapshot`` every ``interval``): what a promotion loses (:mod:`hasim.model.replication`).
    deploys
        Its releases: how often, the rollout strategy, how many are bad and what a bad one costs
        until it is noticed and rolled back (:mod:`hasim.model.deploys`).
    latency, timeouts, breakers
        The time one request takes here, how long a call to each dependency waits for an answer
        (a failing call holds a worker that long), and circuit breakers on dependency edges
        (:mod:`hasim.model.breaker`).
    route, targets, weights, dns
        Make the service a router: ``failover`` to the first healthy target or
        ``weighted`` over healthy targets, learning of target failures through
        its ``health_check`` and reaching clients through ``dns``.
    """

    shorthand_keys: ClassVar[tuple[str, ...]] = ("mtbf", "mttr")

    name: str | None = None
    description: str = ""
    replicas: Int = Field(default=1, ge=1)
    zones: list[str] = Field(default_factory=list)
    failure: Distribution | None = None
    repair: Distribution | None = None
    mode: Literal["active", "standby", "quorum"] = "active"
    min_healthy: Int = Field(default=1, ge=1)
    standby: Literal["hot", "warm", "cold"] = "hot"
    warm_factor: Probability = 0.5
    failover: Failover | None = None
    shards: Int = Field(default=1, ge=1)
    health_check: HealthCheck | None = None
    retry: bool = False
    requires: list[str] = Field(default_factory=list)
    optional: list[str] = Field(default_factory=list)
    cached: list[Cached] = Field(default_factory=list)
    route: Literal["failover", "weighted"] | None = None
    targets: list[str] = Field(default_factory=list)
    weights: list[PositiveFloat] | None = None
    dns: Dns | None = None
    capacity: PositiveFloat | None = None
    load: Load | None = None
    calls: dict[str, PositiveFloat] = Field(default_factory=dict)
    overload: Overload | None = None
    retries: Retries | None = None
    latency: PositiveDuration | None = None
    timeouts: dict[str, PositiveDuration] = Field(default_factory=dict)
    breakers: dict[str, Breaker] = Field(default_factory=dict)
    autoscaling: Autoscaling | None = None
    replication: Replication | None = None
    deploys: Deploys | None = None
    repair_paged: bool = False
    maintenance: Maintenance | None = None

    _expand = model_validator(mode="before")(classmethod(lambda cls, data: _per_zone(expand_shorthand(data))))
    _name = field_validator("name")(classmethod(lambda cls, v: check_name(v)))
    _cached_list = field_validator("cached", mode="before")(classmethod(lambda cls, v: _as_list(v)))

    @property
    def is_router(self) -> bool:
        return self.route is not None

    @property
    def has_instances(self) -> bool:
        """Whether the service has failing instances of its own (a router may not)."""
        return self.failure is not None

    @property
    def dependencies(self) -> list[str]:
        """Hard dependencies: ``requires`` plus the ``cached`` services, each once."""
        out = list(self.requires)
        out += [c.service for c in self.cached if c.service not in out]
        return out

    @model_validator(mode="after")
    def _consistent(self):
        given = self.model_fields_set
        if (self.failure is None) != (self.repair is None):
            missing = "repair" if self.repair is None else "failure"
            inconsistent(missing, "'failure' and 'repair' go together; '{m}' is missing", m=missing)
        if self.is_router:
            for key in _ROUTER_FORBIDDEN:
                if key in given:
                    inconsistent(key, "'{k}' does not apply to a router (route: {r})", k=key, r=self.route)
            if not self.targets:
                inconsistent("targets", "a router needs at least one target")
            if self.weights is not None:
                if self.route != "weighted":
                    inconsistent("weights", "'weights' only applies to route: weighted")
                if len(self.weights) != len(self.targets):
                    inconsistent("weights", "expected one weight per target ({n}), got {w}",
                         n=len(self.targets), w=len(self.weights))
            if self.failure is None and ("replicas" in given or "zones" in given):
                inconsistent("failure", "a router with replicas or zones needs 'failure' and 'repair' "
                                "(its own instances, e.g. the DNS provider)")
        else:
            for key in ("targets", "weights", "dns"):
                if key in given:
                    inconsistent(key, "'{k}' only applies to a router (add route: failover or route: weighted)", k=key)
            if self.failure is None:
                inconsistent("failure", "a service needs 'failure' and 'repair' (e.g. failure: {f}, repair: {r})",
                     f="{mtbf: 720h}", r="{mttr: 1h}")
        for key, mode in _MODE_ONLY.items():
            if key in given and self.mode != mode:
                inconsistent(key, "'{k}' only applies to mode: {m} (this service is mode: {cur})", k=key, m=mode, cur=self.mode)
        if self.maintenance is not None and self.has_instances and self.maintenance.takes > self.replicas:
            inconsistent("maintenance", "a window takes {t} instances of each shard, which has {n} (replicas)",
                         t=self.maintenance.takes, n=self.replicas)
        if "warm_factor" in given and self.standby != "warm":
            inconsistent("warm_factor", "'warm_factor' only applies to standby: warm")
        if self.min_healthy > self.replicas:
            inconsistent("min_healthy", "min_healthy ({k}) is more than replicas ({n})", k=self.min_healthy, n=self.replicas)
        if self.failover is not None:
            if self.mode == "active":
                inconsistent("failover", "'failover' applies to mode: standby or quorum, not active")
            if self.mode == "quorum":
                for key in ("success", "manual"):
                    if key in self.failover.model_fields_set:
                        inconsistent("failover", "failover.{k} applies to mode: standby only", k=key)
        if self.health_check is not None and self.mode != "active":
            inconsistent("health_check", "'health_check' applies to active pools and routers; a {m} service detects "
                                 "failures with failover.detection", m=self.mode)
        if self.replication is not None and self.mode != "standby" and self.replication.of is None:
            inconsistent("replication", "'replication' applies to mode: standby (one active instance takes the writes); "
                                "{m}", m="a quorum commits to a majority, so it replicates synchronously"
                 if self.mode == "quorum" else "an active pool holds no state of its own")
        if self.mode == "standby" and self.replicas < 2:
            inconsistent("replicas", "mode: standby needs at least 2 replicas (one active, one standby)")
        if self.capacity is not None:
            if self.mode != "active":
                inconsistent("capacity", "'capacity' applies to active pools (this service is mode: {m})", m=self.mode)
            if "min_healthy" in given:
                inconsistent("min_healthy", "give 'min_healthy' or 'capacity', not both: with a capacity the instances "
                                    "needed are the load over the capacity")
        for key in ("overload", "retries"):
            if key in given and self.capacity is None:
                inconsistent(key, "'{k}' applies to a pool with a 'capacity' (requests/s per instance) that load reaches",
                     k=key)
        if self.retries is not None and self.overload is None:
            inconsistent("retries", "retries only matter to a pool that can collapse: add 'overload' (without it the pool "
                            "sheds the excess, and retried requests change nothing it serves)")
        if self.load is not None and self.load.utilisation is not None and self.capacity is None:
            inconsistent("load", "load: {u} is a share of this service's capacity: give 'capacity' (requests/s per "
                         "instance) or a rate in requests/s", u=f"{self.load.utilisation:.0%}")
        for dep in self.calls:
            if dep not in self.dependencies and dep not in self.optional:
                inconsistent(f"calls.{dep}", "{d} is not a dependency of this service (requires, optional or cached)",
                     d=dep)
        for key in ("timeouts", "breakers"):
            for dep in getattr(self, key):
                if dep not in self.dependencies and dep not in self.optional:
                    inconsistent(f"{key}.{dep}", "{d} is not a dependency of this service (requires, optional or cached)",
                         d=dep)
        if self.timeouts:
            dep = next(iter(self.timeouts))
            if self.capacity is None:
                inconsistent(f"timeouts.{dep}", "a timeout holds this service's workers, which only matters to a pool with "
                                        "a 'capacity' (requests/s per instance) that load reaches")
            if self.latency is None:
                inconsistent("latency", "timeouts need 'latency' (the time one request takes here, e.g. 50ms): a call "
                                "waiting {t} holds a worker that many latencies", t=format_duration(self.timeouts[dep]))
        elif self.latency is not None:
            inconsistent("latency", "'latency' only matters with 'timeouts' (how long a call to a dependency waits)")
        a = self.autoscaling
        if a is not None:
            if self.capacity is None:
                inconsistent("autoscaling", "'autoscaling' applies to a pool with a 'capacity' (requests/s per instance) "
                                    "that load reaches: the policy tracks its utilisation")
            if a.min_per_zone is not None:
                if not self.zones:
                    inconsistent("autoscaling.min_per_zone", "min_per_zone needs the pool's 'zones'")
                if self.replicas < a.min_per_zone * len(self.zones):
                    inconsistent("replicas", "replicas ({n}) leaves fewer than autoscaling.min_per_zone ({k}) in some of its "
                                     "{z} zones: give at least {m}, or leave replicas out",
                         n=self.replicas, k=a.min_per_zone, z=len(self.zones), m=a.min_per_zone * len(self.zones))
            if a.max < self.replicas:
                inconsistent("autoscaling.max", "max ({m}) is less than the group's minimum, replicas ({n})", m=a.max,
                     n=self.replicas)
        overlap = sorted(set(self.requires) & set(self.optional))
        if overlap:
            inconsistent("optional", "{s} is listed in both requires and optional", s=", ".join(overlap))
        return self


class Scenario(HasimModel):
    """A design under review: zones, services, the entry point and the run settings.

    Parameters
    ----------
    name : str
        Short name used in reports (files default to their stem).
    services : dict of str to Service, or list of Service
        The architecture.  A list must give each service a ``name``.
    entry : str
        The service users call; its served fraction is what is measured.
    zones : dict of str to Zone, or list of Zone
        Failure domains.
    config_pushes : dict of str to ConfigPush
        Changes pushed to several services at once: a logical common cause
        (:mod:`hasim.model.deploys`).
    oncall : OnCall, optional
        The engineer a manual recovery (``failover.manual``) waits for (:mod:`hasim.model.oncall`).
    alerts : dict of str to AlertRule
        Alert rules on the entry's error ratio, and what each catches (:mod:`hasim.model.alerts`).
    alert_noise : AlertNoise or None
        Spikes of errors the rules see and the SLO does not count: what pages them falsely.
    horizon : duration
        Length of one simulated history (default ``1y``).
    replicas : int
        Number of independent histories (default 1000).
    seed : int
        Seed of the random streams (default 0).
    slo : float
        Availability target in percent, e.g. 99.99.
    window : duration
        SLO window for breach statistics (default a month, 730 h).
    rto : duration, optional
        Recovery time objective: an incident of the entry (from its first lost request to full
        service) that lasts longer breaches it; the results count how often
        (:meth:`~hasim.results.summary.Results.rto_breaches`).
    rpo : duration, optional
        Recovery point objective: a promotion of a replicated standby service that loses more
        writes than this breaches it (``0``: any loss does); needs a service with ``replication``
        (:meth:`~hasim.results.summary.Results.rpo_breaches`).
    """

    name: str
    description: str = ""
    horizon: PositiveDuration = HOURS_PER_YEAR
    replicas: Int = Field(default=1000, ge=1)
    seed: Int = Field(default=0, ge=0)
    slo: float | None = None
    window: PositiveDuration = HOURS_PER_MONTH
    rto: PositiveDuration | None = None
    rpo: Delay | None = None
    entry: str
    zones: dict[str, Zone] = Field(default_factory=dict)
    services: dict[str, Service]
    config_pushes: dict[str, ConfigPush] = Field(default_factory=dict)
    oncall: OnCall | None = None
    alerts: dict[str, AlertRule] = Field(default_factory=dict)
    alert_noise: AlertNoise | None = None

    @field_validator("slo", mode="before")
    @classmethod
    def _percent(cls, value: Any) -> Any:
        try:
            return parse_slo(value)
        except ValueError as exc:
            raise PydanticCustomError("slo", "{message}", {"message": str(exc)}) from None

    @field_validator("zones", "services", mode="before")
    @classmethod
    def _named_list_to_dict(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        out = {}
        for item in value:
            name = item.get("name") if isinstance(item, dict) else getattr(item, "name", None)
            if not name:
                raise PydanticCustomError("name", "every item of a list needs a 'name'")
            if name in out:
                raise PydanticCustomError("name", "duplicate name {n}", {"n": repr(name)})
            out[name] = item
        return out

    @field_validator("services")
    @classmethod
    def _not_empty(cls, value: dict) -> dict:
        if not value:
            raise PydanticCustomError("empty", "a scenario needs at least one service")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _every_problem_at_once(cls, data: Any, handler):
        # pydantic stops before the whole-scenario checks when any field fails, which made
        # users fix a file one round at a time.  The reference, cycle and window checks
        # only need names, so they run on the raw data as well, and every problem is
        # reported in one ScenarioError, each once.
        try:
            return handler(data)
        except ValidationError as exc:
            problems = problems_from_validation_error(exc, Scenario)
            if isinstance(data, dict):
                problems += _scenario_problems(_Refs.from_raw(data))
            raise ScenarioError(_once(problems)) from None

    @model_validator(mode="after")
    def _names_and_references(self):
        # Fill each object's name from its key so that both spellings agree.
        for table in (self.zones, self.services):
            for key, obj in list(table.items()):
                if obj.name is None:
                    table[key] = obj.model_copy(update={"name": key})
        problems = _scenario_problems(_Refs.from_scenario(self))
        if problems:
            raise ScenarioError(_once(problems))
        problems = load_problems(self)
        if problems:
            raise ScenarioError(problems)
        problems = _copy_problems(self) + _push_problems(self)
        if problems:
            raise ScenarioError(problems)
        changes = [(f"services.{n}.deploys.paged", s.deploys) for n, s in self.services.items()]
        changes += [(f"config_pushes.{n}.paged", p) for n, p in self.config_pushes.items()]
        paged = [path for path, dp in changes if dp is not None and dp.paged]
        repairs = [f"services.{n}.repair_paged" for n, s in self.services.items() if s.repair_paged]
        if self.oncall is None and (paged or repairs):
            raise ScenarioError([Problem(path, "a paged rollback needs an on-call to answer: give oncall: {respond: "
                                               "5m} at the top level") for path in paged]
                                + [Problem(path, "a paged repair needs an on-call to answer: give oncall: {respond: "
                                                 "5m} at the top level") for path in repairs])
        if self.oncall is not None and not paged and not repairs and not any(
                s.failover is not None and s.failover.manual is not None for s in self.services.values()):
            raise ScenarioError([Problem("oncall", "no manual recovery waits for the on-call: give a standby "
                                                   "service failover.manual (the action once the engineer answers), "
                                                   "deploys paged: true or a service repair_paged: true")])
        problems = _alert_problems(self)
        if problems:
            raise ScenarioError(problems)
        if self.rpo is not None and not any(s.replication is not None for s in self.services.values()):
            raise ScenarioError([Problem("rpo", "an rpo needs a service whose standbys replicate (replication: "
                                                "{mode: async, lag: 1s}, sync or snapshot): no write is lost without "
                                                "one")])
        return self

    # --- convenience ------------------------------------------------------------------
    def replace(self, changes: dict[str, Any] | None = None, **top_level: Any) -> "Scenario":
        """A validated copy with values changed at dotted key paths.

        >>> sc.replace({"services.api.replicas": 3, "services.db.failover.detection": "10s"})  # doctest: +SKIP

        Paths use the file's key names (``mtbf`` / ``mttr`` shorthands included);
        missing intermediate mappings (e.g. a ``failover`` block) are created.
        ``mtbf``, ``mttr`` and ``mean`` name the mean of a law whichever way the
        file spelled it: ``services.X.mtbf``, ``services.X.failure.mtbf`` and
        ``services.X.failure.mean`` all set the mean of ``services.X.failure``
        (``{mtbf: 10h}``, ``mtbf: 10h`` or ``{dist: exponential, mean: 10h}``),
        keeping the law: a weibull keeps its shape, a lognormal its sigma, a
        fixed law takes the value.  A service without a law gets an exponential.

        Raises
        ------
        ScenarioError
            If a path does not exist or the new value is invalid.
        """
        data = self.model_dump(mode="python", exclude_unset=True, by_alias=True)
        for path, value in {**(changes or {}), **top_level}.items():
            keys = path.split(".")
            node = data
            for i, key in enumerate(keys[:-1]):
                child = node.get(key) if isinstance(node, dict) else None
                if child is None:
                    if isinstance(node, dict) and i >= 1 and keys[0] in ("services", "zones") and i >= 2:
                        child = node[key] = {}
                    else:
                        raise ScenarioError([Problem(path, f"no such key {'.'.join(keys[:i + 1])!r}")])
                elif not isinstance(child, dict):
                    raise ScenarioError([Problem(path, f"{'.'.join(keys[:i + 1])!r} is not a mapping")])
                node = child
            last = keys[-1]
            if keys[0] in ("services", "zones") and len(keys) == 3 and last in ("mtbf", "mttr"):
                # The shorthand of the part: the mean of its failure / repair law.
                law = "failure" if last == "mtbf" else "repair"
                node[law] = _with_mean(node.get(law), last, value, path)
            elif keys[0] in ("services", "zones") and len(keys) == 4 and keys[2] in ("failure", "repair"):
                law = _with_parameter(node, last, value, path)
                node.clear()
                node.update(law)
            else:
                node[last] = value
        return Scenario.model_validate(data)

    def service(self, name: str) -> Service:
        """The service called ``name``."""
        return self.services[name]

    def topological_order(self) -> list[str]:
        """Services ordered so that every service comes after everything it depends on."""
        order: list[str] = []
        seen: set[str] = set()

        def visit(name: str) -> None:
            if name in seen:
                return
            seen.add(name)
            for dep in _edges(self.services[name]):
                visit(dep)
            order.append(name)

        for name in self.services:
            visit(name)
        return order

    def zone_chain(self, zone: str) -> list[str]:
        """``zone`` and every zone it lies within, innermost first."""
        chain = []
        while zone is not None:
            chain.append(zone)
            zone = self.zones[zone].within
        return chain


def _behind(sc: "Scenario", start: str) -> set[str]:
    """``start`` and every service its state can depend on (any edge of :func:`_edges`)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(_edges(sc.services[name]))
    return seen


def _alert_problems(sc: "Scenario") -> list[Problem]:
    """Alert rules have names, a burn rate needs the SLO whose budget it burns, and a change noticed
    by a rule names one that exists."""
    problems = [p for name in sc.alerts for p in _name_problems("alerts", name, None)]
    for name, rule in sc.alerts.items():
        if rule.burn_rate is not None and sc.slo is None:
            problems.append(Problem(f"alerts.{name}.burn_rate", "a burn rate is a multiple of the error budget: "
                                                                "give the scenario an slo (e.g. slo: 99.9)"))
    if sc.alert_noise is not None and not sc.alerts:
        problems.append(Problem("alert_noise", "noise is what alert rules see that the SLO does not count: declare "
                                               "a rule under alerts: (e.g. {any-error: {error_rate: 1%}})"))
    changes = [(f"services.{n}.deploys.alert", s.deploys) for n, s in sc.services.items()]
    changes += [(f"config_pushes.{n}.alert", push) for n, push in sc.config_pushes.items()]
    for path, dp in changes:
        if dp is not None and dp.alert is not None and dp.alert not in sc.alerts:
            rules = ", ".join(sc.alerts) if sc.alerts else "none: declare one under alerts:"
            problems.append(Problem(path, f"no alert rule {dp.alert!r} (rules: {rules})" + suggest(dp.alert, sc.alerts)))
    return problems


def _push_problems(sc: "Scenario") -> list[Problem]:
    """A config push names services with instances of their own, each once."""
    problems = [p for name in sc.config_pushes for p in _name_problems("config_pushes", name, None)]
    for name, push in sc.config_pushes.items():
        for k, target in enumerate(push.services):
            path = f"config_pushes.{name}.services.{k}"
            if target not in sc.services:
                problems.append(Problem(path, f"no service {target!r}" + suggest(target, sc.services)))
            elif sc.services[target].is_router:
                problems.append(Problem(path, f"{target!r} is a router: a push reaches services with instances"))
            elif target in push.services[:k]:
                problems.append(Problem(path, f"{target!r} is listed twice"))
    return problems


def _copy_problems(sc: "Scenario") -> list[Problem]:
    """A disaster-recovery copy (``replication.of``) names another service, and some failover router
    can move the writes to it: one target reaches the original without the copy, another the copy."""
    problems = []
    for name, svc in sc.services.items():
        of = svc.replication.of if svc.replication is not None else None
        if of is None:
            continue
        path = f"services.{name}.replication.of"
        if of not in sc.services:
            problems.append(Problem(path, f"no service {of!r}" + suggest(of, sc.services)))
            continue
        if of == name:
            problems.append(Problem(path, "a service cannot be a copy of itself"))
            continue
        switch = False
        for router in sc.services.values():
            if router.route != "failover":
                continue
            behind = [_behind(sc, t) for t in router.targets]
            if any(of in b and name not in b for b in behind) and any(name in b for b in behind):
                switch = True
        if not switch:
            problems.append(Problem(path, f"nothing moves the writes from {of!r} to {name!r}: a copy loses data when "
                                          f"a route: failover router's answer moves from a target that reaches "
                                          f"{of!r} to one that reaches {name!r}, and no router has both"))
    return problems


def _edges(service: Service) -> list[str]:
    """Every service this one's state depends on (for ordering and cycle checks)."""
    out = service.dependencies + list(service.optional) + list(service.targets)
    if service.failover is not None:
        out += service.failover.requires
    return out


_MEAN_KEYS = ("mean", "mtbf", "mttr")


def _with_mean(law: dict | None, key: str, value: Any, path: str) -> dict:
    """``law`` (a dumped distribution, or None) with its mean set to ``value``."""
    law = dict(law or {})
    dist = law.get("dist", "exponential")
    if dist == "exponential":
        # mean, mtbf and mttr are one parameter: keep only the spelling being set.
        return {**{k: v for k, v in law.items() if k not in _MEAN_KEYS}, "dist": "exponential", key: value}
    if dist in ("weibull", "lognormal"):
        drop = ("scale",) if dist == "weibull" else ("median",)
        return {**{k: v for k, v in law.items() if k not in _MEAN_KEYS + drop}, "mean": value}
    if dist == "fixed":
        return {**law, "value": value}
    raise ScenarioError([Problem(path, f"a {dist} law has no single mean to set; set its own parameters "
                                       f"({'low and high' if dist == 'uniform' else 'samples'}) or replace the law")])


def _with_parameter(law: dict, key: str, value: Any, path: str) -> dict:
    """``law`` with parameter ``key`` set, dropping the parameter it replaces (scale or mean, ...)."""
    if key in _MEAN_KEYS:
        return _with_mean(law, key, value, path)
    law = dict(law)
    if (law.get("dist"), key) in (("weibull", "scale"), ("lognormal", "median")):
        law.pop("mean", None)
    law[key] = value
    return law


def window_problem(horizon: float, window: float, *, window_given: bool = True) -> Problem | None:
    """The problem of an SLO ``window`` longer than the ``horizon`` (both in hours), or None.

    No whole window then fits in one history and the breach statistics mean
    nothing (they printed ``P(breach) 0.00 % [0.00, 0.00]``).  Callers that
    override the horizon of a loaded scenario should run this check too (or
    derive the scenario with ``scenario.replace(horizon=...)``, which does).
    """
    if not window > horizon:
        return None
    if window_given:
        what = f"{window:g}h is longer than the horizon ({horizon:g}h)"
    else:
        what = f"the default window (a month, {window:g}h) is longer than the horizon ({horizon:g}h)"
    return Problem("window", f"{what}: no whole window fits in one history, so window breaches cannot be "
                             f"counted; give a window of at most {horizon:g}h or a longer horizon")


def _once(problems: list[Problem]) -> list[Problem]:
    """``problems`` without repeats, in order."""
    return list(dict.fromkeys(problems))


@dataclass
class _ServiceRefs:
    zones: list = field(default_factory=list)
    refs: dict[str, list] = field(default_factory=dict)  # requires, optional, targets, cached, failover.requires


@dataclass
class _Refs:
    """What the whole-scenario checks look at: names and the references between them.

    Built from a validated :class:`Scenario` or, when some field failed, from the
    raw data (parts of the wrong type are left out, so they are not reported twice).
    ``zones`` / ``services`` is None when that table itself is unusable: its names
    are unknown, so references into it cannot be checked.
    """

    entry: Any = None
    zones: dict[str, Any] | None = None  # zone -> within
    services: dict[str, _ServiceRefs] | None = None
    names: list[Problem] = field(default_factory=list)
    horizon: float | None = None
    window: float | None = None
    window_given: bool = True

    @classmethod
    def from_scenario(cls, sc: "Scenario") -> "_Refs":
        services = {}
        for name, svc in sc.services.items():
            refs = {"requires": list(svc.requires), "optional": list(svc.optional), "targets": list(svc.targets),
                    "cached": [c.service for c in svc.cached]}
            if svc.failover is not None:
                refs["failover.requires"] = list(svc.failover.requires)
            services[name] = _ServiceRefs(list(svc.zones), refs)
        names = []
        for label, table in (("zones", sc.zones), ("services", sc.services)):
            for key, obj in table.items():
                names += _name_problems(label, key, obj.name)
        return cls(sc.entry, {z: zone.within for z, zone in sc.zones.items()}, services, names,
                   sc.horizon, sc.window, "window" in sc.model_fields_set)

    @classmethod
    def from_raw(cls, data: dict) -> "_Refs":
        out = cls(entry=data.get("entry"))
        names: list[Problem] = []
        zones = _raw_table(data.get("zones", {}))
        if zones is not None:
            out.zones = {}
            for key, zone in zones.items():
                out.zones[key] = _get(zone, "within")
                names += _name_problems("zones", key, _get(zone, "name"))
        services = _raw_table(data.get("services"))
        if services:  # an empty table has its own error; "unknown entry" would only repeat it
            out.services = {}
            for key, svc in services.items():
                names += _name_problems("services", key, _get(svc, "name"))
                cached = _get(svc, "cached")
                cached = [cached] if isinstance(cached, (dict, BaseModel)) else cached
                refs = {k: _get(svc, k) for k in ("requires", "optional", "targets")}
                refs["cached"] = [_get(c, "service") for c in cached] if isinstance(cached, list) else None
                if _get(svc, "failover") is not None:
                    refs["failover.requires"] = _get(_get(svc, "failover"), "requires")
                out.services[key] = _ServiceRefs(_get(svc, "zones") if isinstance(_get(svc, "zones"), list) else [],
                                                 {k: v for k, v in refs.items() if isinstance(v, list)})
        out.names = names
        out.horizon = _raw_duration(data.get("horizon", HOURS_PER_YEAR))
        out.window = _raw_duration(data.get("window", HOURS_PER_MONTH))
        out.window_given = "window" in data
        return out


def _get(obj: Any, key: str) -> Any:
    """``obj[key]`` of a raw mapping or ``obj.key`` of a model; None otherwise."""
    if isinstance(obj, dict):
        return obj.get(key)
    if isinstance(obj, BaseModel):
        return getattr(obj, key, None)
    return None


def _raw_table(value: Any) -> dict | None:
    """A raw ``zones`` / ``services`` value as a mapping by name, or None if its names are not all known."""
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if isinstance(k, str)} if all(isinstance(k, str) for k in value) \
            else None
    if isinstance(value, list):
        names = [_get(item, "name") for item in value]
        if all(isinstance(n, str) and n for n in names):
            return dict(zip(names, value))
    return None


def _raw_duration(value: Any) -> float | None:
    try:
        hours = parse_duration(value)
    except ValueError:
        return None
    return hours if hours > 0 else None


def _name_problems(label: str, key: str, name: Any) -> list[Problem]:
    if not NAME.match(key):
        return [Problem(label, f"{key!r} is not a valid name: use letters, digits, '-' and '_' "
                               "(no dots or spaces)")]
    if isinstance(name, str) and name != key:
        return [Problem(f"{label}.{key}.name", f"name {name!r} differs from its key {key!r}")]
    return []


def _scenario_problems(refs: _Refs) -> list[Problem]:
    """Names, references, cycles and the window: everything checked across the whole scenario."""
    problems = list(refs.names) + list(_reference_problems(refs))
    if refs.horizon is not None and refs.window is not None:
        problem = window_problem(refs.horizon, refs.window, window_given=refs.window_given)
        if problem is not None:
            problems.append(problem)
    return problems


def _reference_problems(sc: _Refs):
    services, zones = sc.services, sc.zones
    if services is not None and isinstance(sc.entry, str) and sc.entry not in services:
        yield Problem("entry", f"unknown service {sc.entry!r}{suggest(sc.entry, services)}")
    if zones is not None:
        for zname, within in zones.items():
            if isinstance(within, str) and within not in zones:
                yield Problem(f"zones.{zname}.within", f"unknown zone {within!r}{suggest(within, zones)}")
    for sname, svc in (services or {}).items():
        if zones is not None:
            for i, z in enumerate(svc.zones):
                if isinstance(z, str) and z not in zones:
                    yield Problem(f"services.{sname}.zones.{i}", f"unknown zone {z!r}{suggest(z, zones)}")
        for key, names in svc.refs.items():
            for i, dep in enumerate(names):
                where = f"services.{sname}.{key}.{i}" + (".service" if key == "cached" else "")
                if not isinstance(dep, str):
                    continue
                if dep not in services:
                    yield Problem(where, f"unknown service {dep!r}{suggest(dep, services)}")
                elif dep == sname:
                    yield Problem(where, f"a service cannot depend on itself ({sname!r})")
            texts = [d for d in names if isinstance(d, str)]
            dupes = sorted({d for d in texts if texts.count(d) > 1})
            if dupes:
                yield Problem(f"services.{sname}.{key}", f"listed more than once: {', '.join(dupes)}")
    if zones is not None:
        cycle = _find_cycle({z: [w] if isinstance(w, str) and w in zones else [] for z, w in zones.items()})
        if cycle:
            yield Problem(f"zones.{cycle[0]}.within", "zone cycle: " + " -> ".join(cycle))
    if services is not None:
        # The order of _edges, so that the cycle named is the one the validated model would name.
        order = ("requires", "cached", "optional", "targets", "failover.requires")
        graph = {s: [d for key in order for d in svc.refs.get(key, ())
                     if isinstance(d, str) and d in services and d != s] for s, svc in services.items()}
        cycle = _find_cycle(graph)
        if cycle:
            yield Problem(f"services.{cycle[0]}", "dependency cycle: " + " -> ".join(cycle))


def _find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """A cycle as ``[a, b, ..., a]``, or None (iterative DFS, so deep graphs are fine)."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    for root in graph:
        if root in state:
            continue
        stack = [(root, iter(graph[root]))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    return path[path.index(child):] + [child]
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(graph[child])))
                    path.append(child)
                    break
            else:
                state[node] = 2
                stack.pop()
                path.pop()
    return None
