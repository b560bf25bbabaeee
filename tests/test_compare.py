"""hasim.compare: designs side by side with common random numbers and paired differences."""

from __future__ import annotations

import json
import math

import pytest

from hasim import Scenario, compare
from hasim.cli.main import EXIT_INVALID, EXIT_OK, main
from hasim.studies.compare import MEASURES, _pm, compare_results, run_comparison
from hasim.sim.engine import simulate

pytest.importorskip("pandas")


def pool(replicas: int, name: str | None = None) -> Scenario:
    return Scenario(name=name or f"api-x{replicas}", entry="api", slo=99.9, replicas=300, seed=11,
                    services={"api": {"replicas": replicas, "mtbf": "500h", "mttr": "10h"}})


def test_a_design_compared_with_itself_differs_by_exactly_zero():
    table = compare([pool(2), pool(2, "same")])
    other = table[table["design"] == "same"]
    assert len(other) == len(MEASURES)
    assert (other["diff"] == 0).all()
    assert (other["diff_ci_low"] == 0).all() and (other["diff_ci_high"] == 0).all()
    assert set(other["verdict"]) == {"no significant difference"}
    assert "no significant difference" in table.attrs["sentences"][0]
    assert table.attrs["paired"] is True


def test_more_replicas_is_better_with_a_ci_that_excludes_zero():
    comparison = run_comparison([pool(2), pool(3)])
    t = comparison.table.set_index(["measure", "design"])
    down = t.loc[("downtime_minutes_per_year", "api-x3")]
    assert down["diff_ci_high"] < 0 and down["verdict"] == "better"
    ra = t.loc[("request_availability", "api-x3")]
    assert ra["diff_ci_low"] > 0 and ra["verdict"] == "better"
    sentence = comparison.sentences()[0]
    assert sentence.startswith("api-x3 removes ") and "min/year of downtime compared with api-x2" in sentence
    assert sentence.count("% of it repair") == 1  # the stage breakdown: a pool that ran out of instances
    # The reference row has no difference.
    ref = t.loc[("downtime_minutes_per_year", "api-x2")]
    assert math.isnan(ref["diff"]) and ref["verdict"] == "reference"


def test_paired_ci_is_the_ci_of_per_replica_differences():
    a, b = pool(2), pool(3)
    ra, rb = simulate(a, replicas=200, seed=3), simulate(b, replicas=200, seed=3)
    comparison = compare_results([ra, rb])
    row = comparison.table.set_index(["measure", "design"]).loc[("downtime_minutes_per_year", "api-x3")]
    d = rb.replicas["downtime_minutes_per_year"].to_numpy() - ra.replicas["downtime_minutes_per_year"].to_numpy()
    half = 1.96 * d.std(ddof=1) / math.sqrt(d.size)
    assert row["diff"] == pytest.approx(d.mean())
    assert row["diff_ci_high"] - row["diff_ci_low"] == pytest.approx(2 * half)
    # Different seeds: not paired, independent (Welch) intervals instead.
    unpaired = compare_results([ra, simulate(b, replicas=200, seed=4)])
    assert unpaired.paired is False


def test_compare_reads_files_and_to_dict_is_json(tmp_path):
    path = tmp_path / "a.yaml"
    path.write_text("name: a\nentry: api\nreplicas: 100\nservices:\n  api: {replicas: 2, mtbf: 500h, mttr: 10h}\n")
    comparison = run_comparison([path, pool(3)], replicas=80, seed=1)
    doc = json.loads(json.dumps(comparison.to_dict(), allow_nan=False))
    assert doc["designs"] == ["a", "api-x3"] and doc["replicas"] == 80 and doc["seed"] == 1
    assert {m["measure"] for m in doc["measures"]} == set(MEASURES)


def test_plus_minus_formatting():
    assert _pm(41.2, 3.1) == "41 ± 3"
    assert _pm(41.26, 1.4) == "41.3 ± 1.4"
    assert _pm(-0.2, 8.0) == "0 ± 8"
    assert _pm(0.0, 0.0) == "0"


def test_cli_compare(tmp_path, capsys):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("name: two\nentry: api\nslo: 99.9\nservices:\n  api: {replicas: 2, mtbf: 500h, mttr: 10h}\n")
    b.write_text("name: three\nentry: api\nslo: 99.9\nservices:\n  api: {replicas: 3, mtbf: 500h, mttr: 10h}\n")
    report = tmp_path / "cmp" / "review.html"
    code = main(["compare", str(a), str(b), "--replicas", "200", "--seed", "5", "--report", str(report)])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    assert "request availability" in out and "difference" in out and "three removes" in out
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>") and "three removes" in html and "http://" not in html.replace(
        "http://www.w3.org/", "")
    code = main(["compare", str(a), str(b), "--replicas", "100", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == EXIT_OK and doc["reference"] == "two"
    assert main(["compare", str(a)]) == EXIT_INVALID
    bad = tmp_path / "bad.yaml"
    bad.write_text("entry: api\nservices: {}\n")
    assert main(["compare", str(a), str(bad)]) == EXIT_INVALID
    capsys.readouterr()


class _WithStages:
    def __init__(self, results, minutes):
        import pandas as pd

        self._results = results
        self.stages = pd.DataFrame({"stage": list(minutes), "downtime_minutes_per_year": list(minutes.values())})

    def __getattr__(self, name):
        return getattr(self._results, name)


def test_sentence_names_the_stage_the_difference_comes_from():
    ra, rb = simulate(pool(2), replicas=100, seed=2), simulate(pool(3), replicas=100, seed=2)
    a = _WithStages(ra, {"detection": 50.0, "repair": 10.0})
    b = _WithStages(rb, {"detection": 10.0, "repair": 0.0})
    sentence = compare_results([a, b], names=["a", "b"]).sentences()[0]
    assert sentence.startswith("b removes ")
    assert ", 80 % of it detection" in sentence  # 40 of the 50 min/year saved are detection
