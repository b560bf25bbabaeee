"""Scenario validation: every invalid input becomes a ScenarioError with one
``<file>: <key.path>: <message>`` line per problem; valid input reads the same
from YAML, TOML and Python."""

import copy
import json
import textwrap

import pydantic
import pytest
import yaml
from hypothesis import HealthCheck as HypothesisHealthCheck
from hypothesis import given, settings
from hypothesis import strategies as st

import hasim
from hasim import (
    Cached,
    Dns,
    Empirical,
    Exponential,
    Failover,
    Fixed,
    HealthCheck,
    LogNormal,
    Problem,
    Scenario,
    ScenarioError,
    Service,
    Uniform,
    Weibull,
    Zone,
)
from hasim.units import HOURS_PER_MONTH, parse_duration

VALID_YAML = """\
name: shop
description: a web shop in two zones
slo: 99.9
horizon: 1y
replicas: 200
seed: 7
window: 1mo
entry: web
zones:
  region: {mtbf: 5y, mttr: 12h}
  az-a: {mtbf: 1y, mttr: 4h, within: region}
  az-b: {mtbf: 1y, mttr: 4h, within: region}
services:
  web:
    route: failover
    targets: [api, api-dr]
    health_check: {interval: 10s}
    dns: {ttl: 60s, stale_fraction: 0.05, stale_for: 1h}
  api:
    replicas: 3
    zones: [az-a, az-b]
    mtbf: 720h
    mttr: 1h
    min_healthy: 2
    health_check: {interval: 5s, unhealthy_threshold: 3, healthy_threshold: 2}
    retry: true
    requires: [db]
    optional: [search]
    cached: {service: sessions, ttl: 5m}
  api-dr:
    mtbf: 720h
    mttr: 1h
    shards: 2
    requires: [db]
  db:
    mode: standby
    standby: warm
    warm_factor: 0.2
    replicas: 2
    zones: [az-a, az-b]
    failure: {dist: weibull, shape: 1.2, mean: 2000h}
    repair: {dist: lognormal, median: 2h, sigma: 0.8}
    failover: {detection: 30s, promotion: 1m, success: 0.95, manual: 30m, requires: [sentinel]}
  sentinel:
    mode: quorum
    replicas: 3
    zones: [az-a, az-b]
    failure: {mtbf: 2000h}
    repair: {mttr: 30m}
    failover: {detection: 5s, promotion: 1s}
  sessions:
    failure: {mtbf: 1000h}
    repair: {dist: fixed, value: 15m}
  search:
    failure: {dist: exponential, mean: 500h}
    repair: {dist: uniform, low: 10m, high: 2h}
"""
VALID = yaml.safe_load(VALID_YAML)

DELETE = object()
#: A pool of VALID given a capacity and a load (what overload and retries apply to).
LOADED = {"services.api-dr.capacity": 100, "services.api-dr.load": 150}


def variant(changes: dict) -> str:
    """VALID with ``{"dotted.key.path": value}`` applied (``DELETE`` removes a key), as YAML text."""
    data = copy.deepcopy(VALID)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node.setdefault(key, {})
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return yaml.safe_dump(data, sort_keys=False)


def error_lines(text: str, fmt: str = "yaml", source: str = "bad.yaml") -> list[str]:
    """The lines of the ScenarioError that ``loads`` raises, checked for their shape."""
    with pytest.raises(ScenarioError) as info:
        hasim.loads(text, fmt, source=source)
    err = info.value
    lines = str(err).splitlines()
    assert lines == err.lines()
    assert len(lines) == len(err.problems) >= 1
    assert err.source == source
    for line, problem in zip(lines, err.problems):
        assert isinstance(problem, Problem)
        where = f"{problem.path}: " if problem.path else ""
        assert line == f"{source}: {where}{problem.message}"
        assert "\n" not in problem.message
    return lines


def test_the_valid_scenario_loads():
    sc = hasim.loads(VALID_YAML, source="ok.yaml")
    assert sc.name == "shop"
    assert sc.slo == 99.9
    assert sc.horizon == 8760.0
    assert sc.window == pytest.approx(730.0)
    assert sc.entry == "web"
    assert list(sc.services) == ["web", "api", "api-dr", "db", "sentinel", "sessions", "search"]
    assert all(svc.name == key for key, svc in sc.services.items())
    assert all(zone.name == key for key, zone in sc.zones.items())
    api = sc.services["api"]
    assert api.failure == Exponential(mean=720.0) and api.repair == Exponential(mean=1.0)
    assert api.cached == [Cached(service="sessions", ttl=5 / 60)]
    assert api.health_check == HealthCheck(interval=5 / 3600, unhealthy_threshold=3, healthy_threshold=2)
    db = sc.services["db"]
    assert db.failure == Weibull(shape=1.2, mean=2000.0)
    assert db.repair == LogNormal(sigma=0.8, median=2.0)
    assert db.failover == Failover(detection=30 / 3600, promotion=1 / 60, success=0.95, manual=0.5,
                                   requires=["sentinel"])
    assert sc.services["sessions"].repair == Fixed(value=0.25)
    assert sc.services["search"].repair == Uniform(low=10 / 60, high=2.0)
    web = sc.services["web"]
    assert web.is_router and not web.has_instances
    assert web.dns == Dns(ttl=60 / 3600, stale_fraction=0.05, stale_for=1.0)
    assert sc.zone_chain("az-a") == ["az-a", "region"]
    order = sc.topological_order()
    assert order.index("sentinel") < order.index("db") < order.index("api") < order.index("web")
    assert api.dependencies == ["db", "sessions"]


# --- one problem each: (id, changes to VALID, the exact line) ------------------------------------

