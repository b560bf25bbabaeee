"""hasim.sensitivity: which parameters are varied, common random numbers, sorting and sweeps."""

from __future__ import annotations

import math

import pytest

from hasim import Scenario, sensitivity, sweep
from hasim.studies.sensitivity import default_replicas, parameters

from .conftest import review_design

pytest.importorskip("pandas")


def test_every_key_parameter_is_enumerated():
    design = review_design()
    params = {p.label: p for p in parameters(design)}
    for zone in design.zones:
        assert f"zone {zone} MTBF" in params and f"zone {zone} MTTR" in params
    for name, svc in design.services.items():
        if svc.has_instances:
            assert f"{name} MTBF" in params and f"{name} MTTR" in params and f"{name} replicas" in params
    assert "edge replicas" not in params  # a router without instances
    assert params["db failover detection"].base == pytest.approx(30 / 3600)
    assert params["db failover promotion"].high_value == pytest.approx(2 * 60 / 3600)
    # Replica floors: a standby pair cannot lose one; min_healthy 2 of 3 can go to 2 but not below.
    assert params["db replicas"].low is None and "standby pair" in params["db replicas"].notes[0]
    assert params["api replicas"].low == {"services.api.replicas": 2}
    assert params["search replicas"].low is None
    # Every variant is a valid scenario.
    for p in params.values():
        for changes in (p.low, p.high):
            if changes is not None:
                design.replace(changes)


def test_health_checks_dns_and_cache_ttls_are_parameters():
    sc = Scenario(name="delays", entry="edge", services={
        "edge": {"route": "failover", "targets": ["a", "b"], "health_check": {"interval": "30s"},
                 "dns": {"ttl": "60s"}},
        "a": {"mtbf": "30d", "mttr": "1h", "health_check": {"interval": "10s"},
              "cached": {"service": "c", "ttl": "5m"}},
        "b": {"mtbf": "30d", "mttr": "1h"},
        "c": {"mtbf": "30d", "mttr": "1h"},
    })
    params = {p.label: p for p in parameters(sc)}
    assert params["edge DNS TTL"].high == {"services.edge.dns.ttl": pytest.approx(2 / 60)}
    assert params["a health-check interval"].low_value == pytest.approx(5 / 3600)
    cache = params["a cache TTL of c"]
    assert sc.replace(cache.high).services["a"].cached[0].ttl == pytest.approx(10 / 60)


def test_default_replicas():
    assert default_replicas(review_design()) == 200
    assert default_replicas(review_design().replace(replicas=4000)) == 1000
    assert default_replicas(review_design(), 33) == 33


def test_common_random_numbers_make_an_unchanged_parameter_exactly_zero():
    design = review_design()
    frame = sensitivity(design, factors=(1.0, 1.0), replicas=60, parameters=["api MTBF", "zone az-a MTTR"])
    assert list(frame["parameter"]) in (["api MTBF", "zone az-a MTTR"], ["zone az-a MTTR", "api MTBF"])
    assert (frame["downtime_delta_low"] == 0).all() and (frame["downtime_delta_high"] == 0).all()
    assert (frame["delta_low"] == 0).all()
    assert frame.attrs["replicas"] == 60 and frame.attrs["seed"] == design.seed


def test_sensitivity_table_sorted_by_effect_with_notes():
    design = review_design()
    frame = sensitivity(design, replicas=80, horizon="1y",
                        parameters=["api replicas", "db replicas", "api MTTR", "services.lb.failure"])
    assert set(frame["parameter"]) == {"api replicas", "db replicas", "api MTTR", "lb MTBF"}
    effects = frame["effect"].tolist()
    finite = [e for e in effects if not math.isnan(e)]
    assert finite == sorted(finite, reverse=True)
    assert effects[:len(finite)] == finite  # NaN effects (nothing run) last
    db = frame.set_index("parameter").loc["db replicas"]
    assert math.isnan(db["low_value"]) and math.isnan(db["downtime_delta_low"]) and "standby pair" in db["note"]
    assert db["high_value"] == 3
    api = frame.set_index("parameter").loc["api replicas"]
    # Two api instances (min_healthy 2) lose capacity on every failure: more downtime.
    assert api["downtime_delta_low"] > api["downtime_delta_low_ci"] > 0
    for column in ("availability_low", "availability_high", "downtime_base", "downtime_delta_high_ci"):
        assert column in frame.columns


def test_sweep_runs_one_parameter_over_values():
    design = review_design()
    frame = sweep(design, "services.api.replicas", [2, 3, 4], replicas=60)
    assert list(frame["value"]) == [2, 3, 4] and set(frame["unit"]) == {"count"}
    down = frame["downtime_minutes_per_year"].tolist()
    assert down[0] > down[1]
    assert (frame["request_availability_ci_low"] <= frame["request_availability"]).all()
    ttl = sweep(design, "services.db.failover.detection", ["10s", "1m"], replicas=20)
    assert list(ttl["value"]) == pytest.approx([10 / 3600, 1 / 60]) and set(ttl["unit"]) == {"h"}
