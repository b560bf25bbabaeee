"""hasim.sweep and ``hasim sweep``: grid and zip shapes, common random numbers, validation before
anything runs, and a 100-point sweep against the single runs of its points."""

from __future__ import annotations

import json
import math

import pytest

import hasim
from hasim import ScenarioError, load, simulate
from hasim.cli.main import EXIT_INVALID, EXIT_OK, main
from hasim.studies.sweep import MEASURES, sweep_points

from .conftest import SCENARIOS

pd = pytest.importorskip("pandas")

FLAGSHIP = SCENARIOS / "ha-rest-api.yaml"


@pytest.fixture(scope="module")
def flagship():
    return load(FLAGSHIP)


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_simulation(monkeypatch):
    """Make any simulation fail the test: validation must reject before running."""
    def refuse(*args, **kwargs):
        raise AssertionError("simulate() was called although the sweep is invalid")

    monkeypatch.setattr("hasim.sim.engine.simulate", refuse)


def test_grid_has_one_row_per_combination_in_grid_order(flagship):
    grid = {"services.api.replicas": [3, 4], "services.db.failover.detection": ["10s", "30s", "1m"]}
    frame = hasim.sweep(flagship, grid, replicas=20)
    assert len(frame) == 6
    assert list(frame["services.api.replicas"]) == [3, 3, 3, 4, 4, 4]
    assert list(frame["services.db.failover.detection"]) == ["10s", "30s", "1m"] * 2
    for m in MEASURES:
        assert {m, f"{m}_ci_low", f"{m}_ci_high"} <= set(frame.columns)
    ok = frame.dropna(subset=["request_availability_ci_low"])
    assert (ok["request_availability_ci_low"] <= ok["request_availability"]).all()
    assert (ok["request_availability"] <= ok["request_availability_ci_high"]).all()
    assert set(frame["replicas"]) == {20} and set(frame["seed"]) == {flagship.seed}
    assert set(frame["slo_verdict"]) <= {"met", "missed", "uncertain"}
    assert frame.attrs["paths"] == list(grid) and frame.attrs["zip"] is False


def test_zip_pairs_the_lists_and_rejects_unequal_lengths(flagship, no_simulation):
    with pytest.raises(ScenarioError, match="zip needs lists of equal length"):
        hasim.sweep(flagship, {"services.api.replicas": [2, 3, 4], "services.db.failover.detection": ["10s"]},
                    zip=True)
    paths, points = sweep_points(flagship, {"services.api.replicas": [2, 3, 4],
                                            "services.db.failover.detection": ["10s", "30s", "1m"]}, zip=True)
    assert [combo for combo, _ in points] == [(2, "10s"), (3, "30s"), (4, "1m")]
    assert points[1][1].services["db"].failover.detection == pytest.approx(30 / 3600)


def test_identical_combinations_give_identical_rows(flagship):
    # The database's failover detection: some of the 25 histories fail over (3 a year), whatever
    # they hold (the API's pods, with its autoscaler's spares, may never run short in 25).
    frame = hasim.sweep(flagship, {"services.db.failover.detection": ["30s", "5m", "30s"],
                                   "services.edge.dns.ttl": ["30s", "30s"]}, replicas=25)
    measures = [c for c in frame.columns if c.split("_ci_")[0] in MEASURES]
    rows = frame[measures].to_numpy()
    # (30s, 30s) appears four times (two 30s x two identical TTLs): all four rows are bit-identical.
    same = [i for i, r in enumerate(frame.itertuples()) if r[1] == "30s"]
    assert len(same) == 4
    for i in same[1:]:
        assert rows[i].tolist() == pytest.approx(rows[same[0]].tolist(), nan_ok=True, rel=0, abs=0)
    assert rows[0].tolist() != rows[2].tolist()  # 30 s and 5 min differ