CASES = [
    # unknown keys, with a suggestion at every level
    ("unknown-top-key", {"servces": {}}, "servces: unknown key 'servces'; did you mean 'services'?"),
    ("unknown-top-key-no-match", {"colour": "red"},
     "colour: unknown key 'colour' (allowed: name, description, horizon, replicas, seed, slo, window, rto, rpo, "
     "entry, zones, services, config_pushes, oncall, alerts, alert_noise)"),
    ("unknown-service-key", {"services.api.reqires": ["db"]},
     "services.api.reqires: unknown key 'reqires'; did you mean 'requires'?"),
    ("unknown-service-key-replica", {"services.sessions.replica": 2},
     "services.sessions.replica: unknown key 'replica'; did you mean 'replicas'?"),
    ("unknown-zone-key", {"zones.az-a.withn": "region"}, "zones.az-a.withn: unknown key 'withn'; did you mean 'within'?"),
    ("unknown-failover-key", {"services.db.failover.detecton": "1s"},
     "services.db.failover.detecton: unknown key 'detecton'; did you mean 'detection'?"),
    ("unknown-cached-key", {"services.api.cached.tttl": "1m"},
     "services.api.cached.0.tttl: unknown key 'tttl'; did you mean 'ttl'?"),
    ("unknown-dns-key", {"services.web.dns.stale_fractoin": 0.1},
     "services.web.dns.stale_fractoin: unknown key 'stale_fractoin'; did you mean 'stale_fraction'?"),
    ("unknown-health-check-key", {"services.api.health_check.unhealthy_treshold": 2},
     "services.api.health_check.unhealthy_treshold: unknown key 'unhealthy_treshold'; "
     "did you mean 'unhealthy_threshold'?"),
    ("unknown-shorthand-key", {"services.sessions.failure": {"mtfb": "1000h"}},
     "services.sessions.failure.mtfb: unknown key 'mtfb'; did you mean 'mtbf'?"),
    ("unknown-weibull-key", {"services.db.failure": {"dist": "weibull", "shape": 1.2, "scael": "2000h"}},
     "services.db.failure.scael: unknown key 'scael'; did you mean 'scale'?"),
    ("unknown-lognormal-key", {"services.db.repair": {"dist": "lognormal", "sigma": 0.8, "medain": "2h"}},
     "services.db.repair.medain: unknown key 'medain'; did you mean 'median'?"),
    ("key-of-another-law", {"services.search.failure": {"dist": "exponential", "mean": "5h", "shape": 2}},
     "services.search.failure.shape: unknown key 'shape' (allowed: dist, mean, mtbf, mttr)"),
    # wrong types
    ("replicas-text", {"services.api.replicas": "three"}, "services.api.replicas: expected a whole number, got 'three'"),
    ("replicas-fraction", {"services.api.replicas": 2.5}, "services.api.replicas: expected a whole number, got '2.5'"),
    ("replicas-bool", {"services.api.replicas": True}, "services.api.replicas: expected a whole number, got 'True'"),
    ("seed-bool", {"seed": True}, "seed: expected a whole number, got 'True'"),
    ("retry-text", {"services.api.retry": "maybe"}, "services.api.retry: expected true or false, got 'maybe'"),
    ("zones-not-a-list", {"services.api.zones": "az-a"}, "services.api.zones: expected a list, got 'az-a'"),
    ("requires-not-a-list", {"services.api.requires": "db"}, "services.api.requires: expected a list, got 'db'"),
    ("requires-item-number", {"services.api-dr.requires": [1]},
     "services.api-dr.requires.0: expected text, got '1'"),
    ("entry-number", {"entry": 5}, "entry: expected text, got '5'"),
    ("name-list", {"name": ["a"]}, "name: expected text, got ['a']"),
    ("services-text", {"services": "api"}, "services: expected a mapping of keys to values, got 'api'"),
    ("service-list", {"services.sessions": [1]}, "services.sessions: expected a mapping of keys to values, got [1]"),
    ("service-empty", {"services.sessions": None},
     "services.sessions: expected a mapping of keys to values, got 'None'"),
    ("failure-text", {"services.sessions.failure": "1000h"},
     "services.sessions.failure: expected a distribution such as {mtbf: 720h} or "
     "{dist: weibull, shape: 1.5, mean: 720h}, got '1000h'"),
    ("failure-no-law", {"services.sessions.failure": {"mean": "1000h"}},
     "services.sessions.failure: expected 'mtbf', 'mttr' or 'dist' (one of exponential, weibull, lognormal, fixed, "
     "uniform, empirical), got keys mean"),
    ("slo-text", {"slo": "high"}, "slo: expected a percentage between 0 and 100 like 99.99, got 'high'"),
    ("mode-number", {"services.api.mode": 1}, "services.api.mode: expected one of 'active', 'standby' or 'quorum', got '1'"),
    ("weights-not-a-list", {"services.web.route": "weighted", "services.web.weights": 1},
     "services.web.weights: expected a list, got '1'"),
    # enumerations, with a suggestion
    ("mode-typo", {"services.api.mode": "actve"},
     "services.api.mode: expected one of 'active', 'standby' or 'quorum', got 'actve'; did you mean 'active'?"),
    ("standby-typo", {"services.db.standby": "wram"},
     "services.db.standby: expected one of 'hot', 'warm' or 'cold', got 'wram'; did you mean 'warm'?"),
    ("route-typo", {"services.web.route": "failovr"},
     "services.web.route: expected one of 'failover' or 'weighted', got 'failovr'; did you mean 'failover'?"),
    # non-positive MTBF / MTTR / horizon, negative delays
    ("mtbf-negative", {"services.api.mtbf": -5},
     "services.api.failure.mtbf: expected a positive duration like '720h', got '-5' (a bare number is hours)"),
    ("mtbf-zero", {"services.sessions.failure": {"mtbf": "0h"}},
     "services.sessions.failure.mtbf: expected a positive duration like '720h', got '0h'"),
    ("mttr-zero", {"services.sessions.failure": {"mtbf": "1000h"}, "services.sessions.repair": {"mttr": 0}},
     "services.sessions.repair.mttr: expected a positive duration like '720h', got '0' (a bare number is hours)"),
    ("mttr-negative-text", {"services.api.mttr": "-1h"},
     "services.api.repair.mttr: expected a positive duration like '720h', got '-1h'"),
    ("zone-mtbf-zero", {"zones.region.mtbf": 0},
     "zones.region.failure.mtbf: expected a positive duration like '720h', got '0' (a bare number is hours)"),
    ("mean-zero", {"services.search.failure": {"dist": "exponential", "mean": 0}},
     "services.search.failure.mean: expected a positive duration like '720h', got '0' (a bare number is hours)"),
    ("weibull-scale-zero", {"services.db.failure": {"dist": "weibull", "shape": 1.2, "scale": 0}},
     "services.db.failure.scale: expected a positive duration like '720h', got '0' (a bare number is hours)"),
    ("fixed-zero", {"services.sessions.repair": {"dist": "fixed", "value": "0s"}},
     "services.sessions.repair.value: expected a positive duration like '720h', got '0s'"),
    ("horizon-zero", {"horizon": 0},
     "horizon: expected a positive duration like '720h', got '0' (a bare number is hours)"),
    ("horizon-negative", {"horizon": "-1y"}, "horizon: expected a positive duration like '720h', got '-1y'"),
    ("horizon-bool", {"horizon": True},
     "horizon: expected a positive duration like '720h', got 'True' (a bare number is hours)"),
    ("horizon-nan", {"horizon": float("nan")},
     "horizon: expected a positive duration like '720h', got 'nan' (a bare number is hours)"),
    ("horizon-inf", {"horizon": float("inf")},
     "horizon: expected a positive duration like '720h', got 'inf' (a bare number is hours)"),
    ("window-zero", {"window": "0d"}, "window: expected a positive duration like '720h', got '0d'"),
    ("interval-zero", {"services.api.health_check.interval": "0s"},
     "services.api.health_check.interval: expected a positive duration like '720h', got '0s'"),
    ("manual-zero", {"services.db.failover.manual": 0},
     "services.db.failover.manual: expected a positive duration like '720h', got '0' (a bare number is hours)"),
    ("detection-negative", {"services.db.failover.detection": "-1s"},
     "services.db.failover.detection: expected a non-negative duration like '720h', got '-1s'"),
    ("promotion-negative", {"services.sentinel.failover.promotion": -0.1},
     "services.sentinel.failover.promotion: expected a non-negative duration like '720h', got '-0.1'"
     " (a bare number is hours)"),
    ("cache-ttl-negative", {"services.api.cached.ttl": "-5m"},
     "services.api.cached.0.ttl: expected a non-negative duration like '720h', got '-5m'"),
    ("dns-ttl-negative", {"services.web.dns.ttl": "-1s"},
     "services.web.dns.ttl: expected a non-negative duration like '720h', got '-1s'"),
    ("stale-for-negative", {"services.web.dns.stale_for": "-1h"},
     "services.web.dns.stale_for: expected a non-negative duration like '720h', got '-1h'"),
    ("uniform-low-negative", {"services.search.repair": {"dist": "uniform", "low": "-1h", "high": "2h"}},
     "services.search.repair.low: expected a non-negative duration like '720h', got '-1h'"),
    ("empirical-negative", {"services.search.repair": {"dist": "empirical", "samples": ["1h", "-2h"]}},
     "services.search.repair.samples.1: expected a non-negative duration like '720h', got '-2h'"),
    ("duration-garbage", {"services.db.failover.detection": "soon"},
     "services.db.failover.detection: expected a non-negative duration like '720h', got 'soon'"),
    ("duration-date", {"horizon": "2020-01-01"},
     "horizon: expected a positive duration like '720h', got '2020-01-01' (a bare number is hours)"),
    # unknown units
    ("unit-horizon", {"horizon": "1 year"},
     "horizon: unknown unit 'year' in '1 year' (known units: ms, s, m, min, h, d, w, mo, y)"),
    ("unit-mtbf", {"services.api.mtbf": "5x"},
     "services.api.failure.mtbf: unknown unit 'x' in '5x' (known units: ms, s, m, min, h, d, w, mo, y)"),
    ("unit-interval", {"services.api.health_check.interval": "5 secs"},
     "services.api.health_check.interval: unknown unit 'secs' in '5 secs' (known units: ms, s, m, min, h, d, w, mo, y)"),
    ("unit-case", {"services.web.dns.ttl": "60S"},
     "services.web.dns.ttl: unknown unit 'S' in '60S' (known units: ms, s, m, min, h, d, w, mo, y)"),
    # distributions
    ("unknown-distribution", {"services.db.failure": {"dist": "gamma", "shape": 2, "mean": "1h"}},
     "services.db.failure.dist: unknown distribution 'gamma' (expected one of exponential, weibull, lognormal, fixed, "
     "uniform, empirical)"),
    ("distribution-typo", {"services.db.failure": {"dist": "weibul", "shape": 2, "mean": "1h"}},
     "services.db.failure.dist: unknown distribution 'weibul' (expected one of exponential, weibull, lognormal, fixed, "
     "uniform, empirical); did you mean 'weibull'?"),
    ("distribution-null", {"services.db.failure": {"dist": None}},
     "services.db.failure.dist: unknown distribution None (expected one of exponential, weibull, lognormal, fixed, "
     "uniform, empirical)"),
    ("weibull-no-shape", {"services.db.failure": {"dist": "weibull", "mean": "2000h"}},
     "services.db.failure.shape: required key is missing"),
    ("weibull-no-scale", {"services.db.failure": {"dist": "weibull", "shape": 1.2}},
     "services.db.failure: a weibull distribution needs exactly one of 'scale' or 'mean'"),
    ("weibull-both", {"services.db.failure": {"dist": "weibull", "shape": 1.2, "mean": "1h", "scale": "1h"}},
     "services.db.failure: a weibull distribution needs exactly one of 'scale' or 'mean'"),
    ("weibull-shape-negative", {"services.db.failure": {"dist": "weibull", "shape": -1, "mean": "1h"}},
     "services.db.failure.shape: expected a positive number, got '-1'"),
    ("weibull-shape-text", {"services.db.failure": {"dist": "weibull", "shape": "steep", "mean": "1h"}},
     "services.db.failure.shape: expected a positive number, got 'steep'"),
    ("lognormal-no-median", {"services.db.repair": {"dist": "lognormal", "sigma": 0.8}},
     "services.db.repair: a lognormal distribution needs exactly one of 'median' or 'mean'"),
    ("lognormal-no-sigma", {"services.db.repair": {"dist": "lognormal", "median": "2h"}},
     "services.db.repair.sigma: required key is missing"),
    ("lognormal-sigma-zero", {"services.db.repair": {"dist": "lognormal", "sigma": 0, "median": "2h"}},
     "services.db.repair.sigma: expected a positive number, got '0'"),
    ("exponential-no-mean", {"services.search.failure": {"dist": "exponential"}},
     "services.search.failure.mean: required key is missing"),
    ("fixed-no-value", {"services.sessions.repair": {"dist": "fixed"}}, "services.sessions.repair.value: required key is missing"),
    ("uniform-no-high", {"services.search.repair": {"dist": "uniform", "low": "1h"}},
     "services.search.repair.high: required key is missing"),
    ("uniform-reversed", {"services.search.repair": {"dist": "uniform", "low": "2h", "high": "1h"}},
     "services.search.repair: 'high' must be greater than 'low'"),
    ("empirical-no-samples", {"services.search.repair": {"dist": "empirical"}},
     "services.search.repair.samples: required key is missing"),
    ("empirical-empty", {"services.search.repair": {"dist": "empirical", "samples": []}},
     "services.search.repair.samples: expected at least 1 item(s), got []"),
    ("empirical-zeros", {"services.search.repair": {"dist": "empirical", "samples": [0, "0s"]}},
     "services.search.repair: the samples must not all be zero"),
    ("mtbf-and-mttr-in-one-law", {"services.sessions.failure": {"mtbf": "720h", "mttr": "1h"}},
     "services.sessions.failure.mttr: give only one of 'mtbf' or 'mttr': each is the mean of the exponential law"),
    ("mean-and-mtbf", {"services.search.failure": {"dist": "exponential", "mean": "1h", "mtbf": "2h"}},
     "services.search.failure.mtbf: give only one of 'mean' or 'mtbf': each is the mean of the exponential law"),
    ("shorthand-and-full", {"services.api.failure": {"mtbf": "1h"}},
     "services.api.mtbf: give either 'mtbf' or 'failure', not both"),
    ("failure-without-repair", {"services.sessions.repair": DELETE},
     "services.sessions.repair: 'failure' and 'repair' go together; 'repair' is missing"),
    ("repair-without-failure", {"services.sessions.failure": DELETE},
     "services.sessions.failure: 'failure' and 'repair' go together; 'failure' is missing"),
    ("service-without-laws", {"services.sessions": {"replicas": 2}},
     "services.sessions.failure: a service needs 'failure' and 'repair' (e.g. failure: {mtbf: 720h}, "
     "repair: {mttr: 1h})"),
    ("zone-without-repair", {"zones.region.mttr": DELETE}, "zones.region.repair: required key is missing"),
    # probabilities outside [0, 1]
    ("success-above-one", {"services.db.failover.success": 1.5},
     "services.db.failover.success: expected a probability between 0 and 1, got '1.5'"),
    ("success-negative", {"services.db.failover.success": -0.1},
     "services.db.failover.success: expected a probability between 0 and 1, got '-0.1'"),
    ("success-text", {"services.db.failover.success": "likely"},
     "services.db.failover.success: expected a probability between 0 and 1, got 'likely'"),
    ("success-bool", {"services.db.failover.success": True},
     "services.db.failover.success: expected a probability between 0 and 1, got 'True'"),
    ("warm-factor-above-one", {"services.db.warm_factor": 2},
     "services.db.warm_factor: expected a probability between 0 and 1, got '2'"),
    ("stale-fraction-above-one", {"services.web.dns.stale_fraction": 1.2},
     "services.web.dns.stale_fraction: expected a probability between 0 and 1, got '1.2'"),
    # counts
    ("replicas-zero", {"services.api.replicas": 0}, "services.api.replicas: expected a number >= 1, got '0'"),
    ("replicas-negative", {"services.api.replicas": -2}, "services.api.replicas: expected a number >= 1, got '-2'"),
    ("run-replicas-zero", {"replicas": 0}, "replicas: expected a number >= 1, got '0'"),
    ("seed-negative", {"seed": -1}, "seed: expected a number >= 0, got '-1'"),
    ("shards-zero", {"services.api-dr.shards": 0}, "services.api-dr.shards: expected a number >= 1, got '0'"),
    ("threshold-zero", {"services.api.health_check.unhealthy_threshold": 0},
     "services.api.health_check.unhealthy_threshold: expected a number >= 1, got '0'"),
    ("threshold-fraction", {"services.api.health_check.healthy_threshold": 1.5},
     "services.api.health_check.healthy_threshold: expected a whole number, got '1.5'"),
    ("min-healthy-over-replicas", {"services.api.min_healthy": 4},
     "services.api.min_healthy: min_healthy (4) is more than replicas (3)"),
    ("min-healthy-zero", {"services.api.min_healthy": 0}, "services.api.min_healthy: expected a number >= 1, got '0'"),
    ("standby-one-replica", {"services.db.replicas": 1},
     "services.db.replicas: mode: standby needs at least 2 replicas (one active, one standby)"),
    ("slo-100", {"slo": 100}, "slo: expected a percentage between 0 and 100 like 99.99, got 100"),
    ("slo-over", {"slo": 100.5}, "slo: expected a percentage between 0 and 100 like 99.99, got 100.5"),
    ("slo-zero", {"slo": 0}, "slo: expected a percentage between 0 and 100 like 99.99, got 0"),
    ("weight-negative", {"services.web.route": "weighted", "services.web.weights": [1, -1], "services.web.dns": DELETE},
     "services.web.weights.1: expected a positive number, got '-1'"),
    # unknown references
    ("unknown-entry", {"entry": "wbe"}, "entry: unknown service 'wbe'; did you mean 'web'?"),
    ("unknown-requires", {"services.api-dr.requires": ["dbs"]},
     "services.api-dr.requires.0: unknown service 'dbs'; did you mean 'db'?"),
    ("unknown-optional", {"services.api.optional": ["serch"]},
     "services.api.optional.0: unknown service 'serch'; did you mean 'search'?"),
    ("unknown-optional-no-match", {"services.api.optional": ["zzz"]}, "services.api.optional.0: unknown service 'zzz'"),
    ("unknown-cached", {"services.api.cached.service": "session"},
     "services.api.cached.0.service: unknown service 'session'; did you mean 'sessions'?"),
    ("unknown-target", {"services.web.targets": ["api", "apidr"]},
     "services.web.targets.1: unknown service 'apidr'; did you mean 'api-dr'?"),
    ("unknown-failover-requires", {"services.db.failover.requires": ["sentinels"]},
     "services.db.failover.requires.0: unknown service 'sentinels'; did you mean 'sentinel'?"),
    ("unknown-zone", {"services.api.zones": ["az-a", "az-c"]},
     "services.api.zones.1: unknown zone 'az-c'; did you mean 'az-b'?"),
    ("unknown-zone-within", {"zones.az-b.within": "regoin"},
     "zones.az-b.within: unknown zone 'regoin'; did you mean 'region'?"),
    ("depends-on-itself", {"services.api-dr.requires": ["api-dr"]},
     "services.api-dr.requires.0: a service cannot depend on itself ('api-dr')"),
    ("listed-twice", {"services.api-dr.requires": ["db", "db"]}, "services.api-dr.requires: listed more than once: db"),
    ("requires-and-optional", {"services.api.optional": ["db"]},
     "services.api.optional: db is listed in both requires and optional"),
    # cycles
    ("cycle-requires", {"services.sessions.requires": ["api"]},
     "services.api: dependency cycle: api -> sessions -> api"),
    ("cycle-through-optional-and-target", {"services.search.requires": ["web"]},
     "services.web: dependency cycle: web -> api -> search -> web"),
    ("cycle-through-failover-requires", {"services.sentinel.requires": ["db"]},
     "services.db: dependency cycle: db -> sentinel -> db"),
    ("zone-cycle", {"zones.region.within": "az-a"}, "zones.region.within: zone cycle: region -> az-a -> region"),
    ("zone-self-cycle", {"zones.region.within": "region"}, "zones.region.within: zone cycle: region -> region"),
    # missing or empty things
    ("missing-entry", {"entry": DELETE}, "entry: required key is missing"),
    ("missing-services", {"services": DELETE, "entry": DELETE},
     None),  # two lines, checked in test_two_missing_keys
    ("no-services", {"services": {}}, "services: a scenario needs at least one service"),
    ("zones-null", {"zones": None}, "zones: expected a mapping of keys to values, got 'None'"),
    ("requires-null", {"services.api-dr.requires": None}, "services.api-dr.requires: expected a list, got 'None'"),
    # names
    ("bad-service-name", {"services.a b": {"mtbf": "1h", "mttr": "1h"}},
     "services: 'a b' is not a valid name: use letters, digits, '-' and '_' (no dots or spaces)"),
    ("name-differs-from-key", {"services.search.name": "find"},
     "services.search.name: name 'find' differs from its key 'search'"),
    # router-only keys on a service, service-only keys on a router
    ("targets-on-service", {"services.api-dr.targets": ["api"]},
     "services.api-dr.targets: 'targets' only applies to a router (add route: failover or route: weighted)"),
    ("dns-on-service", {"services.api-dr.dns": {"ttl": "1m"}},
     "services.api-dr.dns: 'dns' only applies to a router (add route: failover or route: weighted)"),
    ("weights-on-service", {"services.api-dr.weights": [1]},
     "services.api-dr.weights: 'weights' only applies to a router (add route: failover or route: weighted)"),
    ("mode-on-router", {"services.web.mode": "standby"},
     "services.web.mode: 'mode' does not apply to a router (route: failover)"),
    ("min-healthy-on-router", {"services.web.min_healthy": 1},
     "services.web.min_healthy: 'min_healthy' does not apply to a router (route: failover)"),
    ("failover-on-router", {"services.web.failover": {"detection": "1s"}},
     "services.web.failover: 'failover' does not apply to a router (route: failover)"),
    ("shards-on-router", {"services.web.shards": 2},
     "services.web.shards: 'shards' does not apply to a router (route: failover)"),
    ("retry-on-router", {"services.web.retry": True},
     "services.web.retry: 'retry' does not apply to a router (route: failover)"),
    ("standby-on-router", {"services.web.standby": "cold"},
     "services.web.standby: 'standby' does not apply to a router (route: failover)"),
    ("router-without-targets", {"services.web.targets": DELETE}, "services.web.targets: a router needs at least one target"),
    ("weights-on-failover-router", {"services.web.weights": [1, 1]},
     "services.web.weights: 'weights' only applies to route: weighted"),
    ("weights-count", {"services.web.route": "weighted", "services.web.weights": [1, 2, 3]},
     "services.web.weights: expected one weight per target (2), got 3"),
    ("router-replicas-without-laws", {"services.web.replicas": 2},
     "services.web.failure: a router with replicas or zones needs 'failure' and 'repair' "
     "(its own instances, e.g. the DNS provider)"),
    ("stale-fraction-without-stale-for", {"services.web.dns.stale_for": DELETE},
     "services.web.dns.stale_for: stale_fraction > 0 needs 'stale_for' (how long those clients stay)"),
    # keys of another mode
    ("standby-on-active", {"services.api.standby": "cold"},
     "services.api.standby: 'standby' only applies to mode: standby (this service is mode: active)"),
    ("min-healthy-on-standby", {"services.db.min_healthy": 1},
     "services.db.min_healthy: 'min_healthy' only applies to mode: active (this service is mode: standby)"),
    ("warm-factor-on-hot", {"services.db.standby": "hot"},
     "services.db.warm_factor: 'warm_factor' only applies to standby: warm"),
    ("failover-on-active", {"services.api.failover": {"detection": "1s"}},
     "services.api.failover: 'failover' applies to mode: standby or quorum, not active"),
    ("success-on-quorum", {"services.sentinel.failover.success": 0.9},
     "services.sentinel.failover: failover.success applies to mode: standby only"),
    ("manual-on-quorum", {"services.sentinel.failover.manual": "1h"},
     "services.sentinel.failover: failover.manual applies to mode: standby only"),
    # load and capacity
    ("capacity-without-load", {"services.api-dr.capacity": 100},
     "services.api-dr.capacity: no load reaches api-dr: give the entry (or a caller of api-dr) a 'load' in "
     "requests/s, or remove 'capacity'"),
    ("load-without-capacity", {"services.api-dr.load": 500},
     "services.api-dr.load: nothing the load of api-dr reaches has a 'capacity' (requests/s per instance), so it "
     "changes nothing: give the pools that serve it a capacity"),
    ("utilisation-without-capacity", {"services.api-dr.load": "70%"},
     "services.api-dr.load: load: 70% is a share of this service's capacity: give 'capacity' (requests/s per "
     "instance) or a rate in requests/s"),
    ("min-healthy-and-capacity", {"services.api.capacity": 100, "services.api.load": 500},
     "services.api.min_healthy: give 'min_healthy' or 'capacity', not both: with a capacity the instances needed "
     "are the load over the capacity"),
    ("capacity-on-standby", {"services.db.capacity": 100, "services.db.load": 50},
     "services.db.capacity: 'capacity' applies to active pools (this service is mode: standby)"),
    ("capacity-on-router", {"services.web.capacity": 100},
     "services.web.capacity: 'capacity' does not apply to a router (route: failover)"),
    ("capacity-negative", {"services.api-dr.capacity": -1}, "services.api-dr.capacity: expected a positive number, got '-1'"),
    ("calls-to-a-non-dependency", {"services.api.calls": {"api-dr": 2}},
     "services.api.calls.api-dr: api-dr is not a dependency of this service (requires, optional or cached)"),
    ("calls-zero", {"services.api.calls": {"db": 0}}, "services.api.calls.db: expected a positive number, got '0'"),
    ("load-text", {"services.api-dr.load": "lots"},
     "services.api-dr.load: expected a rate in requests/s like 1200 or a utilisation like 70%, got 'lots'"),
    ("load-negative", {"services.api-dr.load": -5},
     "services.api-dr.load: expected a positive rate in requests/s like 1200, got -5"),
    ("load-zero-percent", {"services.api-dr.load": "0%"},
     "services.api-dr.load: expected a positive utilisation like 70%, got '0%'"),
    ("load-rate-and-utilisation", {"services.api-dr.load": {"rate": 5, "utilisation": 0.5}},
     "services.api-dr.load: give either 'rate' (requests/s) or 'utilisation' (a share of capacity like 70%), not "
     "both or neither"),
    ("overload-without-capacity", {"services.api-dr.overload": {"threshold": 1.0}},
     "services.api-dr.overload: 'overload' applies to a pool with a 'capacity' (requests/s per instance) that load "
     "reaches"),
    ("retries-without-overload", {**LOADED, "services.api-dr.retries": {"attempts": 3}},
     "services.api-dr.retries: retries only matter to a pool that can collapse: add 'overload' (without it the pool "
     "sheds the excess, and retried requests change nothing it serves)"),
    ("overload-recovery-above-threshold", {**LOADED, "services.api-dr.overload": {"threshold": 1.0, "recovery": 1.2}},
     "services.api-dr.overload.recovery: recovery (1.2) must be at most threshold (1): a pool that recovers above "
     "the load that collapses it would collapse again at once"),
    ("overload-threshold-negative", {**LOADED, "services.api-dr.overload": {"threshold": -1}},
     "services.api-dr.overload.threshold: expected a positive number, got '-1'"),
    ("overload-goodput-above-one", {**LOADED, "services.api-dr.overload": {"goodput": 1.5}},
     "services.api-dr.overload.goodput: expected a probability between 0 and 1, got '1.5'"),
    ("overload-grace-negative", {**LOADED, "services.api-dr.overload": {"grace": "-5m"}},
     "services.api-dr.overload.grace: expected a non-negative duration like '720h', got '-5m'"),
    ("retries-attempts-zero", {**LOADED, "services.api-dr.overload": {}, "services.api-dr.retries": {"attempts": 0}},
     "services.api-dr.retries.attempts: expected a number >= 1, got '0'"),
    ("retries-budget-negative", {**LOADED, "services.api-dr.overload": {}, "services.api-dr.retries": {"budget": "-10%"}},
     "services.api-dr.retries.budget: expected a share >= 0 like 10% or 0.1, got '-10%'"),
    ("load-daily-length", {"services.api-dr.capacity": 100, "services.api-dr.load": {"rate": 150, "daily": [1, 2]}},
     "services.api-dr.load: daily: expected 24 factors, one per hour of the day, got 2"),
    ("load-daily-negative", {"services.api-dr.capacity": 100,
                             "services.api-dr.load": {"rate": 150, "daily": [-1] + [1] * 23}},
     "services.api-dr.load: daily: expected factors >= 0, at least one of them > 0"),
    ("load-through-weighted-router", {"services.web.route": "weighted", "services.web.load": 100,
                                      "services.api-dr.capacity": 100},
     "services.web.route: load through route: weighted is not modelled (each target's share would depend on which "
     "targets are healthy); give the load to the targets instead, or use route: failover"),
]


