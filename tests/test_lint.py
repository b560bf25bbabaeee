"""hasim.model.lint: warnings about valid scenarios (unused parts, bare numbers that look like seconds), issue 17."""

from __future__ import annotations

import textwrap

import pytest
import yaml

import hasim
from hasim import Problem, Scenario, Service
from hasim.cli.main import EXIT_INVALID, EXIT_OK, main
from hasim.model.lint import PLAUSIBLE_HOURS, check, check_file

from .conftest import SCENARIO_FILES

#: Shipped scenarios with a warning on purpose (none: ebeling.yaml's `parallel` service, which the
#: exact-solver tests read on its own, is an optional dependency of its entry).
KNOWN: dict[str, list[str]] = {}


def warnings_of(text: str) -> list[str]:
    raw = yaml.safe_load(text)
    return [str(p) for p in check(hasim.loads(text), raw)]


def test_every_shipped_scenario_is_free_of_spurious_warnings():
    found = {path.name: [str(p) for p in check_file(path)] for path in SCENARIO_FILES}
    assert {name: lines for name, lines in found.items() if lines} == KNOWN


BARE = """\
entry: web
zones:
  az: {mtbf: 1y, mttr: 4h}
services:
  web:
    route: failover
    targets: [api]
    health_check: {interval: 10}
    dns: {ttl: 300, stale_fraction: 0.1, stale_for: 500}
  api: {zones: [az], mtbf: 720h, mttr: 90, requires: [db], cached: {service: db, ttl: 300}}
  db:
    mode: standby
    replicas: 2
    zones: [az]
    failure: {mtbf: 720h}
    repair: {dist: empirical, samples: [0.5, 120]}
    failover: {detection: 30, promotion: 10s, manual: 45}
"""


def test_bare_numbers_that_look_like_seconds_or_minutes_are_named_with_the_unit_to_write():
    assert warnings_of(BARE) == [
        "services.web.health_check.interval: a bare number is hours: 10 means 10h, implausible for a health-check "
        "interval; write '10s' if you meant seconds (or '10h' to keep hours)",
        "services.web.dns.ttl: a bare number is hours: 300 means 300h, implausible for a DNS TTL; write '300s' if "
        "you meant seconds (or '300h' to keep hours)",
        "services.web.dns.stale_for: a bare number is hours: 500 means 500h, implausible for a stale DNS period; "
        "write '500m' if you meant minutes (or '500h' to keep hours)",
        "services.api.mttr: a bare number is hours: 90 means 90h, implausible for a repair time; write '90m' if you "
        "meant minutes (or '90h' to keep hours)",
        "services.api.cached.ttl: a bare number is hours: 300 means 300h, implausible for a cache TTL; write '300s' "
        "if you meant seconds (or '300h' to keep hours)",
        "services.db.repair.samples.1: a bare number is hours: 120 means 120h, implausible for a repair time; write "
        "'120m' if you meant minutes (or '120h' to keep hours)",
        "services.db.failover.detection: a bare number is hours: 30 means 30h, implausible for a failure detection; "
        "write '30s' if you meant seconds (or '30h' to keep hours)",
        "services.db.failover.manual: a bare number is hours: 45 means 45h, implausible for a manual intervention; "
        "write '45m' if you meant minutes (or '45h' to keep hours)",
    ]


def test_a_unit_silences_the_bare_number_warning():
    written = (BARE.replace("interval: 10", "interval: 10h").replace("ttl: 300,", "ttl: 300h,")
               .replace("stale_for: 500", "stale_for: 500m").replace("mttr: 90", "mttr: 90m")
               .replace("ttl: 300}", "ttl: 300s}").replace("120]", "'120h']").replace("detection: 30", "detection: 30s")
               .replace("manual: 45", "manual: 45h"))
    assert warnings_of(written) == []


@pytest.mark.parametrize("text", [
    "entry: api\nservices:\n  api: {mtbf: 720, mttr: 4}\n",  # hours are plausible: no warning
    "entry: api\nservices:\n  api: {mtbf: 720, mttr: 24, health_check: {interval: 0.002}}\n",
    "entry: db\nservices:\n  db: {mode: standby, replicas: 2, mtbf: 720, mttr: 1, failover: {detection: 0.01}}\n",
    # implausible even as seconds or minutes: a bare number is not the likely slip, so no unit to suggest
    "entry: api\nservices:\n  api: {mtbf: 720, mttr: 10000000}\n",
])
def test_plausible_or_hopeless_bare_numbers_are_not_flagged(text):
    assert warnings_of(text) == []


