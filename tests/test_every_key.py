"""Every key a scenario accepts takes effect on every engine.

Issue 17 found ``failover.requires`` accepted on a ``mode: quorum`` service and then
ignored by both engines and by ``hasim analyze``: a silent wrong answer.  This module walks
the fields of every model a scenario is made of (``Scenario`` and everything reachable from
its annotations: services, zones, failover, health checks, DNS, caches, every distribution)
and holds a case for each: a design where the field applies and two values of it.  With the
same seed, a key that is read changes the simulated histories (common random numbers: the
draws line up, so any effect shows deterministically); a key that is ignored leaves every
number bit-identical.  A new field without a case here fails ``test_every_field_has_a_case``.
"""

from __future__ import annotations

import typing
from collections.abc import Callable

import numpy as np
import pytest
from pydantic import BaseModel

import hasim
from hasim import Scenario
from hasim.sim.engine import simulate

#: Fields that name or describe, or hold other models whose fields are walked themselves.
NOT_A_SETTING = {
    "Scenario.name": "a label", "Scenario.description": "a label", "Service.name": "a label",
    "Service.description": "a label", "Zone.name": "a label",
    "Scenario.zones": "a container: the fields of Zone are walked",
    "Scenario.services": "a container: the fields of Service are walked",
}


def _models(root: type[BaseModel]) -> list[type[BaseModel]]:
    """``root`` and every pydantic model reachable from its field annotations."""
    seen: list[type[BaseModel]] = []

    def visit(t) -> None:
        if isinstance(t, type) and issubclass(t, BaseModel):
            if t in seen:
                return
            seen.append(t)
            for field in t.model_fields.values():
                visit(field.annotation)
            return
        for arg in typing.get_args(t):
            visit(arg)

    visit(root)
    return seen


def _fields() -> set[str]:
    out = set()
    models = _models(Scenario)
    for model in models:
        # A field a model inherits from another walked model has that model's case (a ConfigPush is
        # a Deploys with services): only the fields it adds need their own.
        inherited = {f for base in model.__mro__[1:] if base in models for f in base.model_fields}
        for name in model.model_fields:
            if name in inherited:
                continue
            if name == "dist" and "Literal" in str(model.model_fields[name].annotation):
                continue  # the law's tag: changing it is changing the law, whose fields are cases
            out.add(f"{model.__name__}.{name}")
    return out


def S(services: dict | None = None, zones: dict | None = None, entry: str = "app", **kw) -> dict:
    return {"name": "t", "entry": entry, "replicas": 4, "seed": 1, "horizon": "1000h",
            "services": services if services is not None else {"app": svc()}, "zones": zones or {}, **kw}


def svc(**kw) -> dict:
    return {"mtbf": "20h", "mttr": "1h", **kw} if "failure" not in kw and "route" not in kw else kw


Z = {"z": {"mtbf": "100h", "mttr": "5h"}}
DB = {"mtbf": "30h", "mttr": "1h"}
TARGETS = {"p": svc(), "d": svc(mtbf="40h")}
HC = {"interval": "1m"}
OV = {"threshold": 1.0, "grace": "5m", "goodput": 0.2}


def waits(**kw) -> dict:
    """A pool that waits for a flapping optional dependency (two instances, both needed: one down fails half)."""
    app = svc(replicas=3, capacity=100, load=150, latency="50ms", optional=["r"], timeouts={"r": "1s"})
    return S({"app": {**app, **kw}, "r": svc(replicas=2, min_healthy=2, mtbf="20h", mttr="1h")})


def guarded(**breaker) -> dict:
    """A breaker on a hard dependency: failing fast keeps the requests failed until it half-opens."""
    app = svc(replicas=3, capacity=100, load=150, requires=["r"], breakers={"r": {"fallback": "fail", **breaker}})
    return S({"app": app, "r": svc(replicas=2, min_healthy=2, mtbf="20h", mttr="1h")})


def scaled(**policy) -> dict:
    """A pool of three under 250 req/s (2.5 needed) whose policy wants more as its instances fail."""
    app = svc(replicas=3, capacity=100, load=250, autoscaling={"target": 0.7, "max": 8, **policy})
    return S({"app": app})


