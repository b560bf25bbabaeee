"""The exact answer's side for mechanisms it has no closed form for: a lower or upper bound gives a
verdict only on its own side of a target (``Analysis.meets``, the tiers, ``slo_met``, the CLI).

Before: ``hasim analyze`` said "NOT met" for ``autoscaling.yaml`` (its answer, 0.9998907 for the
group's six instances alone, is a lower bound; the simulation gives 0.9999987, met) and "met" for
``retry-storm.yaml`` at 99.9 % (0.9998 for a pool that sheds, an upper bound; the simulation gives
0.9918, missed).
"""

from __future__ import annotations

import dataclasses

import pytest

from hasim import load
from hasim.analytic.analysis import analyze, bound
from hasim.cli.main import main

from ._exact import scenario

NEVER = {"mtbf": "1000000h", "mttr": "1h"}


def pool(**extra):
    return {"replicas": 4, "capacity": 100, "load": 200, "mtbf": "720h", "mttr": "2h", **extra}


@pytest.mark.parametrize("extra, side", [
    ({}, "point"),
    ({"autoscaling": {"target": 0.7, "max": 8}}, "lower"),
    ({"overload": {"threshold": 1.0}}, "upper"),
    ({"optional": ["d"], "latency": "50ms", "timeouts": {"d": "1s"}}, "upper"),
    ({"requires": ["d"], "breakers": {"d": {"fallback": "fail"}}}, "upper"),
    ({"optional": ["d"], "breakers": {"d": {"fallback": "serve"}}}, "upper"),
    ({"requires": ["d"], "breakers": {"d": {"fallback": "serve"}}}, "lower"),
    ({"autoscaling": {"target": 0.7, "max": 8}, "overload": {"threshold": 1.0}}, "none"),
])
def test_each_mechanism_says_which_way_the_answer_errs(extra, side):
    sc = scenario("api", {"api": pool(**extra), "d": NEVER})
    assert bound(sc) == side
    assert analyze(sc).bound == side


def test_a_bound_decides_only_on_its_own_side():
    a = analyze(scenario("api", {"api": pool()}))
    value = a.request_availability
    for side, below, above in (("point", False, True), ("lower", None, True), ("upper", False, None),
                               ("none", None, None)):
        b = dataclasses.replace(a, bound=side)
        assert b.meets(value + 1e-9) is below and b.meets(value - 1e-9) is above


@pytest.mark.parametrize("name, slo_met, line", [
    ("autoscaling.yaml", None, "not decided: at most 57.5 min"),
    ("retry-storm.yaml", None, "not decided: at least 106.0 min"),
    ("static-stability.yaml", False, "NOT met: 57.5 min"),
    ("ha-rest-api.yaml", None, "not decided: at most 87.1 min"),
])
def test_the_shipped_scenarios_get_the_verdict_their_bound_allows(scenarios_dir, capsys, name, slo_met, line):
    a = analyze(load(scenarios_dir / name))
    assert a.to_dict()["slo_met"] is slo_met and a.to_dict()["bound"] == a.bound
    assert main(["analyze", str(scenarios_dir / name)]) == 0
    assert line in capsys.readouterr().out