def test_zone_repairs_and_string_numbers_are_checked_too():
    text = "entry: api\nzones:\n  az: {mtbf: 1y, mttr: '90'}\nservices:\n  api: {zones: [az], mtbf: 1y, mttr: 1h}\n"
    assert warnings_of(text) == [
        "zones.az.mttr: a bare number is hours: 90 means 90h, implausible for a repair time; write '90m' if you meant "
        "minutes (or '90h' to keep hours)"]


def test_the_plausibility_table_names_only_duration_keys():
    assert set(PLAUSIBLE_HOURS) == {"failover.detection", "failover.promotion", "failover.manual",
                                    "health_check.interval", "dns.ttl", "dns.stale_for", "cached.ttl", "repair"}
    for limit, units, _ in PLAUSIBLE_HOURS.values():
        assert limit > 0 and units and set(units) <= {"s", "m"}


UNUSED = """\
entry: edge
zones:
  region: {mtbf: 5y, mttr: 12h}
  az-a: {mtbf: 1y, mttr: 4h, within: region}
  az-b: {mtbf: 1y, mttr: 4h, within: region}
  spare: {mtbf: 1y, mttr: 4h}
  spare-child: {mtbf: 1y, mttr: 4h, within: spare}
services:
  edge: {route: failover, targets: [api, dr]}
  api: {zones: [az-a], mtbf: 720h, mttr: 1h, requires: [db], optional: [search], cached: {service: cache, ttl: 5m}}
  dr: {zones: [az-b], mtbf: 720h, mttr: 1h}
  db: {mode: standby, replicas: 2, mtbf: 720h, mttr: 1h, failover: {requires: [sentinel]}}
  sentinel: {mode: quorum, replicas: 3, mtbf: 720h, mttr: 1h}
  search: {mtbf: 720h, mttr: 1h}
  cache: {mtbf: 720h, mttr: 1h}
  legacy: {mtbf: 720h, mttr: 1h, requires: [old-db]}
  old-db: {mtbf: 720h, mttr: 1h}
"""


def test_unused_services_and_zones_are_warned_about():
    assert warnings_of(UNUSED) == [
        "services.legacy: unused: not reachable from entry 'edge' through requires, optional, cached, targets or "
        "failover.requires, so it cannot change any result",
        "services.old-db: unused: not reachable from entry 'edge' through requires, optional, cached, targets or "
        "failover.requires, so it cannot change any result",
        "zones.spare: unused: no service has instances in it or in a zone within it, so its outages change nothing",
        "zones.spare-child: unused: no service has instances in it or in a zone within it, so its outages change "
        "nothing",
    ]


def test_check_works_on_python_scenarios_without_raw_data():
    sc = Scenario(name="x", entry="api", services={"api": Service(mtbf=1, mttr=1), "db": Service(mtbf=1, mttr=1)})
    assert check(sc) == [Problem("services.db", "unused: not reachable from entry 'api' through requires, optional, "
                                                "cached, targets or failover.requires, so it cannot change any result")]
    raw = {"name": "x", "entry": "api", "services": {"api": {"mtbf": 1, "mttr": 90}}}
    assert [p.path for p in check(Scenario(**raw), raw)] == ["services.api.mttr"]


def test_validate_prints_warnings_on_stderr_and_exits_0(tmp_path, capsys):
    path = tmp_path / "slip.yaml"
    path.write_text(textwrap.dedent("""\
        entry: db
        services:
          db: {mode: standby, replicas: 2, mtbf: 720h, mttr: 1h, failover: {detection: 30}}
          unused: {mtbf: 720h, mttr: 1h}
        """))
    code = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert code == EXIT_OK
    assert out == f"{path}: ok (2 services, 0 zones, entry 'db')\n"
    assert err.splitlines() == [
        f"warning: {path}: services.db.failover.detection: a bare number is hours: 30 means 30h, implausible for a "
        "failure detection; write '30s' if you meant seconds (or '30h' to keep hours)",
        f"warning: {path}: services.unused: unused: not reachable from entry 'db' through requires, optional, "
        "cached, targets or failover.requires, so it cannot change any result",
    ]


def test_validate_still_fails_on_errors_and_prints_no_warnings_for_them(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("entry: api\nservices:\n  api: {mtbf: 720h, mttr: 90, replica: 2}\n")
    code = main(["validate", str(path)])
    _, err = capsys.readouterr()
    assert code == EXIT_INVALID
    assert err.splitlines() == [f"{path}: services.api.replica: unknown key 'replica'; did you mean 'replicas'?"]