def standby(**fo) -> dict:
    return svc(mode="standby", replicas=2, failover={"detection": "1m", "promotion": "1m", **fo})


def replicated(replication) -> dict:
    out = standby()
    if replication is not None:
        out["replication"] = replication
    return out


DEPLOYS = {"per_week": 20, "strategy": "all_at_once", "bad": 0.3, "detect": "20m", "rollback": "10m"}


def released(**kw) -> dict:
    """A pool of four whose releases (a third of them bad) fail requests until noticed and rolled back."""
    return S({"app": svc(replicas=4, deploys={**DEPLOYS, **kw})})


def alerted(**rule) -> dict:
    """The default pool (MTBF 20 h, repairs of an hour) with one alert rule on it."""
    return S(slo=99.9, alerts={"r": rule})


def paged() -> dict:
    """A standby pair whose promotions fail half the time and wait for a manual recovery."""
    return standby(success=0.5, manual="20m")


def router(**kw) -> dict:
    return S({"app": {"route": "failover", "targets": ["p", "d"], **kw}, **TARGETS})


def law(failure: dict) -> dict:
    return S({"app": {"failure": failure, "repair": {"mttr": "1h"}}})


#: case id -> (build(value) -> Scenario keyword arguments, value a, value b)
CASES: dict[str, tuple[Callable[[typing.Any], dict], typing.Any, typing.Any]] = {
    "Scenario.horizon": (lambda v: S(horizon=v), "1000h", "1500h"),
    "Scenario.replicas": (lambda v: S(replicas=v), 4, 5),
    "Scenario.seed": (lambda v: S(seed=v), 1, 2),
    "Scenario.slo": (lambda v: S(slo=v), 99.0, 90.0),
    "Scenario.window": (lambda v: S(window=v), "730h", "100h"),
    "Scenario.rto": (lambda v: S(rto=v), "30m", "2h"),
    "Scenario.rpo": (lambda v: S({"app": replicated({"mode": "sync"})}, rpo=v), "0", "30m"),
    "Service.replication": (lambda v: S({"app": replicated(v)}), None, {"mode": "async", "lag": "5m"}),
    "Replication.mode": (lambda v: S({"app": replicated({"mode": v, **({"lag": "1h"} if v == "async" else {})})}),
                         "sync", "async"),
    "Replication.lag": (lambda v: S({"app": replicated({"mode": "async", "lag": v})}), "1s", "1h"),
    "Replication.interval": (lambda v: S({"app": replicated({"mode": "snapshot", "interval": v})}), "1h", "24h"),
    "Replication.of": (lambda v: S({"app": {"route": "failover", "targets": ["p", "d"]}, "p": svc(),
                                    "d": svc(mtbf="40h", **({"replication": {"mode": "snapshot", "interval": "24h",
                                                                             "of": v}} if v else {}))}),
                       None, "p"),
    "Service.deploys": (lambda v: S({"app": svc(replicas=4, **({"deploys": v} if v else {}))}), None, DEPLOYS),
    "Scenario.config_pushes": (lambda v: S({"app": svc(replicas=4), "db": DB},
                                           config_pushes={"flags": {**DEPLOYS, "services": ["app"]}} if v else {}),
                               False, True),
    "ConfigPush.services": (lambda v: S({"app": svc(replicas=4, requires=["db"]), "db": DB},
                                        config_pushes={"flags": {**DEPLOYS, "services": v, "errors": "50%"}}),
                            ["app"], ["app", "db"]),
    "Scenario.oncall": (lambda v: S({"app": paged()}, oncall=v), None, {"respond": "30m"}),
    "OnCall.respond": (lambda v: S({"app": paged()}, oncall={"respond": v}), "10m", "30m"),
    "OnCall.night": (lambda v: S({"app": paged()}, oncall={"respond": "10m", "night": v}), None, "1h"),
    "OnCall.business_hours": (lambda v: S({"app": paged()}, oncall={"respond": "10m", "night": "1h",
                                                                    "business_hours": v}), [9, 18], [6, 22]),
    "Scenario.alerts": (lambda v: alerted(**v) if v else S(slo=99.9), None, {"error_rate": "5%"}),
    "AlertRule.error_rate": (lambda v: alerted(error_rate=v, over="10m"), "5%", "50%"),
    "AlertRule.over": (lambda v: alerted(error_rate="5%", over=v), "0", "10m"),
    "AlertRule.for_": (lambda v: alerted(error_rate="5%", **{"for": v}), "0", "10m"),
    "AlertRule.every": (lambda v: alerted(error_rate="5%", every=v), "1m", "2m"),
    "AlertRule.burn_rate": (lambda v: alerted(burn_rate=v, long="1h", short="5m"), 14.4, 100),
    "AlertRule.long": (lambda v: alerted(burn_rate=14.4, long=v, short="5m"), "10m", "1h"),
    "AlertRule.short": (lambda v: alerted(burn_rate=100, long="1h", short=v), "1m", "5m"),
    "Deploys.paged": (lambda v: S({"app": svc(replicas=4, deploys={**DEPLOYS, "paged": v})},
                                  oncall={"respond": "20m"} if v else None), False, True),
    "Deploys.per_week": (lambda v: released(per_week=v), 20, 30),
    "Deploys.every": (lambda v: released(per_week=None, every=v), "8h", "12h"),
    "Deploys.strategy": (lambda v: released(strategy=v, **({"batch": "25%", "pause": "5m"} if v == "rolling" else {})),
                         "all_at_once", "rolling"),
    "Deploys.bad": (lambda v: released(bad=v), 0.3, 0.5),
    "Deploys.errors": (lambda v: released(errors=v), "100%", "50%"),
    "Deploys.detect": (lambda v: released(detect=v), "20m", "40m"),
    "Deploys.rollback": (lambda v: released(rollback=v), "10m", {"mttr": "20m"}),
    "Scenario.alert_noise": (lambda v: alerted(error_rate="5%") | {"alert_noise": v}, None,
                             {"per_day": 10, "errors": "10%", "lasting": "2m"}),
    "AlertNoise.per_day": (lambda v: alerted(error_rate="5%") | {"alert_noise": {"per_day": v, "errors": "10%",
                                                                                 "lasting": "2m"}}, 10, 20),
    "AlertNoise.errors": (lambda v: alerted(error_rate="5%") | {"alert_noise": {"per_day": 10, "errors": v,
                                                                                "lasting": "2m"}}, "10%", "3%"),
    "AlertNoise.lasting": (lambda v: alerted(error_rate="5%") | {"alert_noise": {"per_day": 10, "errors": "10%",
                                                                                 "lasting": v}}, "2m", "30s"),
    "Service.repair_paged": (lambda v: S({"app": svc(repair_paged=v)}, oncall={"respond": "20m"} if v else None),
                             False, True),
    "Service.maintenance": (lambda v: S({"app": svc(replicas=3, min_healthy=2, **({"maintenance": v} if v else {}))}),
                            None, {"every": "100h", "lasting": "10h"}),
    "Maintenance.every": (lambda v: S({"app": svc(replicas=3, min_healthy=2, maintenance={"every": v, "lasting": "10h"})}),
                          "100h", "50h"),
    "Maintenance.lasting": (lambda v: S({"app": svc(replicas=3, min_healthy=2,
                                                    maintenance={"every": "100h", "lasting": v})}), "10h", "20h"),
    "Maintenance.takes": (lambda v: S({"app": svc(replicas=3, min_healthy=1,
                                                  maintenance={"every": "100h", "lasting": "10h", "takes": v})}), 1, 2),
    "Deploys.alert": (lambda v: S({"app": svc(replicas=4, deploys={**DEPLOYS, "detect": "2h", "alert": v})},
                                  slo=99.9, alerts={"r": {"error_rate": "5%", "for": "2m"}}), None, "r"),
    "Deploys.batch": (lambda v: released(strategy="rolling", batch=v, pause="5m"), "25%", "50%"),
    "Deploys.pause": (lambda v: released(strategy="rolling", batch="25%", pause=v), "5m", "2m"),
    "Deploys.canary": (lambda v: released(strategy="canary", canary=v, bake="30m"), "5%", "10%"),
    "Deploys.bake": (lambda v: released(strategy="canary", canary="5%", bake=v), "10m", "15m"),
    "Deploys.catch": (lambda v: released(strategy="canary", canary="5%", bake="10m", catch=v), "100%", "50%"),
    "Scenario.entry": (lambda v: S({"app": svc(), "other": svc(mtbf="30h")}, entry=v), "app", "other"),
    "Zone.failure": (lambda v: S({"app": svc(zones=["z"])}, {"z": {"failure": {"mtbf": v}, "mttr": "5h"}}),
                     "100h", "200h"),
    "Zone.repair": (lambda v: S({"app": svc(zones=["z"])}, {"z": {"mtbf": "100h", "repair": {"mttr": v}}}),
                    "5h", "10h"),
    "Zone.within": (lambda v: S({"app": svc(zones=["z2"])}, {**Z, "z2": {"mtbf": "1y", "mttr": "1h", "within": v}}),
                    None, "z"),
    "Service.replicas": (lambda v: S({"app": svc(replicas=v)}), 1, 2),
    "Service.zones": (lambda v: S({"app": svc(zones=v)}, Z), [], ["z"]),
    "Service.failure": (lambda v: S({"app": svc(failure={"mtbf": v}, repair={"mttr": "1h"})}), "20h", "30h"),
    "Service.repair": (lambda v: S({"app": svc(failure={"mtbf": "20h"}, repair={"mttr": v})}), "1h", "2h"),
    "Service.mode": (lambda v: S({"app": svc(replicas=3, mode=v)}), "active", "quorum"),
    "Service.min_healthy": (lambda v: S({"app": svc(replicas=3, min_healthy=v)}), 1, 2),
    "Service.standby": (lambda v: S({"app": svc(mode="standby", replicas=2, standby=v)}), "hot", "cold"),
    "Service.warm_factor": (lambda v: S({"app": svc(mode="standby", replicas=2, standby="warm", warm_factor=v)}),
                            0.5, 0.1),
    "Service.failover": (lambda v: S({"app": svc(mode="standby", replicas=2, **({"failover": v} if v else {}))}),
                         None, {"detection": "10m"}),
    "Service.shards": (lambda v: S({"app": svc(replicas=2, min_healthy=2, shards=v)}), 1, 2),
    "Service.health_check": (lambda v: S({"app": svc(replicas=2, **({"health_check": v} if v else {}))}),
                             None, HC),
    "Service.retry": (lambda v: S({"app": svc(replicas=2, health_check=HC, retry=v)}), False, True),
    "Service.requires": (lambda v: S({"app": svc(requires=v), "db": DB}), [], ["db"]),
    "Service.optional": (lambda v: S({"app": svc(optional=v), "db": DB}), [], ["db"]),
    "Service.cached": (lambda v: S({"app": svc(**({"cached": v} if v else {"requires": ["db"]})), "db": DB}),
                       None, {"service": "db", "ttl": "10m"}),
    # (Without a health check both routes serve fully while one target does: the difference is
    # what a failed target not yet noticed costs, all traffic or its weighted share.)
    "Service.route": (lambda v: S({"app": {"route": v, "targets": ["p", "d"], "health_check": HC}, **TARGETS}),
                      "failover", "weighted"),
    "Service.targets": (lambda v: S({"app": {"route": "failover", "targets": v}, **TARGETS}), ["p", "d"], ["d", "p"]),
    "Service.weights": (lambda v: S({"app": {"route": "weighted", "targets": ["p", "d"], "weights": v,
                                             "health_check": HC}, **TARGETS}), [1, 1], [3, 1]),
    "Service.dns": (lambda v: router(health_check=HC, **({"dns": v} if v else {})), None, {"ttl": "5m"}),
    "Service.capacity": (lambda v: S({"app": svc(replicas=3, capacity=v, load=250)}), 100, 150),
    "Service.load": (lambda v: S({"app": svc(replicas=3, capacity=100, load=v)}), 150, 250),
    "Service.calls": (lambda v: S({"app": svc(requires=["db"], load=100, calls=v),
                                   "db": {**DB, "replicas": 3, "capacity": 100}}), {}, {"db": 2.5}),
    "Load.rate": (lambda v: S({"app": svc(replicas=3, capacity=100, load={"rate": v})}), 150, 250),
    "Load.utilisation": (lambda v: S({"app": svc(replicas=3, capacity=100, load={"utilisation": v})}), 0.5, 0.8),
    "Load.daily": (lambda v: S({"app": svc(replicas=3, capacity=100, load={"rate": 250, "daily": v})}),
                   None, [0.2] * 12 + [1.0] * 12),
    "Service.overload": (lambda v: S({"app": svc(replicas=3, capacity=100, load=210, **({"overload": v} if v else {}))}),
                         None, {"threshold": 1.0}),
    "Service.retries": (lambda v: S({"app": svc(replicas=3, capacity=100, load=210, overload=OV,
                                                 **({"retries": v} if v else {}))}), None, {"attempts": 3}),
    "Overload.threshold": (lambda v: S({"app": svc(replicas=3, capacity=100, load=210, overload={"threshold": v})}),
                           1.0, 1.2),
    "Overload.grace": (lambda v: S({"app": svc(replicas=3, capacity=100, load=210, overload={"grace": v})}),
                       "0s", "30m"),
    "Overload.recovery": (lambda v: S({"app": svc(replicas=3, capacity=100, load=210,
                                                   overload={**OV, "recovery": v})}), 1.0, 0.5),
    "Overload.goodput": (lambda v: S({"app": svc(replicas=3, capacity=100, load=210, overload={"goodput": v})}),
                         0.0, 0.5),
    "Service.latency": (lambda v: waits(latency=v), "50ms", "100ms"),
    "Service.timeouts": (lambda v: waits(timeouts=v), {"r": "1s"}, {"r": "100ms"}),
    "Service.breakers": (lambda v: waits(breakers=v), {}, {"r": {"fallback": "serve"}}),
    "Breaker.threshold": (lambda v: guarded(threshold=v), 0.3, 0.7),
    "Breaker.window": (lambda v: guarded(window=v), "10s", "10m"),
    "Breaker.reset_timeout": (lambda v: guarded(reset_timeout=v), "30s", "10m"),
    "Breaker.fallback": (lambda v: waits(breakers={"r": {"fallback": v}}, optional=[], requires=["r"]), "serve",
                         "fail"),
    "Service.autoscaling": (lambda v: S({"app": svc(replicas=3, capacity=100, load=250,
                                                     **({"autoscaling": v} if v else {}))}),
                            None, {"target": 0.7, "max": 8}),
    "Autoscaling.target": (lambda v: scaled(target=v), 0.7, 0.5),
    "Autoscaling.delay": (lambda v: scaled(delay=v), "5m", "1h"),
    "Autoscaling.scale_in": (lambda v: scaled(scale_in=v), "15m", "10h"),
    "Autoscaling.max": (lambda v: scaled(max=v), 4, 8),
    "Autoscaling.min_per_zone": (lambda v: S({"app": svc(zones=["z"], capacity=100, load=250,
                                                         autoscaling={"target": 0.7, "max": 8, "min_per_zone": v})},
                                             Z), 2, 3),
    "Overload.admit": (lambda v: S({"app": svc(replicas=3, capacity=100, load=210,
                                                overload={**OV, **({"admit": v} if v else {})})}), None, 0.9),
    "Retries.attempts": (lambda v: S({"app": svc(replicas=3, capacity=100, load=210, overload=OV,
                                                  retries={"attempts": v})}), 1, 3),
    "Retries.budget": (lambda v: S({"app": svc(replicas=3, capacity=100, load=210, overload=OV,
                                                retries={"attempts": 4, "budget": v})}), None, 0.1),
    "Failover.detection": (lambda v: S({"app": standby(detection=v)}), "1m", "10m"),
    "Failover.promotion": (lambda v: S({"app": standby(promotion=v)}), "1m", "10m"),
    "Failover.success": (lambda v: S({"app": standby(success=v, manual="1h")}), 1.0, 0.5),
    "Failover.manual": (lambda v: S({"app": standby(success=0.5, manual=v)}), "1h", "5h"),
    "Failover.requires": (lambda v: S({"app": standby(requires=v), "s": {"mtbf": "10h", "mttr": "5h"}}),
                          [], ["s"]),
    "Failover.requires[quorum]": (
        lambda v: S({"app": svc(mode="quorum", replicas=3, failover={"detection": "1m", "promotion": "1m",
                                                                     "requires": v}),
                     "s": {"mtbf": "10h", "mttr": "5h"}}), [], ["s"]),
    "HealthCheck.interval": (lambda v: S({"app": svc(replicas=3, min_healthy=2, health_check={"interval": v})}),
                             "1m", "2m"),
    "HealthCheck.unhealthy_threshold": (
        lambda v: S({"app": svc(replicas=3, min_healthy=2, health_check={**HC, "unhealthy_threshold": v})}), 3, 5),
    "HealthCheck.healthy_threshold": (
        lambda v: S({"app": svc(replicas=3, min_healthy=2, health_check={**HC, "healthy_threshold": v})}), 2, 5),
    "Dns.ttl": (lambda v: router(health_check=HC, dns={"ttl": v}), "1m", "5m"),
    "Dns.stale_fraction": (lambda v: router(health_check=HC, dns={"ttl": "1m", "stale_fraction": v,
                                                                  "stale_for": "10m"}), 0.0, 0.1),
    "Dns.stale_for": (lambda v: router(health_check=HC, dns={"ttl": "1m", "stale_fraction": 0.1, "stale_for": v}),
                      "10m", "20m"),
    "Cached.service": (lambda v: S({"app": svc(cached={"service": v, "ttl": "10m"}), "db": DB,
                                    "db2": {"mtbf": "40h", "mttr": "2h"}}), "db", "db2"),
    "Cached.ttl": (lambda v: S({"app": svc(cached={"service": "db", "ttl": v}), "db": DB}), "10m", "20m"),
    "Exponential.mean": (lambda v: law({"dist": "exponential", "mean": v}), "20h", "30h"),
    "Weibull.shape": (lambda v: law({"dist": "weibull", "shape": v, "scale": "20h"}), 1.5, 2.0),
    "Weibull.scale": (lambda v: law({"dist": "weibull", "shape": 1.5, "scale": v}), "20h", "30h"),
    "Weibull.mean": (lambda v: law({"dist": "weibull", "shape": 1.5, "mean": v}), "20h", "30h"),
    "LogNormal.sigma": (lambda v: law({"dist": "lognormal", "sigma": v, "median": "20h"}), 0.5, 1.0),
    "LogNormal.median": (lambda v: law({"dist": "lognormal", "sigma": 0.5, "median": v}), "20h", "30h"),
    "LogNormal.mean": (lambda v: law({"dist": "lognormal", "sigma": 0.5, "mean": v}), "20h", "30h"),
    "Fixed.value": (lambda v: law({"dist": "fixed", "value": v}), "20h", "30h"),
    "Uniform.low": (lambda v: law({"dist": "uniform", "low": v, "high": "30h"}), "10h", "15h"),
    "Uniform.high": (lambda v: law({"dist": "uniform", "low": "10h", "high": v}), "30h", "40h"),
    "Empirical.samples": (lambda v: law({"dist": "empirical", "samples": v}), ["10h", "20h"], ["10h", "30h"]),
}


