"""Batch runs: ``hasim run FILES --out-dir DIR`` (same numbers as single runs, failures reported and
survived, atomic writes, --resume, --fail-under-slo) and the scale-out options of ``hasim run``."""

from __future__ import annotations

import json
import shutil

import pytest

from hasim import load, simulate
from hasim.studies.batch import TABLES, atomic_write, fingerprint, run_batch
from hasim.cli.main import EXIT_ERROR, EXIT_INVALID, EXIT_OK, main

from .conftest import SCENARIO_FILES, SCENARIOS

pd = pytest.importorskip("pandas")

REPLICAS = "12"
BAD = "entry: api\nservices:\n  api: {failure: {mtbf: -5}, repair: {mttr: 1h}}\n"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def copy(tmp_path, *names):
    folder = tmp_path / "scenarios"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(SCENARIOS / name, folder / name)
    return folder


@pytest.fixture
def count_runs(monkeypatch):
    """Count simulations per scenario name (they still run)."""
    import hasim.sim.engine

    real, calls = hasim.sim.engine.simulate, []

    def counting(sc, *args, **kwargs):
        calls.append(sc.name)
        return real(sc, *args, **kwargs)

    monkeypatch.setattr(hasim.sim.engine, "simulate", counting)
    return calls


def test_a_batch_over_every_shipped_scenario_matches_the_single_runs(tmp_path, capsys):
    out_dir = tmp_path / "results"
    code, out, err = run(capsys, "run", *SCENARIO_FILES, "--out-dir", out_dir, "--replicas", REPLICAS)
    assert code == EXIT_OK, err
    for path in SCENARIO_FILES:
        document = json.loads((out_dir / f"{path.stem}.result.json").read_text())
        single = simulate(load(path), replicas=int(REPLICAS)).to_dict()
        assert document["metrics"] == single["metrics"], path.name
        assert document["tiers"] == single["tiers"]
        assert document["batch"]["file"] == str(path) and len(document["batch"]["fingerprint"]) == 64
        for table in TABLES:
            assert (out_dir / f"{path.stem}.{table}.csv").exists()
        summary = pd.read_csv(out_dir / f"{path.stem}.summary.csv")
        ra = summary.set_index("metric").loc["request_availability", "mean"]
        assert ra == pytest.approx(single["metrics"]["request_availability"]["mean"], rel=1e-12)
    assert f"hasim run: {len(SCENARIO_FILES)} scenarios: {len(SCENARIO_FILES)} ran" in err
    assert not [p for p in out_dir.iterdir() if p.name.endswith(".tmp")]


def test_a_broken_file_among_good_ones(tmp_path, capsys, monkeypatch):
    folder = copy(tmp_path, "k-of-n.yaml", "standby.yaml", "quorum.yaml")
    (folder / "bad.yaml").write_text(BAD)
    import hasim.sim.engine

    real = hasim.sim.engine.simulate

    def crash_on_standby(sc, *args, **kwargs):
        if sc.name == "standby":
            raise RuntimeError("worker lost")
        return real(sc, *args, **kwargs)

    monkeypatch.setattr(hasim.sim.engine, "simulate", crash_on_standby)
    files = sorted(folder.glob("*.yaml"))
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "run", *files, "--out-dir", out_dir, "--replicas", REPLICAS)
    assert code == EXIT_INVALID  # an invalid file outranks a failed run; both are non-zero
    assert f"{folder / 'bad.yaml'}: services.api.failure.mtbf: expected a positive duration" in err
    assert f"{folder / 'standby.yaml'}: RuntimeError: worker lost" in err
    assert "Traceback" not in err
    assert "2 ran; 1 invalid" in err and "1 failed" in err
    for good in ("k-of-n", "quorum"):
        assert (out_dir / f"{good}.result.json").exists()
    assert not list(out_dir.glob("standby.*")) and not list(out_dir.glob("bad.*"))
    # Without the invalid file the failure alone exits 1.
    code, _, err = run(capsys, "run", folder / "k-of-n.yaml", folder / "standby.yaml", "--out-dir", out_dir,
                       "--replicas", REPLICAS, "-q")
    assert code == EXIT_ERROR and "worker lost" in err