def test_invalid_paths_and_values_are_rejected_before_running(flagship, no_simulation):
    with pytest.raises(ScenarioError) as exc:
        hasim.sweep(flagship, {"services.api.replicas": [3, 0, -1], "services.api.replica": [2],
                               "services.nope.replicas": [1]})
    lines = exc.value.lines()
    assert "services.api.replicas: expected a number >= 1, got '0'" in lines
    assert "services.api.replica: unknown key 'replica'; did you mean 'replicas'?" in lines
    assert any(line.startswith("services.nope.replicas: no such key") for line in lines)
    assert len(lines) == len(set(lines))  # each problem once, not once per combination
    with pytest.raises(ScenarioError, match=r"max \(3\) is less than the group's minimum, replicas \(4\)"):
        hasim.sweep(flagship, {"services.api.autoscaling.max": [8, 3]})  # only the second value is invalid


def test_cli_rejects_invalid_values_with_the_file_and_key_path(capsys, no_simulation):
    code, out, err = run(capsys, "sweep", FLAGSHIP, "--set", "services.api.replicas=2,0",
                         "--set", "services.db.failover.detection=10s,-3s")
    assert code == EXIT_INVALID and out == ""
    assert f"{FLAGSHIP}: services.api.replicas: expected a number >= 1, got '0'" in err
    assert f"{FLAGSHIP}: services.db.failover.detection: expected a non-negative duration" in err
    assert "Traceback" not in err
    for argv in (["--set", "services.api.replicas=2,3", "--set", "services.edge.dns.ttl=10s", "--zip"],
                 ["--set", "services.api.replicas=2", "--set", "services.api.replicas=3"],
                 ["--set", "nonsense"], ["--set", "services.api.replicas=2,,3"],
                 ["--set", "services.api.replicas=2", "--out", "table.xlsx"],
                 ["--set", "services.api.replicas=2", "--max-replicas", "10"],
                 ["--set", "services.api.replicas=2", "--precision", "5"]):
        if argv[1] in ("nonsense", "services.api.replicas=2,,3") or "--precision" in argv:
            with pytest.raises(SystemExit) as exc:
                main(["sweep", str(FLAGSHIP), *argv])
            assert exc.value.code == EXIT_INVALID
            capsys.readouterr()
        else:
            code, _, err = run(capsys, "sweep", FLAGSHIP, *argv)
            assert code == EXIT_INVALID, argv
            assert "Traceback" not in err


def test_a_100_point_sweep_matches_the_single_runs_of_its_points(flagship):
    grid = {"services.api.replicas": [2, 3, 4, 5],
            "services.db.failover.detection": ["10s", "30s", "1m", "2m", "5m"],
            "services.edge.dns.ttl": ["10s", "30s", "1m", "5m", "15m"]}
    frame = hasim.sweep(flagship, grid, replicas=8)
    assert len(frame) == 100
    for row in frame.itertuples(index=False):
        changes = {p: getattr(row, f"_{i}") for i, p in enumerate(grid)}
        single = simulate(flagship.replace(changes), replicas=8).to_dict()["metrics"]
        for m in ("request_availability", "time_availability", "downtime_minutes_per_year", "p_window_breach"):
            assert getattr(row, m) == single[m]["mean"], (changes, m)


def test_one_parameter_form_is_kept(flagship):
    frame = hasim.sweep(flagship, "services.db.failover.detection", ["10s", "1m"], replicas=10)
    assert list(frame.columns[:4]) == ["parameter", "path", "value", "unit"]
    assert list(frame["value"]) == pytest.approx([10 / 3600, 1 / 60]) and set(frame["unit"]) == {"h"}
    # The 0.1 re-export hasim.studies.sensitivity.sweep is gone (issue 12): the sweep lives in hasim.studies.sweep.
    import sys

    assert not hasattr(sys.modules["hasim.studies.sensitivity"], "sweep")


