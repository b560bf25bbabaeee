"""Scenario.replace: validated variants at dotted key paths (sweeps, sensitivity, notebooks)."""

from __future__ import annotations

import pytest

from hasim import ScenarioError, load

from .conftest import SCENARIOS


@pytest.fixture
def flagship():
    return load(SCENARIOS / "ha-rest-api.yaml")


def test_replace_values_and_shorthands(flagship):
    sc = flagship.replace({"services.api.replicas": 6, "services.db.failover.detection": "10s",
                           "services.lb.mtbf": "1000h", "services.db.repair.median": "1h"}, horizon="2y")
    assert sc.services["api"].replicas == 6
    assert sc.services["db"].failover.detection == pytest.approx(10 / 3600)
    assert sc.services["db"].failover.promotion == flagship.services["db"].failover.promotion
    assert sc.services["lb"].failure.mean_hours == 1000.0
    assert sc.services["db"].repair.median == 1.0
    assert sc.horizon == 2 * 8760
    assert flagship.services["api"].replicas == 4  # the original is untouched


def test_replace_creates_missing_blocks():
    sc = load(SCENARIOS / "standby.yaml").replace({"services.db.failover.detection": "1s"})
    assert sc.services["db"].failover.detection == pytest.approx(1 / 3600)


@pytest.mark.parametrize(("change", "message"), [
    ({"services.api.replicas": 0}, "services.api.replicas: expected a number >= 1, got '0'"),
    ({"services.apx.replicas": 2}, "services.apx.replicas: no such key 'services.apx'"),
    ({"horizonx": 3}, "horizonx: unknown key 'horizonx'; did you mean 'horizon'?"),
    ({"services.api.mode": "standby"}, "services.api.health_check: 'health_check' applies to active pools and routers"),
    ({"services.api.autoscaling.max": 3}, "services.api.autoscaling.max: max (3) is less than the group's minimum"),
])
def test_replace_rejects_bad_paths_and_values(flagship, change, message):
    with pytest.raises(ScenarioError) as info:
        flagship.replace(change)
    assert message in str(info.value)