@pytest.mark.parametrize(("changes", "line"), [c[1:] for c in CASES if c[2] is not None],
                         ids=[c[0] for c in CASES if c[2] is not None])
def test_one_problem(changes, line):
    assert error_lines(variant(changes)) == [f"bad.yaml: {line}"]


def test_case_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


def test_keys_that_are_not_text():
    assert error_lines("entry: api\nservices:\n  api: {mtbf: 1h, mttr: 1h}\n  1: {mtbf: 1h, mttr: 1h}\n") == [
        "bad.yaml: services.1: keys must be text, got '1'"]
    assert error_lines("entry: api\nzones:\n  2: {mtbf: 1y, mttr: 1h}\nservices:\n  api: {mtbf: 1h, mttr: 1h}\n") == [
        "bad.yaml: zones.2: keys must be text, got '2'"]


def test_two_missing_keys():
    assert error_lines(variant({"services": DELETE, "entry": DELETE})) == [
        "bad.yaml: entry: required key is missing",
        "bad.yaml: services: required key is missing",
    ]


def test_two_independent_problems_report_both_lines():
    lines = error_lines(variant({"horizon": "-1h", "services.api.replicas": 0, "services.api.reqires": []}))
    assert lines == [
        "bad.yaml: horizon: expected a positive duration like '720h', got '-1h'",
        "bad.yaml: services.api.replicas: expected a number >= 1, got '0'",
        "bad.yaml: services.api.reqires: unknown key 'reqires'; did you mean 'requires'?",
    ]