def test_cli_sweep_table_json_and_atomic_out(tmp_path, capsys):
    target = tmp_path / "sub" / "sweep.csv"
    code, out, err = run(capsys, "sweep", FLAGSHIP, "--set", "services.api.replicas=3,4", "--set",
                         "services.edge.dns.ttl=30s,5m", "--replicas", "10", "--out", target)
    assert code == EXIT_OK, err
    assert "sweep of 4 points (2 x 2 grid), 10 replicas" in out
    assert "services.api.replicas" in out and "request availability [95 % CI]" in out and "SLO 99.99 %" in out
    written = pd.read_csv(target)
    assert len(written) == 4 and list(written.columns[:2]) == ["services.api.replicas", "services.edge.dns.ttl"]
    assert [p.name for p in target.parent.iterdir()] == ["sweep.csv"]  # no temporary file left
    code, out, err = run(capsys, "sweep", FLAGSHIP, "--set", "services.api.replicas=3,4", "--set",
                         "services.edge.dns.ttl=30s,5m", "--replicas", "10", "--zip", "--json", "-q")
    assert code == EXIT_OK, err
    doc = json.loads(out)
    assert doc["zip"] is True and len(doc["rows"]) == 2
    assert doc["rows"][0]["services.api.replicas"] == 3 and doc["rows"][1]["services.edge.dns.ttl"] == "5m"
    first = written.iloc[0]
    assert doc["rows"][0]["request_availability"] == pytest.approx(first["request_availability"], rel=1e-12)