def test_resume_skips_what_is_up_to_date_and_reruns_what_changed(tmp_path, capsys, count_runs):
    folder = copy(tmp_path, "k-of-n.yaml", "standby.yaml")
    files = sorted(folder.glob("*.yaml"))
    out_dir = tmp_path / "out"
    args = ["run", *files, "--out-dir", out_dir, "--replicas", REPLICAS, "-q"]
    assert run(capsys, *args)[0] == EXIT_OK
    assert sorted(count_runs) == ["k-of-n", "standby"]
    before = (out_dir / "k-of-n.result.json").read_text()

    count_runs.clear()
    code, _, err = run(capsys, *args[:-1], "--resume")  # not quiet: says what it skipped
    assert code == EXIT_OK and count_runs == []
    assert "k-of-n.yaml: up to date" in err and "2 up to date (skipped)" in err
    assert (out_dir / "k-of-n.result.json").read_text() == before

    # A comment or a re-spelt duration is the same scenario: still skipped.
    text = (folder / "k-of-n.yaml").read_text()
    (folder / "k-of-n.yaml").write_text("# reviewed\n" + text)
    code, _, _ = run(capsys, *args, "--resume")
    assert code == EXIT_OK and count_runs == []

    # A changed value re-runs that scenario only.
    sc = load(folder / "standby.yaml")
    (folder / "standby.yaml").write_text((folder / "standby.yaml").read_text().replace(
        f"seed: {sc.seed}", f"seed: {sc.seed + 1}") if f"seed: {sc.seed}" in (folder / "standby.yaml").read_text()
        else (folder / "standby.yaml").read_text() + f"\nseed: {sc.seed + 1}\n")
    code, _, _ = run(capsys, *args, "--resume")
    assert code == EXIT_OK and count_runs == ["standby"]

    # Changed options re-run everything; a missing table re-runs its scenario.
    count_runs.clear()
    code, _, _ = run(capsys, "run", *files, "--out-dir", out_dir, "--replicas", "13", "-q", "--resume")
    assert code == EXIT_OK and sorted(count_runs) == ["k-of-n", "standby"]
    count_runs.clear()
    (out_dir / "k-of-n.windows.csv").unlink()
    code, _, _ = run(capsys, "run", *files, "--out-dir", out_dir, "--replicas", "13", "-q", "--resume")
    assert code == EXIT_OK and count_runs == ["k-of-n"]
    assert run(capsys, "run", *files, "--resume")[0] == EXIT_INVALID  # --resume needs --out-dir


def test_fingerprint_is_the_canonical_scenario_and_the_options():
    a = load(SCENARIOS / "k-of-n.yaml")
    options = {"replicas": 10, "seed": None}
    assert fingerprint(a, options) == fingerprint(a.replace({}), dict(options))
    assert fingerprint(a, options) != fingerprint(a, {**options, "replicas": 11})
    assert fingerprint(a, options) != fingerprint(a.replace({"services.api.replicas": 4}), options)