#: Keys the exact solver does not read, and why.
SOLVER_IGNORES = {
    **{f"{k}": "a collapse under overload has no closed form (tests/mechanisms/test_overload.py checks both "
               "engines against an independent simulation)"
       for k in ("Service.overload", "Service.retries", "Overload.threshold", "Overload.grace", "Overload.recovery",
                 "Overload.admit",
                 "Overload.goodput", "Retries.attempts", "Retries.budget")},
    **{f"{k}": "timeouts and circuit breakers have no closed form (tests/mechanisms/test_breaker.py checks both "
               "engines against the rule on fixed histories)"
       for k in ("Service.latency", "Service.timeouts", "Service.breakers", "Breaker.threshold", "Breaker.window",
                 "Breaker.reset_timeout", "Breaker.fallback")},
    **{f"{k}": "autoscaling has no closed form (tests/mechanisms/test_autoscaling.py checks both engines "
               "against the rule on fixed histories)"
       for k in ("Service.autoscaling", "Autoscaling.target", "Autoscaling.delay", "Autoscaling.scale_in",
                 "Autoscaling.max")},
    "Scenario.horizon": "the solver computes the steady state, not one finite history",
    "Scenario.replicas": "a simulation setting", "Scenario.seed": "a simulation setting",
    "Scenario.window": "breach statistics are simulated only",
    "Scenario.rto": "incident durations are simulated only (the recovery-time measures)",
    "Scenario.rpo": "the loss window's law is simulated only (the solver gives its mean)",
    "Replication.of": "a disaster-recovery copy's incidents are the DNS switches to it, simulated only",
    **{k: "a rule no change names only measures the simulated error ratio, and the solver gives no pages "
          "(Deploys.alert's case holds the solver to a rule that acts)"
       for k in ("Scenario.alerts", "AlertRule.error_rate", "AlertRule.over", "AlertRule.for_", "AlertRule.every",
                 "AlertRule.burn_rate", "AlertRule.long", "AlertRule.short")},
    **{k: "the noise costs no availability: it only pages, and the solver gives no pages"
       for k in ("Scenario.alert_noise", "AlertNoise.per_day", "AlertNoise.errors", "AlertNoise.lasting")},
}