def test_cli_sweep_out_parquet(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    target = tmp_path / "sweep.parquet"
    code, _, err = run(capsys, "sweep", FLAGSHIP, "--set", "services.db.failover.success=0.9,0.99",
                       "--replicas", "5", "-q", "--out", target)
    assert code == EXIT_OK, err
    frame = pd.read_parquet(target)
    assert list(frame["services.db.failover.success"]) == [0.9, 0.99]


def test_sweep_with_a_precision_target(capsys):
    k = load(SCENARIOS / "k-of-n.yaml")
    frame = hasim.sweep(k, {"services.api.replicas": [3, 4]}, replicas=50, precision=0.5, max_replicas=400)
    assert "precision_reached" in frame.columns and "stop_reason" in frame.columns
    assert set(frame["stop_reason"]) <= {"precision_reached", "max_replicas", "zero_unavailability"}
    assert (frame["replicas"] <= 400).all()
    code, out, err = run(capsys, "sweep", SCENARIOS / "k-of-n.yaml", "--set", "services.api.replicas=3,4",
                         "--replicas", "50", "--precision", "50%", "--max-replicas", "400", "--json")
    assert code == EXIT_OK, err
    rows = json.loads(out)["rows"]
    assert [r["request_availability"] for r in rows] == pytest.approx(list(frame["request_availability"]))
    assert all(math.isfinite(r["request_availability"]) for r in rows)


def test_top_level_paths_do_not_clash_with_result_columns(capsys):
    k = load(SCENARIOS / "k-of-n.yaml")
    frame = hasim.sweep(k, {"replicas": [10, 20], "slo": [99.9, 99.99]})
    assert list(frame.columns[:2]) == ["set.replicas", "set.slo"] and frame.columns.is_unique
    assert list(frame["replicas"]) == [10, 10, 20, 20] and list(frame["slo"]) == [99.9, 99.99] * 2
    code, out, _ = run(capsys, "sweep", SCENARIOS / "k-of-n.yaml", "--set", "slo=99.9,99.99", "--replicas", "10")
    assert code == EXIT_OK and "99.99 %: " in out


# --- issue 17, item 12 ------------------------------------------------------------------------------


def test_one_parameter_form_keeps_the_value_as_written(flagship):
    frame = hasim.sweep(flagship, "services.db.failover.detection", ["10s", "1m"], replicas=10)
    assert list(frame["value_as_given"]) == ["10s", "1m"]
    assert list(frame["value"]) == pytest.approx([10 / 3600, 1 / 60])  # the numeric hours stay in `value`
    frame = hasim.sweep(flagship, "services.api.replicas", [3, 4], replicas=10)
    assert list(frame["value_as_given"]) == ["3", "4"] and frame["seed"].dtype == "int64"


def test_cli_table_shows_durations_as_written(capsys):
    code, out, _ = run(capsys, "sweep", SCENARIOS / "k-of-n.yaml", "--set", "services.api.mttr=5h,10h",
                       "--replicas", "20")
    assert code == EXIT_OK
    rows = [line.split()[0] for line in out.splitlines() if line.strip().startswith(("5h", "10h"))]
    assert rows == ["5h", "10h"]


def test_parquet_keeps_seed_and_counts_integer(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    target = tmp_path / "sweep.parquet"
    code, _, err = run(capsys, "sweep", SCENARIOS / "k-of-n.yaml", "--set", "services.api.replicas=3,4",
                       "--replicas", "20", "--precision", "50%", "--out", target, "-q")
    assert code == EXIT_OK, err
    import pyarrow.parquet as pq

    schema = pq.read_schema(target)
    assert str(schema.field("seed").type) == "int64"
    assert str(schema.field("replicas").type) == "int64" and str(schema.field("outages").type) == "int64"


def test_sweep_verdict_says_insufficient_evidence(tmp_path, capsys):
    path = tmp_path / "region.yaml"
    path.write_text("name: region\nslo: 99.999\nentry: api\nzones:\n  region: {mtbf: 50y, mttr: 12h}\n"
                    "services:\n  api: {replicas: 3, zones: [region], mtbf: 1000h, mttr: 1h}\n")
    frame = hasim.sweep(load(path), {"services.api.replicas": [3, 4]}, replicas=20)
    assert set(frame["slo_verdict"]) == {"insufficient-evidence"} and set(frame["outages"]) == {0}
    code, out, _ = run(capsys, "sweep", path, "--set", "services.api.replicas=3,4", "--replicas", "20")
    assert code == EXIT_OK and out.count("insufficient evidence") == 2 and " met" not in out


def test_sweeping_the_seed_changes_the_seed(capsys):
    frame = hasim.sweep(load(SCENARIOS / "k-of-n.yaml"), {"seed": [1, 2]}, replicas=20)
    assert list(frame["set.seed"]) == list(frame["seed"]) == [1, 2]
    assert frame["request_availability"].nunique() == 2
    fixed = hasim.sweep(load(SCENARIOS / "k-of-n.yaml"), {"seed": [1, 2]}, replicas=20, seed=5)
    assert list(fixed["seed"]) == [5, 5]  # an explicit seed still wins, as documented


def test_rto_columns_follow_the_swept_objective(flagship):
    """A looser RTO is breached by no more incidents: same seed, same incidents, a higher bar."""
    frame = hasim.sweep(flagship, {"rto": ["5m", "15m", "1h"]}, replicas=40)
    assert list(frame["rto_hours"]) == pytest.approx([5 / 60, 0.25, 1.0])
    per_year = frame["rto_breaches_per_year"].to_numpy()
    assert (per_year[:-1] >= per_year[1:]).all() and per_year[0] > 0
    assert (frame["rto_breaches_per_year_ci_low"] <= frame["rto_breaches_per_year"]).all()
    assert (frame["rto_breaches_per_year"] <= frame["rto_breaches_per_year_ci_high"]).all()
    single = simulate(flagship.replace(rto=0.25), replicas=40).rto_breaches()
    assert frame["rto_breaches_per_year"][1] == pytest.approx(single["per_year"]["mean"], rel=1e-12)
    without = hasim.sweep(flagship.replace(rto=None), {"services.api.replicas": [3]}, replicas=5)
    assert math.isnan(without["rto_hours"][0]) and math.isnan(without["rto_breaches_per_year"][0])