def test_two_independent_reference_problems_report_both_lines():
    lines = error_lines(variant({"services.api-dr.requires": ["x"], "services.api.optional": ["y"],
                                 "zones.az-a.within": "nowhere"}))
    assert lines == [
        "bad.yaml: zones.az-a.within: unknown zone 'nowhere'",
        "bad.yaml: services.api.optional.0: unknown service 'y'",
        "bad.yaml: services.api-dr.requires.0: unknown service 'x'",
    ]


def test_problems_in_two_services_and_two_zones():
    lines = error_lines(variant({"zones.az-a.mtbf": 0, "zones.az-b.mttr": "soon", "services.db.failover.success": 2,
                                 "services.search.repair": {"dist": "fixed"}}))
    assert lines == [
        "bad.yaml: zones.az-a.failure.mtbf: expected a positive duration like '720h', got '0' (a bare number is hours)",
        "bad.yaml: zones.az-b.repair.mttr: expected a positive duration like '720h', got 'soon'",
        "bad.yaml: services.db.failover.success: expected a probability between 0 and 1, got '2'",
        "bad.yaml: services.search.repair.value: required key is missing",
    ]


def test_delays_may_be_zero():
    sc = hasim.loads(variant({"services.db.failover.detection": 0, "services.db.failover.promotion": "0s",
                              "services.web.dns": {"ttl": "0s"}, "services.api.cached.ttl": 0,
                              "services.search.repair": {"dist": "uniform", "low": 0, "high": "1h"},
                              "services.sessions.repair": {"dist": "empirical", "samples": [0, "1h"]}}))
    assert sc.services["db"].failover.detection == 0.0
    assert sc.services["db"].failover.promotion == 0.0
    assert sc.services["web"].dns.ttl == 0.0
    assert sc.services["api"].cached[0].ttl == 0.0