def test_every_field_has_a_case():
    fields = _fields()
    covered = {case.split("[")[0] for case in CASES} | set(NOT_A_SETTING)
    assert fields - covered == set(), "fields without a case in CASES (add one: every key must take effect)"
    assert covered - fields == set(), "cases for fields that no longer exist"


def _fingerprint(res) -> list:
    o = res.out
    rto, rpo = res.rto_breaches(), res.rpo_breaches()
    return [o.ra, o.ta, o.outages, o.loss, o.svc_ra, o.breaches, o.win, tuple(res.services.role),
            o.al_pages, o.al_detected, o.al_missed, o.al_late, o.al_ttd, o.al_false,
            np.array([] if rto is None else [rto["rto_hours"], rto["incidents_over"]]),
            o.dl_n, o.dl_hours, np.array([] if rpo is None else [rpo["rpo_hours"], rpo["incidents_over"]])]


def _same(a: list, b: list) -> bool:
    for x, y in zip(a, b):
        if isinstance(x, tuple):
            if x != y:
                return False
        elif x.shape != y.shape or not np.array_equal(x, y):
            return False
    return True


@pytest.mark.parametrize("engine", ["numba", "simpy"])
@pytest.mark.parametrize("case", list(CASES))
def test_the_key_changes_the_result(case, engine):
    build, a, b = CASES[case]
    first, second = Scenario(**build(a)), Scenario(**build(b))
    assert first != second, "the two values must give two different scenarios"
    runs = [_fingerprint(simulate(sc, engine=engine)) for sc in (first, second)]
    assert not _same(*runs), f"{case}: {a!r} and {b!r} give the same results on the {engine} engine"
    # And the same scenario twice gives the same numbers: the difference is the key's.
    assert _same(runs[0], _fingerprint(simulate(first, engine=engine)))


@pytest.mark.parametrize("case", [c for c in CASES if c not in SOLVER_IGNORES])
def test_the_key_changes_the_exact_solution(case):
    build, a, b = CASES[case]
    first, second = (hasim.analyze(Scenario(**build(v))).to_dict() for v in (a, b))
    assert first != second, f"{case}: hasim analyze gives the same answer for {a!r} and {b!r}"
