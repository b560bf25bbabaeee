"""The numba engine against the SimPy reference engine (issue 5).

(a) Every scenario in ``scenarios/`` runs on both engines at each seed of
    :data:`SEEDS`; every reported measure must agree in a two-sided z-test,
    ``|mean_numba - mean_simpy| < 4 * se`` with the combined standard error
    ``se = s_pooled * sqrt(1/n_numba + 1/n_simpy)`` (under the null both
    engines draw replicas from one distribution, so the variance is pooled:
    a reference sample of 40 replicas in which a rare event shows up twice
    would grossly underestimate its own variance), after a continuity
    correction of half the range of the values over the reference's replica
    count (what one replica can change: a fraction of an SE on ordinary
    measures, and it keeps one rare event from deciding the test):
    request / time availability, degraded and down fractions, outages per
    year, longest outage, downtime per year, P(window breach), the request
    availability of every service, and the downtime charged to every root
    cause and to every stage (the ``loss[R, cause, stage]`` array of
    :mod:`hasim.sim.kernel._output`).  Both engines run the
    same horizon (so the start-up transient is the same), the reference with
    fewer replicas.
(b) Random small scenarios from a hypothesis strategy (all constructs, every
    law, short horizons): the same z-test on the same measures.
(c) Deterministic scenarios (``dist: fixed`` laws only, no health checks --
    their probe phase is random -- but DNS ramps and caches) where both
    engines see the same durations: outage logs and every measure, loss by
    cause and stage included, equal to ``rtol=1e-12``.

False alarms.  Per comparison, under a normal null, P(|z| > 4) = 6.3e-5 (the
pooled variance comes from 2000 + 40 replicas, so Student's correction is
negligible; the skew of rare-event measures in a 40-replica mean is not, and
makes the real rate somewhat higher).  Counted with the kernel as it is at
the time of writing (causes and stages not compared yet) for the 16 files of
``scenarios/`` with their 43 services: (a) 2 seeds x (16 x 8 measures + 43
services) = 342 comparisons; (b) 15 examples x at most (8 + 4 services) =
180, and as many again for the delay variant.  By the union bound a correct
pair of engines fails this module with probability below (342 + 360) x
6.3e-5 = 4.4 % at a fresh set of seeds.  The seeds and hypothesis examples
are fixed (``derandomize``), so the outcome is reproducible: a failure means
look at the printed measure before suspecting chance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hasim
from hasim import Scenario
from hasim.sim.kernel._output import STAGES
from hasim.sim.engine import simulate
from hasim.sim.reference.engine import simulate_reference

from .conftest import SCENARIO_FILES

SIGMAS = 4.0
SEEDS = (1, 2)
MINUTES_PER_YEAR = 525600.0


def measures(out, horizon: float, n_windows: int, services: list[str]) -> dict[str, np.ndarray]:
    """Per-replica values of every reported measure, by name."""
    years = horizon / 8760.0
    m = {
        "request_availability": out.ra,
        "time_availability": out.ta,
        "degraded_fraction": out.degraded,
        "down_fraction": out.down,
        "outages_per_year": out.outages / years,
        "longest_outage_minutes": out.longest * 60.0,
        "downtime_minutes_per_year": (1.0 - out.ra) * MINUTES_PER_YEAR,
        "p_window_breach": out.breaches / n_windows,
    }
    for v, name in enumerate(services):
        m[f"service {name}"] = out.svc_ra[:, v]
    if out.loss.ndim == 3:  # the attribution contract of hasim.sim.kernel._output
        per_year = out.loss * (60.0 / years)
        for c in range(per_year.shape[1]):
            m[f"cause {c}"] = per_year[:, c, :].sum(axis=1)
        for g, stage in enumerate(STAGES):
            m[f"stage {stage}"] = per_year[:, :, g].sum(axis=1)
    return m


def z_scores(a: dict, b: dict) -> dict[str, tuple[float, float, float]]:
    """name -> (z, mean a, mean b) over the measures both engines report."""
    out = {}
    for name in a:
        if name not in b:
            continue
        x, y = np.asarray(a[name], float), np.asarray(b[name], float)
        mx, my = x.mean(), y.mean()
        # Under the null both engines draw replicas from one distribution: pool the variance
        # (a rare event seen in 2 of 40 reference replicas would make that sample's own variance
        # a gross underestimate).
        pooled = ((x.size - 1) * x.var(ddof=1) + (y.size - 1) * y.var(ddof=1)) / (x.size + y.size - 2)
        se = math.sqrt(pooled * (1.0 / x.size + 1.0 / y.size))
        # Continuity correction: half of what one replica can move the smaller sample's mean.
        both = np.concatenate([x, y])
        half_unit = 0.5 * (both.max() - both.min()) / min(x.size, y.size)
        gap = max(0.0, abs(mx - my) - half_unit)
        if gap <= 1e-12 * max(1.0, abs(mx), abs(my)):
            z = 0.0
        else:
            z = math.copysign(gap / se if se > 0 else math.inf, mx - my)
        out[name] = (z, mx, my)
    return out


def compare(sc: Scenario, *, horizon: float, seed: int, numba_replicas: int, simpy_replicas: int) -> None:
    res = simulate(sc, replicas=numba_replicas, horizon=horizon, seed=seed)
    ref, info = simulate_reference(sc, replicas=simpy_replicas, horizon=horizon, seed=seed)
    services = sc.topological_order()
    assert res.n_windows == info["n_windows"]
    a = measures(res.out, horizon, res.n_windows, services)
    b = measures(ref, horizon, info["n_windows"], services)
    zs = z_scores(a, b)
    bad = {k: v for k, v in zs.items() if not abs(v[0]) < SIGMAS}
    assert not bad, "engines disagree (z, numba, simpy): " + "; ".join(
        f"{k}: z={z:+.1f} {x:.6g} vs {y:.6g}" for k, (z, x, y) in bad.items())


# --- (a) every shipped scenario ------------------------------------------------------------------

# horizon (hours) per scenario: long enough for events, short enough for the reference (~2 s a run).
HORIZON = {
    "cached.yaml": 20 * 8760, "composite-sla.toml": 50 * 8760, "dns-failover.yaml": 20 * 8760,
    "ebeling.yaml": 4380, "ha-rest-api.yaml": 5 * 8760, "health-check.yaml": 5 * 8760,
    "k-of-n.yaml": 40 * 8760, "quorum.yaml": 80 * 8760, "standby.yaml": 1.5 * 8760, "zones.yaml": 40 * 8760,
    # A daily profile ticks every hour: 8760 events a year, which the reference pays in Python.
    "retry-storm.yaml": 1.5 * 8760, "retry-budget.yaml": 1.5 * 8760,
    # An open breaker half-opens every 30 s while its dependency fails: ~240 events per failure.
    "circuit-breaker.yaml": 2 * 8760,
}


def _scenario_params():
    for path in SCENARIO_FILES:
        for seed in SEEDS:
            yield pytest.param(path.name, seed, id=f"{path.name}-seed{seed}")


@pytest.mark.parametrize("name, seed", list(_scenario_params()))
def test_shipped_scenarios_agree(name, seed):
    path = next(p for p in SCENARIO_FILES if p.name == name)
    sc = hasim.load(path)
    compare(sc, horizon=HORIZON.get(name, 10 * 8760), seed=seed, numba_replicas=2000, simpy_replicas=40)


# --- (b) random scenarios -------------------------------------------------------------------------

MEANS_UP = [60.0, 100.0, 150.0, 240.0, 400.0]
MEANS_DOWN = [0.5, 2.0, 5.0, 10.0, 25.0]


@st.composite
def law(draw, means):
    kind = draw(st.sampled_from(["exponential", "weibull", "lognormal", "uniform", "fixed", "empirical"]))
    mean = draw(st.sampled_from(means))
    if kind == "exponential":
        return {"dist": "exponential", "mean": mean}
    if kind == "weibull":
        return {"dist": "weibull", "shape": draw(st.sampled_from([0.7, 1.5, 3.0])), "mean": mean}
    if kind == "lognormal":
        return {"dist": "lognormal", "sigma": draw(st.sampled_from([0.3, 1.0])), "mean": mean}
    if kind == "uniform":
        low = mean * draw(st.sampled_from([0.0, 0.5, 0.9]))
        return {"dist": "uniform", "low": low, "high": 2 * mean - low}
    if kind == "fixed":
        return {"dist": "fixed", "value": mean}
    return {"dist": "empirical", "samples": [mean * f for f in draw(st.lists(
        st.sampled_from([0.1, 0.5, 1.0, 2.0, 3.0]), min_size=1, max_size=4))]}


def _subset(draw, items, max_size=None):
    if not items:
        return []
    return draw(st.lists(st.sampled_from(items), unique=True, max_size=max_size or len(items)))


@st.composite
def scenarios(draw, delays: bool = False):
    """A small valid scenario: 1-4 services (the last one is the entry), zones, every construct."""
    zones: dict = {}
    for z in range(draw(st.integers(0, 3))):
        zone = {"failure": draw(law([300.0, 800.0, 2000.0])), "repair": draw(law([2.0, 8.0, 20.0]))}
        if zones and draw(st.booleans()):
            zone["within"] = draw(st.sampled_from(sorted(zones)))
        zones[f"z{z}"] = zone
    services: dict = {}
    n = draw(st.integers(1, 4))
    for i in range(n):
        earlier = [f"s{j}" for j in range(i)]
        if earlier and draw(st.integers(0, 3)) == 0:
            svc: dict = {"route": draw(st.sampled_from(["failover", "weighted"])),
                         "targets": draw(st.lists(st.sampled_from(earlier), min_size=1, unique=True))}
            if svc["route"] == "weighted" and draw(st.booleans()):
                svc["weights"] = [draw(st.sampled_from([1.0, 2.0, 5.0])) for _ in svc["targets"]]
            if draw(st.booleans()):          # the router's own instances (the DNS provider)
                svc.update(failure=draw(law(MEANS_UP)), repair=draw(law(MEANS_DOWN)),
                           replicas=draw(st.integers(1, 2)))
                if zones and draw(st.booleans()):
                    svc["zones"] = _subset(draw, sorted(zones), 2) or [sorted(zones)[0]]
            if delays and draw(st.booleans()):
                svc["health_check"] = {"interval": draw(st.sampled_from([0.05, 0.2])),
                                       "unhealthy_threshold": draw(st.integers(1, 3)),
                                       "healthy_threshold": draw(st.integers(1, 3))}
            if delays and draw(st.booleans()):
                svc["dns"] = {"ttl": draw(st.sampled_from([0.0, 0.1, 0.5]))}
                if draw(st.booleans()):
                    svc["dns"].update(stale_fraction=0.1, stale_for=1.0)
        else:
            mode = draw(st.sampled_from(["active", "standby", "quorum"]))
            replicas = draw(st.integers(2 if mode == "standby" else 1, 4))
            svc = {"mode": mode, "replicas": replicas, "failure": draw(law(MEANS_UP)),
                   "repair": draw(law(MEANS_DOWN)), "shards": draw(st.integers(1, 2))}
            if zones and draw(st.booleans()):
                svc["zones"] = _subset(draw, sorted(zones)) or [sorted(zones)[-1]]
            if mode == "active":
                if draw(st.integers(0, 2)) == 0:  # instances needed from the load (a real number)
                    svc["capacity"] = 100.0
                    svc["load"] = {"utilisation": draw(st.sampled_from([0.4, 0.7, 0.9, 1.2]))}
                    if draw(st.booleans()):   # busy days, quiet nights
                        svc["load"]["daily"] = [0.3] * 8 + [1.0] * 12 + [0.6] * 4
                    if draw(st.booleans()):
                        svc["overload"] = {"threshold": draw(st.sampled_from([0.9, 1.0])),
                                           "grace": draw(st.sampled_from([0.0, 0.2])),
                                           "goodput": draw(st.sampled_from([0.0, 0.3])),
                                           **({"admit": 0.85} if draw(st.booleans()) else {})}
                        if draw(st.booleans()):
                            svc["retries"] = {"attempts": draw(st.integers(2, 3)),
                                              **({"budget": 0.1} if draw(st.booleans()) else {})}
                else:
                    svc["min_healthy"] = draw(st.integers(1, replicas))
                if delays and draw(st.booleans()):
                    svc["health_check"] = {"interval": draw(st.sampled_from([0.05, 0.2])),
                                           "unhealthy_threshold": draw(st.integers(1, 3)),
                                           "healthy_threshold": draw(st.integers(1, 3))}
                    svc["retry"] = draw(st.booleans())
            elif mode == "standby":
                svc["standby"] = draw(st.sampled_from(["hot", "warm", "cold"]))
                if svc["standby"] == "warm":
                    svc["warm_factor"] = draw(st.sampled_from([0.2, 0.5]))
                if draw(st.booleans()):
                    fo = {"detection": draw(st.sampled_from([0.0, 0.5])),
                          "promotion": draw(st.sampled_from([0.0, 1.0])),
                          "success": draw(st.sampled_from([1.0, 0.7])),
                          "requires": _subset(draw, earlier, 1)}
                    if draw(st.booleans()):
                        fo["manual"] = draw(st.sampled_from([0.5, 3.0]))
                    svc["failover"] = fo
            elif draw(st.booleans()):
                svc["failover"] = {"detection": draw(st.sampled_from([0.0, 0.5])),
                                   "promotion": draw(st.sampled_from([0.0, 0.5]))}
        requires = _subset(draw, earlier, 2)
        if requires:
            svc["requires"] = requires
        optional = [s for s in _subset(draw, earlier, 1) if s not in requires]
        if optional:
            svc["optional"] = optional
        if delays:
            cached = [s for s in _subset(draw, earlier, 1) if s not in requires]
            if cached:
                svc["cached"] = [{"service": cached[0], "ttl": draw(st.sampled_from([0.25, 2.0]))}]
        deps = requires + optional
        if "capacity" in svc and draw(st.integers(0, 3)) == 0:   # an auto-scaling group on top
            svc["autoscaling"] = {"target": draw(st.sampled_from([0.6, 0.9])),
                                  "delay": draw(st.sampled_from([0.1, 0.5])), "scale_in": 0.25,
                                  "max": svc["replicas"] + draw(st.integers(0, 2))}
        if deps and "route" not in svc and draw(st.integers(0, 2)) == 0:   # timeouts and breakers on its edges
            dep = draw(st.sampled_from(deps))
            if "capacity" in svc and draw(st.booleans()):
                svc["latency"] = 0.0001
                svc["timeouts"] = {dep: draw(st.sampled_from([0.0002, 0.001]))}
            if draw(st.booleans()):
                svc["breakers"] = {dep: {"threshold": draw(st.sampled_from([0.2, 0.6])), "window": 0.01,
                                         "reset_timeout": draw(st.sampled_from([0.05, 0.5])),
                                         "fallback": draw(st.sampled_from(["serve", "fail"]))}}
        services[f"s{i}"] = svc
    # Load through a weighted router is not modelled (a validation error): such a pool keeps min_healthy.
    for svc in services.values():
        if "load" in svc and _reaches_weighted(services, svc):
            for key in ("capacity", "load", "overload", "retries", "autoscaling", "latency", "timeouts"):
                svc.pop(key, None)
    return Scenario(name="generated", entry=f"s{n - 1}", zones=zones, services=services, window=500.0)


def _reaches_weighted(services: dict, svc: dict) -> bool:
    todo = list(svc.get("requires", [])) + list(svc.get("optional", [])) + [c["service"] for c in svc.get("cached", [])]
    todo += list(svc.get("targets", []))
    seen = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        other = services[name]
        if other.get("route") == "weighted":
            return True
        todo += list(other.get("requires", [])) + list(other.get("optional", [])) + list(other.get("targets", []))
        todo += [c["service"] for c in other.get("cached", [])]
    return False


def _has_delay(sc: Scenario) -> bool:
    return any(s.health_check is not None or (s.dns is not None and (s.dns.ttl > 0 or s.dns.stale_fraction > 0))
               or any(c.ttl > 0 for c in s.cached) for s in sc.services.values())


RANDOM = settings(max_examples=15, deadline=None, derandomize=True, database=None, report_multiple_bugs=False,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@RANDOM
@given(sc=scenarios())
def test_random_scenarios_agree(sc):
    compare(sc, horizon=1500.0, seed=3, numba_replicas=600, simpy_replicas=30)


@pytest.mark.slow
@RANDOM
@given(sc=scenarios(delays=True).filter(_has_delay))
def test_random_scenarios_with_delays_agree(sc):
    compare(sc, horizon=1500.0, seed=4, numba_replicas=600, simpy_replicas=30)


# --- (c) identical durations, identical histories ----------------------------------------------------


def fixed(v: float) -> dict:
    return {"dist": "fixed", "value": v}


NEVER = {"failure": fixed(1000), "repair": fixed(1)}
STANDBY = {"mode": "standby", "standby": "cold", "replicas": 2, "failure": fixed(10), "repair": fixed(100),
           "failover": {"detection": 1, "promotion": 1}}
DETERMINISTIC = {
    "standby failover": ({"db": STANDBY}, {}, "db"),
    "standby fails during promotion": ({"db": {**STANDBY, "zones": ["a", "b"]}},
                                       {"a": NEVER, "b": {"failure": fixed(11), "repair": fixed(5)}}, "db"),
    "failed promotion, manual": ({"db": {**STANDBY, "failover": {"detection": 1, "promotion": 1, "success": 0.0,
                                                                 "manual": 3}}}, {}, "db"),
    "failover.requires": ({"db": {**STANDBY, "failover": {"detection": 1, "promotion": 1, "requires": ["s"]}},
                           "s": {"failure": fixed(9), "repair": fixed(5)}}, {}, "db"),
    "warm standby": ({"db": {**STANDBY, "standby": "warm", "warm_factor": 0.5}}, {}, "db"),
    "quorum election": ({"q": {"mode": "quorum", "replicas": 3, "zones": ["a", "b", "b"], "failure": fixed(1000),
                               "repair": fixed(1), "failover": {"detection": 0.5, "promotion": 0.5}}},
                        {"a": {"failure": fixed(10), "repair": fixed(5)}, "b": NEVER}, "q"),
    "quorum election waits for failover.requires": (
        {"q": {"mode": "quorum", "replicas": 3, "zones": ["a", "b", "c"], "failure": fixed(1000), "repair": fixed(1),
               "failover": {"detection": 0.5, "promotion": 0.5, "requires": ["s"]}},
         "s": {"failure": fixed(9), "repair": fixed(5)}},
        {"a": {"failure": fixed(10), "repair": fixed(5)}, "b": {"failure": fixed(11), "repair": fixed(1.5)},
         "c": NEVER}, "q"),
    "nested zones": ({"w": {"failure": fixed(10), "repair": fixed(1), "zones": ["az"], "replicas": 2,
                            "min_healthy": 2, "requires": ["db"]},
                      "db": {"failure": fixed(7), "repair": fixed(0.5)}},
                     {"region": {"failure": fixed(4), "repair": fixed(3)},
                      "az": {"failure": fixed(13.5), "repair": fixed(2), "within": "region"}}, "w"),
    "routers": ({"www": {"route": "failover", "targets": ["p", "d"], "requires": ["lb"]},
                 "lb": {"route": "weighted", "targets": ["p", "d"], "weights": [3, 1]},
                 "p": {"failure": fixed(10), "repair": fixed(5)}, "d": {"failure": fixed(12), "repair": fixed(1)}},
                {}, "www"),
    "shards and capacity": ({"kv": {"replicas": 3, "min_healthy": 2, "shards": 2, "zones": ["a", "b", "c"],
                                    "failure": fixed(30), "repair": fixed(2)}},
                            {"a": {"failure": fixed(5), "repair": fixed(1)}, "b": {"failure": fixed(7.5),
                                                                                    "repair": fixed(2)},
                             "c": NEVER}, "kv"),
    "dns ramp and stale resolvers": ({"www": {"route": "failover", "targets": ["p", "d"],
                                              "dns": {"ttl": 1.5, "stale_fraction": 0.1, "stale_for": 2.5}},
                                      "p": {"failure": fixed(10), "repair": fixed(5)},
                                      "d": {"failure": fixed(12), "repair": fixed(1)}}, {}, "www"),
    "weighted ramp change during a ramp": ({"www": {"route": "weighted", "targets": ["p", "d"], "weights": [3, 1],
                                                    "dns": {"ttl": 2}},
                                            "p": {"failure": fixed(10), "repair": fixed(0.5)},
                                            "d": {"failure": fixed(9.75), "repair": fixed(3)}}, {}, "www"),
    "nested ramps": ({"www": {"route": "failover", "targets": ["r1", "r2"], "dns": {"ttl": 1}},
                      "r1": {"route": "failover", "targets": ["p", "d"], "dns": {"ttl": 2}},
                      "r2": {"route": "weighted", "targets": ["p", "d"], "dns": {"ttl": 3}},
                      "p": {"failure": fixed(10), "repair": fixed(5)},
                      "d": {"replicas": 2, "min_healthy": 2, "failure": fixed(11), "repair": fixed(2)}}, {}, "www"),
    "cache": ({"app": {"failure": fixed(1000), "repair": fixed(1), "cached": {"service": "db", "ttl": 1.5},
                       "requires": ["s"]},
               "db": {"failure": fixed(6), "repair": fixed(2.5)},
               "s": {"failure": fixed(17), "repair": fixed(1)}}, {}, "app"),
}


@pytest.mark.parametrize("name", list(DETERMINISTIC))
def test_deterministic_histories_match_exactly(name):
    services, zones, entry = DETERMINISTIC[name]
    sc = Scenario(name="t", entry=entry, services=services, zones=zones, window=5.0, slo=95.0)
    horizon = 40.0
    res = simulate(sc, replicas=2, horizon=horizon, seed=0)
    ref, _ = simulate_reference(sc, replicas=2, horizon=horizon, seed=0)
    a, b = res.out, ref
    for field in ("ra", "ta", "degraded", "down", "outages", "longest", "svc_ra", "win", "breaches", "worst",
                  "out_start", "out_dur", "out_cause", "out_index"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=1e-12, atol=1e-12, err_msg=field)
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-12, atol=1e-12, err_msg="loss")
    assert b.outages[0] >= 1


def _simultaneous_return(order: list[str]) -> Scenario:
    """A cold standby pair in two zones of one region: the region's outages take both instances at once."""
    return Scenario(name="t", entry="db", zones={
        "az-a": {**NEVER, "within": "region"}, "az-b": {**NEVER, "within": "region"},
        "region": {"failure": fixed(4), "repair": fixed(3)}},
        services={"db": {**STANDBY, "zones": order}})