def test_probabilities_at_the_bounds_are_accepted():
    sc = hasim.loads(variant({"services.db.failover.success": 0, "services.db.warm_factor": 1,
                              "services.web.dns.stale_fraction": 1}))
    assert sc.services["db"].failover.success == 0.0
    assert sc.services["db"].warm_factor == 1.0


def test_slo_with_a_percent_sign():
    assert hasim.loads(variant({"slo": "99.95%"})).slo == 99.95


def test_missing_name_defaults():
    assert hasim.loads(variant({"name": DELETE})).name == "scenario"
    assert hasim.loads(variant({"name": DELETE}), default_name="mine").name == "mine"


def test_error_without_source_has_no_file_prefix():
    with pytest.raises(ScenarioError) as info:
        hasim.loads(variant({"entry": "nope"}))
    assert str(info.value) == "entry: unknown service 'nope'"
    assert info.value.source is None
    assert info.value.with_source("x.yaml").lines() == ["x.yaml: entry: unknown service 'nope'"]


# --- text that is not a scenario at all ------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("", "the file is empty; a scenario needs at least 'entry' and 'services'"),
        ("   \n\n", "the file is empty; a scenario needs at least 'entry' and 'services'"),
        ("# just a comment\n  # and another\n", "the file is empty; a scenario needs at least 'entry' and 'services'"),
        ("---\n", "the file is empty; a scenario needs at least 'entry' and 'services'"),
        ("null\n", "the file is empty; a scenario needs at least 'entry' and 'services'"),
        ("- web\n- api\n", "expected a mapping of keys (name, services, entry, ...) at the top, got list"),
        ("just words\n", "expected a mapping of keys (name, services, entry, ...) at the top, got str"),
        ("1: x\nentry: api\n", "1: keys must be text"),
        ("name: x\nentry: api\nservices:\n  api: {mtbf: 1h\n  db: 2\n",
         "not valid YAML: line 5, column 5: expected ',' or '}', but got ':'"),
        ("name: x\n\tentry: api\n", "not valid YAML: line 2, column 1: found character '\\t' that cannot start any token"),
        ("name: x\nentry: api\nservices:\n  api:\n  - a\n   b: : :\n",
         "not valid YAML: line 6, column 5: mapping values are not allowed here"),
        ("a: &x 1\nb: *y\n", "not valid YAML: line 2, column 4: found undefined alias 'y'"),
        ("? [a]\n: 1\n", "not valid YAML: line 1, column 3: found unhashable key"),
        ("name: x\nentry: api\nservices:\n  api: {mtbf: 1h, mttr: 1h}\n  api: {mtbf: 2h, mttr: 1h}\n",
         "not valid YAML: line 5, column 3: duplicate key 'api'"),
        ("name: x\nentry: api\nentry: db\n", "not valid YAML: line 3, column 1: duplicate key 'entry'"),
    ],
    ids=["empty", "blank", "comments", "document-marker", "null", "list", "scalar", "number-key", "flow-mapping",
         "tab", "mapping-values", "undefined-alias", "unhashable-key", "duplicate-service", "duplicate-top-key"],
)
def test_not_a_scenario(text, line):
    assert error_lines(text) == [f"bad.yaml: {line}"]


def test_yaml_merge_keys_still_work():
    sc = hasim.loads(textwrap.dedent("""\
        entry: api
        services:
          api: &base {mtbf: 720h, mttr: 1h, replicas: 2}
          db:
            <<: *base
            mttr: 3h
        """))
    assert sc.services["db"].replicas == 2
    assert sc.services["db"].repair == Exponential(mean=3.0)


@pytest.mark.parametrize(
    ("tag", "shown"),
    [
        ("!!python/object/apply:os.system", "'!!python/object/apply:os.system'"),
        ("!!python/object/new:os.system", "'!!python/object/new:os.system'"),
        ("!!python/object/apply:subprocess.check_call", "'!!python/object/apply:subprocess.check_call'"),
    ],
)
def test_python_object_tags_are_rejected_and_nothing_runs(tmp_path, tag, shown):
    marker = tmp_path / "pwned"
    payload = f"{tag} [[touch, {marker}]]" if "subprocess" in tag else f"{tag} ['touch {marker}']"
    text = f"name: x\nentry: api\nservices:\n  api:\n    description: {payload}\n    mtbf: 1h\n    mttr: 1h\n"
    assert error_lines(text) == [
        f"bad.yaml: line 5: YAML tag {shown} is not allowed: hasim reads YAML safely and never constructs "
        "Python objects"
    ]
    path = tmp_path / "evil.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        hasim.load(path)
    assert str(info.value).startswith(f"{path}: line 5: YAML tag {shown} is not allowed")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("!!python/name:os.system\n", "line 1: YAML tag '!!python/name:os.system' is not allowed"),
        ("name: !!python/module:os\n", "line 1: YAML tag '!!python/module:os' is not allowed"),
        ("entry: !custom api\n", "line 1: YAML tag '!custom' is not allowed"),
    ],
)
def test_other_tags_are_rejected(text, line):
    (only,) = error_lines(text)
    assert only.startswith(f"bad.yaml: {line}")


# --- TOML --------------------------------------------------------------------------------------------

SMALL_YAML = """\
name: small
slo: 99.95
horizon: 2y
entry: api
zones:
  az-a: {mtbf: 1y, mttr: 4h}
services:
  api:
    replicas: 2
    zones: [az-a]
    failure: {dist: weibull, shape: 1.5, mean: 720h}
    repair: {mttr: 30m}
    requires: [db]
    cached: [{service: cache, ttl: 1m}]
  db:
    mode: standby
    replicas: 2
    mtbf: 2000h
    mttr: 2h
    failover: {detection: 30s, promotion: 1m}
  cache:
    failure: {mtbf: 500h}
    repair: {dist: empirical, samples: [5m, 10m, 1h]}
"""

SMALL_TOML = """\
name = "small"
slo = 99.95
horizon = "2y"
entry = "api"

[zones.az-a]
mtbf = "1y"
mttr = "4h"

[services.api]
replicas = 2
zones = ["az-a"]
failure = { dist = "weibull", shape = 1.5, mean = "720h" }
repair = { mttr = "30m" }
requires = ["db"]
cached = [{ service = "cache", ttl = "1m" }]

[services.db]
mode = "standby"
replicas = 2
mtbf = "2000h"
mttr = "2h"
failover = { detection = "30s", promotion = "1m" }

[services.cache.failure]
mtbf = "500h"

[services.cache.repair]
dist = "empirical"
samples = ["5m", "10m", "1h"]
"""


