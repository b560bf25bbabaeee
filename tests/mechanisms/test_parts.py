"""Every mechanism is one unit: registered once, with its parts where its description says.

A mechanism (:class:`hasim.model.mechanism.Mechanism`) names its kernel module, its reference
process, its analytic term and its test module; these tests hold the registry to it, so a new
mechanism cannot be half added: a key of the model that no mechanism and no structural list
claims, a stage with no mechanism, a parameter kind without a direction, a part that does not
exist, all fail here.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import hasim
from hasim.sim.kernel import _output
from hasim.model.mechanisms import MECHANISMS, PRECEDENCE, STAGES, knobs, worse_when_raised
from hasim.model.scenario import Service
from hasim.model.zone import Zone

from ..conftest import SCENARIOS

ROOT = Path(__file__).resolve().parents[2]

#: Keys of the model that are structure (who calls whom, names, routing), not a mechanism.
STRUCTURAL = {"name", "description", "zones", "requires", "optional", "route", "targets", "weights"}


@pytest.mark.parametrize("mech", MECHANISMS, ids=lambda m: m.name)
def test_its_parts_exist(mech):
    assert mech.parts.get("tests") == f"tests/mechanisms/test_{mech.name}.py"
    assert (ROOT / mech.parts["tests"]).is_file()
    for layer in ("kernel", "reference", "analytic"):
        if layer in mech.parts:
            assert importlib.util.find_spec(mech.parts[layer]) is not None, f"{mech.name}: no {mech.parts[layer]}"
    assert {"kernel", "reference"} <= set(mech.parts), f"{mech.name} must run on both engines"


def test_names_and_stages_are_unique_and_cover_the_output():
    assert len({m.name for m in MECHANISMS}) == len(MECHANISMS)
    # A mechanism that keeps no loss of service going (replication: it loses writes) has no stage.
    assert sorted(m.stage for m in MECHANISMS if m.stage) == sorted(STAGES)
    assert sorted(PRECEDENCE) == sorted(STAGES)
    # The kernel's output layout is indexed by the same stages, in the same order.
    assert tuple(_output.STAGES) == STAGES


def test_every_key_of_a_service_or_zone_belongs_to_a_mechanism_or_the_structure():
    claimed = {key for m in MECHANISMS for key in m.declares} | STRUCTURAL
    for model in (Service, Zone):
        unclaimed = set(model.model_fields) - claimed
        assert not unclaimed, f"{model.__name__} keys no mechanism declares: {sorted(unclaimed)}"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_knob_has_a_direction_and_a_valid_variant(path):
    sc = hasim.load(path)
    signs = worse_when_raised()
    for knob in knobs(sc):
        assert knob.kind in signs, f"{knob.label}: kind {knob.kind!r} has no worse_when_raised"
        if knob.unit == "h" and knob.base:
            sc.replace({knob.path: knob.scaled(2.0)})   # a variant the model accepts
        assert knob.path.split(".")[0] in ("services", "zones", "config_pushes", "oncall", "alerts")


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_service_a_mechanism_says_it_uses_exists(path):
    sc = hasim.load(path)
    for mech in MECHANISMS:
        for user in mech.used_by(sc):
            assert user in sc.services or user in sc.zones
        for svc in sc.services.values():
            assert all(isinstance(p, str) and p for p in mech.describe(svc))


def test_every_analytic_part_is_registered_with_the_solver():
    from hasim.analytic.analysis import DATA_TERMS, TERMS

    registered = {fn.__module__ for fn in TERMS + DATA_TERMS}
    declared = {m.parts["analytic"] for m in MECHANISMS if "analytic" in m.parts}
    assert registered == declared


@pytest.mark.parametrize("mech", MECHANISMS, ids=lambda m: m.name)
def test_its_summary_is_plain_text_for_the_report(mech):
    # The report prints it as it is: no markdown, one sentence or two.
    assert mech.summary and "`" not in mech.summary and "*" not in mech.summary and len(mech.summary) < 240