def test_writes_are_atomic_no_partial_file_on_failure(tmp_path, capsys, monkeypatch):
    target = tmp_path / "x.json"
    target.write_text("old")

    def half_then_crash(tmp):
        with open(tmp, "w") as fh:
            fh.write("{half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        atomic_write(target, half_then_crash)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.json"]

    # In a batch: the windows table fails half-way; nothing of that scenario is left to look complete.
    folder = copy(tmp_path, "k-of-n.yaml", "quorum.yaml")
    out_dir = tmp_path / "out"
    files = sorted(folder.glob("*.yaml"))
    assert run(capsys, "run", *files, "--out-dir", out_dir, "--replicas", REPLICAS, "-q")[0] == EXIT_OK
    real = pd.DataFrame.to_csv

    def flaky(self, path, *args, **kwargs):
        if "k-of-n.windows" in str(path):
            with open(path, "w") as fh:
                fh.write("replica,win")
            raise OSError("disk full")
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", flaky)
    code, _, err = run(capsys, "run", *files, "--out-dir", out_dir, "--replicas", "13", "-q", "--resume")
    assert code == EXIT_ERROR and "k-of-n.yaml: cannot write results" in err and "disk full" in err
    assert not (out_dir / "k-of-n.result.json").exists()  # the stale result is gone, not left looking current
    assert pd.read_csv(out_dir / "k-of-n.windows.csv").shape[1] == 5  # the old table, not half a new one
    assert not [p for p in out_dir.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")]
    assert json.loads((out_dir / "quorum.result.json").read_text())["replicas"] == 13
    monkeypatch.setattr(pd.DataFrame, "to_csv", real)
    assert run(capsys, "run", *files, "--out-dir", out_dir, "--replicas", "13", "-q", "--resume")[0] == EXIT_OK
    assert json.loads((out_dir / "k-of-n.result.json").read_text())["replicas"] == 13


def test_fail_under_slo(tmp_path, capsys):
    folder = tmp_path / "designs"
    folder.mkdir()
    weak = "name: weak\nslo: 99.99\nentry: api\nservices:\n  api: {mtbf: 100h, mttr: 10h}\n"
    strong = "name: strong\nslo: 90\nentry: api\nservices:\n  api: {mtbf: 1000h, mttr: 1h}\n"
    (folder / "weak.yaml").write_text(weak)
    (folder / "strong.yaml").write_text(strong)
    code, _, err = run(capsys, "run", folder / "strong.yaml", folder / "weak.yaml", "--replicas", REPLICAS, "-q",
                       "--fail-under-slo")
    assert code == EXIT_ERROR
    assert f"{folder / 'weak.yaml'}: SLO 99.99 % missed: request availability" in err
    assert "strong.yaml: SLO" not in err
    assert run(capsys, "run", folder / "strong.yaml", "--replicas", REPLICAS, "-q", "--fail-under-slo")[0] == EXIT_OK
    assert run(capsys, "run", folder / "weak.yaml", "--replicas", REPLICAS, "-q")[0] == EXIT_OK  # no gate asked
    # Resumed results are gated too.
    out_dir = tmp_path / "out"
    args = ["run", folder / "weak.yaml", "--replicas", REPLICAS, "-q", "--out-dir", out_dir, "--fail-under-slo"]
    assert run(capsys, *args)[0] == EXIT_ERROR
    code, _, err = run(capsys, *[a for a in args if a != "-q"], "--resume")
    assert code == EXIT_ERROR and "up to date" in err and "weak.yaml: SLO 99.99 % missed" in err


def test_run_batch_api_yields_as_it_goes(tmp_path):
    folder = copy(tmp_path, "k-of-n.yaml")
    (folder / "bad.yaml").write_text(BAD)
    outcomes = run_batch([folder / "bad.yaml", folder / "k-of-n.yaml"], tmp_path / "out", replicas=5)
    first = next(outcomes)
    assert first.status == "invalid" and not (tmp_path / "out").exists()
    second = next(outcomes)
    assert second.status == "ok" and second.result.n_replicas == 5
    assert (tmp_path / "out" / "k-of-n.result.json").exists()


def test_run_precision_and_dask_options(tmp_path, capsys):
    k = SCENARIOS / "k-of-n.yaml"
    code, out, err = run(capsys, "run", k, "--replicas", "50", "--precision", "50%", "--max-replicas", "400",
                         "--json")
    assert code == EXIT_OK, err
    doc = json.loads(out)
    assert doc["replicas"] <= 400 and doc["precision"]["target"] == 0.5
    code, out2, _ = run(capsys, "run", k, "--replicas", "50", "--precision", "0.5", "--max-replicas", "400",
                        "--json")
    assert json.loads(out2)["metrics"] == doc["metrics"]
    for bad in (["--precision", "5"], ["--precision", "abc"], ["--precision", "0%"]):
        with pytest.raises(SystemExit) as exc:
            main(["run", str(k), *bad])
        assert exc.value.code == EXIT_INVALID
        capsys.readouterr()
    code, out, _ = run(capsys, "run", k, "--replicas", "50", "--precision", "1%", "--max-replicas", "100", "-q")
    assert code == EXIT_OK and "precision target 1 %: NOT reached, stopped at the --max-replicas cap of 100" in out
    code, _, err = run(capsys, "run", k, "--max-replicas", "10")
    assert code == EXIT_INVALID and "--max-replicas" in err
    code, _, err = run(capsys, "run", k, "--dask", "udp://nowhere")
    assert code == EXIT_INVALID and "--dask" in err and "Traceback" not in err


def test_run_and_sweep_on_a_local_dask_cluster_give_the_local_numbers(tmp_path, capsys):
    pytest.importorskip("distributed")
    k = SCENARIOS / "k-of-n.yaml"
    code, out, err = run(capsys, "sweep", k, "--set", "services.api.replicas=3,4", "--replicas", "300",
                         "--dask", "local:1", "--json", "-q")
    assert code == EXIT_OK, err
    local = run(capsys, "sweep", k, "--set", "services.api.replicas=3,4", "--replicas", "300", "--json", "-q")[1]
    strip = lambda doc: [{m: r[m] for m in r if not m.startswith("elapsed")} for r in doc["rows"]]  # noqa: E731
    assert strip(json.loads(out)) == strip(json.loads(local))


def test_run_out_tables_are_written_atomically(tmp_path, capsys):
    code, _, err = run(capsys, "run", SCENARIOS / "k-of-n.yaml", "--replicas", REPLICAS, "-q",
                       "--out", tmp_path / "t" / "k.csv")
    assert code == EXIT_OK, err
    assert sorted(p.name for p in (tmp_path / "t").iterdir()) == ["k.replicas.csv", "k.summary.csv",
                                                                  "k.windows.csv"]