def test_toml_and_yaml_load_to_equal_scenarios():
    assert hasim.loads(SMALL_TOML, "toml") == hasim.loads(SMALL_YAML)


def test_toml_and_yaml_files_load_to_equal_scenarios(tmp_path):
    (tmp_path / "small.toml").write_text(SMALL_TOML)
    (tmp_path / "small.yml").write_text(SMALL_YAML)
    assert hasim.load(tmp_path / "small.toml") == hasim.load(str(tmp_path / "small.yml"))


def test_toml_problems_use_the_same_words():
    text = SMALL_TOML.replace('replicas = 2\nzones', 'replicas = 0\nreqires = []\nzones')
    assert error_lines(text, "toml", source="bad.toml") == [
        "bad.toml: services.api.replicas: expected a number >= 1, got '0'",
        "bad.toml: services.api.reqires: unknown key 'reqires'; did you mean 'requires'?",
    ]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('name = "x"\nentry =\n', "not valid TOML: Invalid value (at line 2, column 8)"),
        ('entry = "a"\nentry = "b"\n', "not valid TOML: Cannot overwrite a value (at line 2, column 12)"),
        ("[services\n", "not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 10)"),
    ],
)
def test_not_valid_toml(text, line):
    assert error_lines(text, "toml", source="bad.toml") == [f"bad.toml: {line}"]


# --- files --------------------------------------------------------------------------------------------

def file_error(path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        hasim.load(path)
    assert info.value.source == str(path)
    lines = str(info.value).splitlines()
    assert all(line.startswith(f"{path}: ") for line in lines)
    return [line[len(f"{path}: "):] for line in lines]


@pytest.mark.parametrize(
    ("name", "content", "line"),
    [
        ("empty.yaml", "", "the file is empty; a scenario needs at least 'entry' and 'services'"),
        ("comments.yml", "# nothing yet\n", "the file is empty; a scenario needs at least 'entry' and 'services'"),
        ("empty.toml", "", "the file is empty; a scenario needs at least 'entry' and 'services'"),
        ("broken.yaml", "name: x\nentry: [api\n", "not valid YAML: line 3, column 1: expected ',' or ']', but got '<stream end>'"),
        ("broken.toml", 'name = "x\n', "not valid TOML: Illegal character '\\n' (at line 1, column 10)"),
        ("typo.yaml", "entry: api\nservices:\n  api: {mtbf: 1h, mttr: 1h, replica: 2}\n",
         "services.api.replica: unknown key 'replica'; did you mean 'replicas'?"),
        ("scenario.json", "{}", "unknown file type '.json'; expected .yaml, .yml or .toml"),
        ("noext", "entry: api\n", "unknown file type '(none)'; expected .yaml, .yml or .toml"),
    ],
)
def test_file_problems(tmp_path, name, content, line):
    path = tmp_path / name
    path.write_text(content)
    assert file_error(path) == [line]


def test_missing_file(tmp_path):
    assert file_error(tmp_path / "nope.yaml") == ["no such file"]


def test_directory(tmp_path):
    d = tmp_path / "dir.yaml"
    d.mkdir()
    assert file_error(d) == ["is a directory, not a scenario file"]


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\u00e9\n".encode("latin-1"))
    assert file_error(path) == ["not a UTF-8 text file (invalid continuation byte at byte 9)"]


def test_file_name_is_the_default_name(tmp_path):
    path = tmp_path / "checkout.yaml"
    path.write_text(variant({"name": DELETE}))
    assert hasim.load(path).name == "checkout"
    path.write_text(VALID_YAML)
    assert hasim.load(path).name == "shop"


def test_file_and_text_give_the_same_lines(tmp_path):
    text = variant({"services.db.failover.success": 3, "zones.region.within": "region"})
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert [f"{path}: {line}" for line in file_error(path)] == [
        line.replace("bad.yaml", str(path), 1) for line in error_lines(text)
    ]


def test_upper_case_suffix(tmp_path):
    path = tmp_path / "SMALL.TOML"
    path.write_text(SMALL_TOML)
    assert hasim.load(path) == hasim.loads(SMALL_YAML)


# --- the Python API --------------------------------------------------------------------------------

def python_small() -> Scenario:
    return Scenario(
        name="small",
        slo=99.95,
        horizon="2y",
        entry="api",
        zones=[Zone(name="az-a", mtbf="1y", mttr="4h")],
        services=[
            Service(name="api", replicas=2, zones=["az-a"], failure=Weibull(shape=1.5, mean="720h"),
                    repair=Exponential(mean="30m"), requires=["db"], cached=[Cached(service="cache", ttl="1m")]),
            Service(name="db", mode="standby", replicas=2, failure=Exponential(mean=2000),
                    repair={"mttr": "2h"}, failover=Failover(detection="30s", promotion="1m")),
            Service(name="cache", mtbf="500h", repair=Empirical(samples=["5m", "10m", "1h"])),
        ],
    )


def test_python_api_equals_the_yaml_version():
    assert python_small() == hasim.loads(SMALL_YAML)


def test_python_api_with_mappings_fills_in_names():
    sc = Scenario(
        name="small", slo=99.95, horizon=2 * 8760, entry="api",
        zones={"az-a": Zone(failure={"mtbf": "1y"}, repair={"mttr": "4h"})},
        services={
            "api": Service(replicas=2, zones=["az-a"], failure={"dist": "weibull", "shape": 1.5, "mean": "720h"},
                           repair={"mttr": 0.5}, requires=["db"], cached={"service": "cache", "ttl": "1m"}),
            "db": {"mode": "standby", "replicas": 2, "mtbf": "2000h", "mttr": "2h",
                   "failover": {"detection": "30s", "promotion": "1m"}},
            "cache": Service(mtbf="500h", repair=Empirical(samples=[5 / 60, 10 / 60, 1])),
        },
    )
    assert sc.services["api"].name == "api" and sc.zones["az-a"].name == "az-a"
    assert sc == hasim.loads(SMALL_YAML)


def test_python_api_reference_problems_are_scenario_errors():
    with pytest.raises(ScenarioError) as info:
        Scenario(name="x", entry="api", services=[Service(name="api", mtbf="1y", mttr="1h", requires=["db"])])
    assert str(info.value) == "services.api.requires.0: unknown service 'db'"


def test_python_api_rejects_bad_values():
    # Constructors raise ScenarioError (issue 17), no longer pydantic's ValidationError.
    with pytest.raises(ScenarioError) as info:
        Service(name="api", failure=Exponential(mean=-1), repair=Exponential(mean=1))
    assert str(info.value) == "mean: expected a positive duration like '720h', got '-1' (a bare number is hours)"
    with pytest.raises(ScenarioError) as info:
        Service(name="api", mtbf=1, mttr=1, reqires=["db"])
    assert str(info.value) == "reqires: unknown key 'reqires'; did you mean 'requires'?"


def test_list_items_need_unique_names():
    with pytest.raises(ScenarioError, match="every item of a list needs a 'name'"):
        Scenario(name="x", entry="api", services=[Service(mtbf=1, mttr=1)])
    assert error_lines("entry: api\nservices:\n  - {name: api, mtbf: 1h, mttr: 1h}\n"
                       "  - {name: api, mtbf: 2h, mttr: 1h}\n") == ["bad.yaml: services: duplicate name 'api'"]


@pytest.mark.parametrize(
    ("obj", "field", "value"),
    [
        (lambda: python_small(), "horizon", 1.0),
        (lambda: python_small(), "entry", "db"),
        (lambda: python_small().services["api"], "replicas", 5),
        (lambda: python_small().zones["az-a"], "within", "x"),
        (lambda: python_small().services["db"].failover, "detection", 1.0),
        (lambda: python_small().services["api"].cached[0], "ttl", 1.0),
        (lambda: HealthCheck(interval="5s"), "interval", 1.0),
        (lambda: Dns(ttl="1m"), "ttl", 1.0),
        (lambda: python_small().services["api"].failure, "shape", 2.0),
    ],
    ids=["scenario", "scenario-entry", "service", "zone", "failover", "cached", "health-check", "dns", "distribution"],
)
def test_models_are_frozen(obj, field, value):
    target = obj()
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        setattr(target, field, value)


def test_variants_come_from_model_copy():
    sc = python_small()
    api = sc.services["api"].model_copy(update={"replicas": 3})
    bigger = sc.model_copy(update={"services": {**sc.services, "api": api}})
    assert bigger.services["api"].replicas == 3
    assert sc.services["api"].replicas == 2


# --- dump / loads round trips -----------------------------------------------------------------------

def test_dump_then_loads_gives_an_equal_scenario():
    for sc in (hasim.loads(VALID_YAML), python_small()):
        text = hasim.dump(sc)
        assert hasim.loads(text) == sc
        assert hasim.dump(hasim.loads(text)) == text


def test_dump_is_plain_safe_yaml():
    text = hasim.dump(hasim.loads(VALID_YAML))
    assert "!!" not in text
    data = yaml.safe_load(text)
    assert "name" not in data["services"]["api"]
    assert data["services"]["api"]["failure"] == {"dist": "exponential", "mean": 720.0}


NAMES = ["a", "b", "c", "d"]
durations = st.one_of(
    st.floats(min_value=0.01, max_value=1e5, allow_nan=False),
    st.sampled_from(["30s", "5m", "4h", "2d", "1w", "1y", "1h30m", "250ms"]),
)
delays = st.one_of(st.just(0), durations)
laws = st.one_of(
    st.builds(lambda m: {"mtbf": m}, durations),
    st.builds(lambda m: {"dist": "exponential", "mean": m}, durations),
    st.builds(lambda k, s: {"dist": "weibull", "shape": k, "scale": s}, st.floats(0.3, 5), durations),
    st.builds(lambda k, m: {"dist": "weibull", "shape": k, "mean": m}, st.floats(0.3, 5), durations),
    st.builds(lambda s, m: {"dist": "lognormal", "sigma": s, "median": m}, st.floats(0.1, 3), durations),
    st.builds(lambda s, m: {"dist": "lognormal", "sigma": s, "mean": m}, st.floats(0.1, 3), durations),
    st.builds(lambda v: {"dist": "fixed", "value": v}, durations),
    st.builds(lambda lo, w: {"dist": "uniform", "low": lo, "high": lo + w}, st.floats(0, 100), st.floats(0.1, 100)),
    st.builds(lambda xs: {"dist": "empirical", "samples": xs}, st.lists(st.floats(0.01, 100), min_size=1, max_size=5)),
)


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, len(NAMES)))
    names = NAMES[:n]
    zones = {}
    for i in range(draw(st.integers(0, 3))):
        zone = {"failure": draw(laws), "repair": draw(laws)}
        if i and draw(st.booleans()):
            zone["within"] = f"z{draw(st.integers(0, i - 1))}"
        zones[f"z{i}"] = zone
    services = {}
    for i, name in enumerate(names):
        later = names[i + 1:]  # dependencies only point forward: no cycles
        svc = {"failure": draw(laws), "repair": draw(laws)}
        mode = draw(st.sampled_from(["active", "standby", "quorum"]))
        replicas = draw(st.integers(2 if mode == "standby" else 1, 5))
        svc["replicas"] = replicas
        if mode != "active":
            svc["mode"] = mode
            if draw(st.booleans()):
                svc["failover"] = {"detection": draw(delays), "promotion": draw(delays)}
                if mode == "standby" and draw(st.booleans()):
                    svc["failover"]["success"] = draw(st.floats(0, 1))
                    svc["failover"]["manual"] = draw(durations)
        else:
            svc["min_healthy"] = draw(st.integers(1, replicas))
        if zones:
            svc["zones"] = draw(st.lists(st.sampled_from(sorted(zones)), max_size=3))
        if later:
            deps = draw(st.lists(st.sampled_from(later), unique=True, max_size=len(later)))
            cut = draw(st.integers(0, len(deps)))
            svc["requires"], svc["optional"] = deps[:cut], deps[cut:]
            if draw(st.booleans()):
                svc["cached"] = [{"service": draw(st.sampled_from(later)), "ttl": draw(delays)}]
        if mode == "active" and draw(st.booleans()):
            svc["health_check"] = {"interval": draw(durations), "unhealthy_threshold": draw(st.integers(1, 5))}
            svc["retry"] = draw(st.booleans())
        svc["shards"] = draw(st.integers(1, 3))
        services[name] = svc
    entry = names[0]
    if draw(st.booleans()):
        route = draw(st.sampled_from(["failover", "weighted"]))
        targets = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        router = {"route": route, "targets": targets,
                  "dns": {"ttl": draw(delays)}}
        if route == "weighted":
            router["weights"] = draw(st.lists(st.floats(0.1, 10), min_size=len(targets), max_size=len(targets)))
        services = {"edge": router, **services}
        entry = "edge"
    horizon = draw(durations)
    out = {"name": "generated", "entry": entry, "slo": draw(st.sampled_from([99.0, 99.9, 99.99])),
           "horizon": horizon, "seed": draw(st.integers(0, 2**32)), "zones": zones, "services": services}
    if parse_duration(horizon) < HOURS_PER_MONTH:  # a window longer than the horizon is an error (issue 17)
        out["window"] = horizon
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HypothesisHealthCheck.too_slow])
@given(scenarios())
def test_generated_scenarios_round_trip_through_dump(data):
    sc = Scenario.model_validate(data)
    assert hasim.loads(yaml.safe_dump(data)) == sc
    assert hasim.loads(hasim.dump(sc)) == sc
    assert Scenario.model_validate(sc.model_dump(exclude_defaults=True)) == sc