def test_simultaneous_return_does_not_depend_on_zone_declaration_order():
    sc = _simultaneous_return(["az-b", "az-a"])
    res = simulate(sc, replicas=1, horizon=60.0, seed=0, keep_outages=20)
    ref, _ = simulate_reference(sc, replicas=1, horizon=60.0, seed=0, keep_outages=20)
    for field in ("out_start", "out_dur", "out_cause"):
        np.testing.assert_allclose(getattr(res.out, field), getattr(ref, field), rtol=1e-12, err_msg=field)


# --- the same structure on every engine (issue 17 / 12: roles were computed three times) --------


def _structure(res) -> tuple:
    a = res.attribution
    stages = tuple(sorted(s for s, v in zip(STAGES, res.out.loss.sum(axis=(0, 1))) if v > 0))
    return (tuple(res.services.service), tuple(res.services.role), tuple(res.labels.causes),
            tuple(res.labels.cause_kinds), tuple(sorted(a.cause)), stages)


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIO_FILES + ["review_design"], ids=lambda p: getattr(p, "name", p))
def test_every_engine_reports_the_same_roles_causes_and_stages(path):
    from .conftest import review_design

    sc = review_design() if path == "review_design" else hasim.load(path)
    # Roles and labels are structural; which causes and stages appear is not, so both engines
    # run the same long history (a cause or stage seen on one and not the other would show).
    numba = simulate(sc, replicas=400, horizon="20y", seed=3)
    simpy = simulate(sc, replicas=4, horizon="20y", seed=3, engine="simpy")
    a, b = _structure(numba), _structure(simpy)
    assert a[:4] == b[:4]
    # Causes charged and stages seen: the 4 SimPy histories can only show what 400 numba ones show.
    assert set(b[4]) <= set(a[4]) and set(b[5]) <= set(a[5])
    assert dict(zip(a[0], a[1])) == hasim.model.structure.roles(sc)
    if path == "review_design":
        assert dict(zip(a[0], a[1]))["coord"] == "required"  # read by db's failover.requires