def test_health_check_only_on_active_pools_and_routers():
    lines = error_lines("entry: db\nservices:\n  db: {mtbf: 5h, mttr: 1h, mode: standby, replicas: 2, "
                        "health_check: {interval: 10s}}\n")
    assert lines == ["bad.yaml: services.db.health_check: 'health_check' applies to active pools and routers; "
                     "a standby service detects failures with failover.detection"]


# --- issue 17: defects a new user found, one test each -----------------------------------------------

def test_slo_given_as_a_fraction_is_rejected_in_files_and_python():
    assert error_lines(variant({"slo": 0.9999})) == [
        "bad.yaml: slo: expected a percentage like 99.99, got 0.9999 (a fraction? write 99.99)"]
    with pytest.raises(ScenarioError) as info:
        Scenario(name="x", entry="api", slo=0.999, services={"api": Service(mtbf=1, mttr=1)})
    assert str(info.value) == "slo: expected a percentage like 99.99, got 0.999 (a fraction? write 99.9)"
    with pytest.raises(ScenarioError) as info:
        hasim.loads(VALID_YAML).replace({"slo": 0.99})
    assert str(info.value) == "slo: expected a percentage like 99.99, got 0.99 (a fraction? write 99)"


@pytest.mark.parametrize(("value", "message"), [
    (0.9999, "expected a percentage like 99.99, got 0.9999 (a fraction? write 99.99)"),
    ("0.95", "expected a percentage like 99.99, got 0.95 (a fraction? write 95)"),
    (42, "expected a percentage of at least 50 like 99.99, got 42"),
    (1, "expected a percentage of at least 50 like 99.99, got 1"),
    (100, "expected a percentage between 0 and 100 like 99.99, got 100"),
    ("high", "expected a percentage between 0 and 100 like 99.99, got 'high'"),
    (True, "expected a percentage between 0 and 100 like 99.99, got True"),
])
def test_parse_slo_is_the_one_check_for_every_slo(value, message):
    with pytest.raises(ValueError) as info:
        hasim.model.scenario.parse_slo(value)
    assert str(info.value) == message


def test_parse_slo_accepts_percentages():
    assert [hasim.model.scenario.parse_slo(v) for v in (None, 50, 99.99, "99.95%", " 99.9 % ")] == [None, 50.0, 99.99,
                                                                                          99.95, 99.9]


def test_duration_errors_say_that_bare_numbers_are_hours():
    (line,) = error_lines(variant({"services.sessions.repair": {"mttr": -90}}))
    assert line.endswith("got '-90' (a bare number is hours)")
    (line,) = error_lines(variant({"horizon": "2020-01-01"}))
    assert line.endswith("got '2020-01-01' (a bare number is hours)")
    (line,) = error_lines(variant({"services.db.failover.detection": "-30s"}))  # a unit was given: no note
    assert line.endswith("got '-30s'")


def test_window_longer_than_the_horizon_is_an_error():
    assert error_lines(variant({"horizon": "100h", "window": "1mo"})) == [
        "bad.yaml: window: 730h is longer than the horizon (100h): no whole window fits in one history, so window "
        "breaches cannot be counted; give a window of at most 100h or a longer horizon"]
    assert error_lines(variant({"horizon": "2w", "window": DELETE})) == [
        "bad.yaml: window: the default window (a month, 730h) is longer than the horizon (336h): no whole window "
        "fits in one history, so window breaches cannot be counted; give a window of at most 336h or a longer "
        "horizon"]
    assert hasim.loads(variant({"horizon": "1mo", "window": "1mo"})).window == pytest.approx(730.0)


def test_window_check_also_guards_python_and_replace():
    with pytest.raises(ScenarioError, match=r"^window: the default window \(a month, 730h\) is longer than the "
                                            r"horizon \(1h\)"):
        Scenario(name="x", entry="api", horizon="1h", services={"api": Service(mtbf=1, mttr=1)})
    sc = hasim.loads(VALID_YAML)
    with pytest.raises(ScenarioError, match=r"^window: 730h is longer than the horizon \(100h\)"):
        sc.replace(horizon="100h")
    assert sc.replace(horizon="100h", window="50h").window == 50.0


ALL_AT_ONCE = """\
entry: api
zones:
  a: {mtbf: 1y, mttr: 4h, within: b}
  b: {mtbf: 1y, mttr: 4h, within: a}
services:
  api: {mtbf: 720h, mttr: 1h, replica: 2, zones: [a], requires: [dbb]}
  db: {mtbf: 720h, mttr: 1h}
"""


def test_a_typo_an_unknown_reference_and_a_zone_cycle_are_reported_at_once_each_once():
    assert error_lines(ALL_AT_ONCE) == [
        "bad.yaml: services.api.replica: unknown key 'replica'; did you mean 'replicas'?",
        "bad.yaml: services.api.requires.0: unknown service 'dbb'; did you mean 'db'?",
        "bad.yaml: zones.a.within: zone cycle: a -> b -> a",
    ]


def test_reference_checks_run_beside_field_errors_of_every_kind():
    lines = error_lines(variant({"horizon": "-1h", "services.db.failover.success": 2, "entry": "wbe",
                                 "services.api.optional": ["serch"], "services.sessions.requires": ["api"],
                                 "services.bad name": {"mtbf": "1h", "mttr": "1h"}}))
    assert lines == [
        "bad.yaml: horizon: expected a positive duration like '720h', got '-1h'",
        "bad.yaml: services.db.failover.success: expected a probability between 0 and 1, got '2'",
        "bad.yaml: services: 'bad name' is not a valid name: use letters, digits, '-' and '_' (no dots or spaces)",
        "bad.yaml: entry: unknown service 'wbe'; did you mean 'web'?",
        "bad.yaml: services.api.optional.0: unknown service 'serch'; did you mean 'search'?",
        "bad.yaml: services.api: dependency cycle: api -> sessions -> api",
    ]


def test_parts_of_the_wrong_type_are_not_reported_twice():
    # A reference that failed its own type check is not checked again as a reference.
    assert error_lines(variant({"services.api-dr.requires": [1], "services.api.zones": "az-a", "zones": None})) == [
        "bad.yaml: zones: expected a mapping of keys to values, got 'None'",
        "bad.yaml: services.api.zones: expected a list, got 'az-a'",
        "bad.yaml: services.api-dr.requires.0: expected text, got '1'",
    ]


def test_a_misspelt_required_key_is_one_problem():
    assert error_lines(variant({"services.api.health_check": {"intervl": "5s"}, "zones.region.mttr": DELETE,
                                "zones.region.mtr": "12h"})) == [
        "bad.yaml: zones.region.mtr: unknown key 'mtr'; did you mean 'mttr'?",
        "bad.yaml: services.api.health_check.intervl: unknown key 'intervl'; did you mean 'interval'?",
    ]


@pytest.mark.parametrize(("make", "line"), [
    (lambda: Service(replica=3, mtbf=1, mttr=1), "replica: unknown key 'replica'; did you mean 'replicas'?"),
    (lambda: Zone(mtbf=1, mtr=1), "mtr: unknown key 'mtr'; did you mean 'mttr'?"),
    (lambda: Failover(detecton="1s"), "detecton: unknown key 'detecton'; did you mean 'detection'?"),
    (lambda: HealthCheck(intervl="1s"), "intervl: unknown key 'intervl'; did you mean 'interval'?"),
    (lambda: Dns(tll="1s"), "tll: unknown key 'tll'; did you mean 'ttl'?"),
    (lambda: Cached(servce="db", ttl=1), "servce: unknown key 'servce'; did you mean 'service'?"),
    (lambda: Exponential(meen=1), "meen: unknown key 'meen'; did you mean 'mean'?"),
    (lambda: Weibull(shape=1, scael=2), "scael: unknown key 'scael'; did you mean 'scale'?"),
    (lambda: LogNormal(sigma=1, medain=1), "medain: unknown key 'medain'; did you mean 'median'?"),
    (lambda: Fixed(valu=1), "valu: unknown key 'valu'; did you mean 'value'?"),
    (lambda: Uniform(low=0, hgh=1), "hgh: unknown key 'hgh'; did you mean 'high'?"),
    (lambda: Empirical(sample=[1]), "sample: unknown key 'sample'; did you mean 'samples'?"),
    (lambda: Scenario(name="x", entry="api", servces={}), "servces: unknown key 'servces'; did you mean 'services'?"),
    (lambda: Service(mtbf=1, mttr=1, failover={"detecton": 1}),
     "failover.detecton: unknown key 'detecton'; did you mean 'detection'?"),
    (lambda: Scenario(name="x", entry="api", services={"api": {"mtbf": 1, "mttr": 1, "replica": 2}}),
     "services.api.replica: unknown key 'replica'; did you mean 'replicas'?"),
], ids=["service", "zone", "failover", "health-check", "dns", "cached", "exponential", "weibull", "lognormal",
        "fixed", "uniform", "empirical", "scenario", "nested-in-service", "nested-in-scenario"])
def test_python_constructors_speak_like_files(make, line):
    with pytest.raises(ScenarioError) as info:
        make()
    assert str(info.value) == line
    assert info.value.source is None


def test_a_nested_python_object_keeps_its_path_in_a_scenario():
    # A dict inside a Scenario is validated by pydantic-core, not by the part's constructor,
    # so its problems keep the full key path and are collected with the others.
    with pytest.raises(ScenarioError) as info:
        Scenario(name="x", entry="api", services={"api": {"mtbf": 1, "mttr": -1, "requires": ["db"]}})
    assert info.value.lines() == [
        "services.api.repair.mttr: expected a positive duration like '720h', got '-1' (a bare number is hours)",
        "services.api.requires.0: unknown service 'db'",
    ]


# Scenario.replace at a law's mean, whichever way the file wrote the law (issue 17).
SPELLINGS = {
    "nested-shorthand": "failure: {mtbf: 720h}\n    repair: {mttr: 10h}",
    "top-shorthand": "mtbf: 720h\n    mttr: 10h",
    "full": "failure: {dist: exponential, mean: 720h}\n    repair: {dist: exponential, mean: 10h}",
}
ZONE_SPELLINGS = {
    "nested-shorthand": "{failure: {mtbf: 1y}, repair: {mttr: 4h}}",
    "top-shorthand": "{mtbf: 1y, mttr: 4h}",
    "full": "{failure: {dist: exponential, mean: 1y}, repair: {dist: exponential, mean: 4h}}",
}


def _spelled(spelling: str) -> Scenario:
    return hasim.loads(f"entry: api\nzones:\n  az: {ZONE_SPELLINGS[spelling]}\nservices:\n  api:\n"
                       f"    zones: [az]\n    {SPELLINGS[spelling]}\n")


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
@pytest.mark.parametrize("path", [
    "services.api.repair.mttr", "services.api.repair.mean", "services.api.mttr",
    "services.api.failure.mtbf", "services.api.failure.mean", "services.api.mtbf",
    "zones.az.repair.mttr", "zones.az.repair.mean", "zones.az.mttr",
    "zones.az.failure.mtbf", "zones.az.failure.mean", "zones.az.mtbf",
])
def test_replace_sets_a_mean_whichever_spelling_the_file_used(spelling, path):
    before = _spelled(spelling)
    after = before.replace({path: "5h"})
    law = "repair" if "mttr" in path or ".repair." in path else "failure"
    other = "failure" if law == "repair" else "repair"
    table, name = path.split(".")[:2]
    part, original = getattr(after, table)[name], getattr(before, table)[name]
    assert getattr(part, law) == Exponential(mean=5.0)
    assert getattr(part, other) == getattr(original, other)
    assert after.replace({}) == after


def test_replace_sets_the_mean_of_other_laws_and_keeps_their_shape():
    sc = hasim.loads(VALID_YAML)
    db = sc.replace({"services.db.mtbf": "1000h", "services.db.repair.mttr": "3h"}).services["db"]
    assert db.failure == Weibull(shape=1.2, mean=1000.0)
    assert db.repair == LogNormal(sigma=0.8, mean=3.0)
    assert sc.replace({"services.db.failure.scale": "900h"}).services["db"].failure == Weibull(shape=1.2, scale=900.0)
    assert sc.replace({"services.sessions.mttr": "20m"}).services["sessions"].repair == Fixed(value=1 / 3)
    with pytest.raises(ScenarioError) as info:
        sc.replace({"services.search.repair.mttr": "1h"})
    assert str(info.value) == ("services.search.repair.mttr: a uniform law has no single mean to set; set its own "
                               "parameters (low and high) or replace the law")


def test_sweep_set_at_the_key_the_file_uses(tmp_path, capsys):
    from hasim.cli.main import EXIT_OK, main

    path = tmp_path / "mttr.yaml"
    path.write_text("entry: api\nhorizon: 2000h\nservices:\n  api: {failure: {mtbf: 720h}, repair: {mttr: 10h}}\n")
    code = main(["sweep", str(path), "--set", "services.api.repair.mttr=5h,10h", "--engine", "simpy",
                 "--replicas", "5", "--quiet", "--json"])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    rows = json.loads(out)["rows"]
    assert [row["services.api.repair.mttr"] for row in rows] == ["5h", "10h"]
