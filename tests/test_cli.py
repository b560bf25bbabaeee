"""The command line: subcommands, --help, --version, exit codes and the --json contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from hasim import __version__
from hasim.cli.main import EXIT_INVALID, EXIT_OK, main

from .conftest import SCENARIO_FILES, SCENARIOS


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert __version__ in capsys.readouterr().out
    for command in ([], ["validate"], ["analyze"]):
        with pytest.raises(SystemExit) as exc:
            main(command + ["--help"])
        assert exc.value.code == 0
        assert "usage: hasim" in capsys.readouterr().out


def test_unknown_command_and_missing_argument_are_invalid_input(capsys):
    for argv in (["frobnicate"], ["analyze"], []):
        with pytest.raises(SystemExit) as exc:
            main(argv)
        assert exc.value.code == EXIT_INVALID
        capsys.readouterr()


def test_validate_every_shipped_scenario(capsys):
    code, out, err = run(capsys, "validate", *map(str, SCENARIO_FILES))
    assert code == EXIT_OK, err
    assert out.count(": ok (") == len(SCENARIO_FILES)


def test_validate_reports_every_bad_file_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("entry: api\nservices:\n  api: {failure: {mtbf: -5}, repair: {mttr: 1h}}\n")
    worse = tmp_path / "worse.yaml"
    worse.write_text("entry: api\nservices:\n  api: {failure: {mtbf: 5h}, repair: {mttr: 1h}, replica: 2}\n")
    code, out, err = run(capsys, "validate", str(bad), str(SCENARIOS / "k-of-n.yaml"), str(worse))
    assert code == EXIT_INVALID
    assert f"{bad}: services.api.failure.mtbf: expected a positive duration like '720h', got '-5'" in err
    assert f"{worse}: services.api.replica: unknown key 'replica'; did you mean 'replicas'?" in err
    assert "k-of-n.yaml: ok" in out
    assert "Traceback" not in err


def test_analyze_json_contract(capsys):
    code, out, _ = run(capsys, "analyze", str(SCENARIOS / "k-of-n.yaml"), "--json")
    assert code == EXIT_OK
    doc = json.loads(out)
    assert doc["scenario"] == "k-of-n"
    assert isinstance(doc["request_availability"], float)
    assert doc["time_availability"] == pytest.approx(0.9997079, abs=5e-8)
    assert doc["exact"] is True
    assert [t["tier"] for t in doc["tiers"]] == [99.0, 99.9, 99.99, 99.999]
    assert doc["tiers"][1] == {"tier": 99.9, "allowed_minutes_per_year": 525.6, "met": True}
    # Two failed instances of 2-of-3 still serve half the requests: no cut set of order <= 2.
    assert doc["cut_sets"] == []
    code, out, _ = run(capsys, "analyze", str(SCENARIOS / "standby.yaml"), "--json")
    (pair,) = json.loads(out)["cut_sets"]
    assert pair["order"] == 2 and pair["components"] == ["db[0]", "db[1]"]


def test_analyze_several_files_as_a_json_list(capsys):
    code, out, _ = run(capsys, "analyze", str(SCENARIOS / "k-of-n.yaml"), str(SCENARIOS / "standby.yaml"), "--json")
    assert code == EXIT_OK
    assert [d["scenario"] for d in json.loads(out)] == ["k-of-n", "standby"]


def test_analyze_text_report_of_the_flagship(capsys):
    code, out, _ = run(capsys, "analyze", str(SCENARIOS / "ha-rest-api.yaml"))
    assert code == EXIT_OK
    for words in ("request availability", "time availability", "nines", "SLO 99.99 %", "99.999 %",
                  "single points of failure: none", "minimal cut sets", "delay terms", "exact: false"):
        assert words in out


def test_analyze_keeps_going_after_a_bad_file(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("entry = 'x'\n[services.x\n")
    code, out, err = run(capsys, "analyze", str(bad), str(SCENARIOS / "standby.yaml"))
    assert code == EXIT_INVALID
    assert "not valid TOML" in err and "standby: entry 'db'" in out


def test_python_dash_m_and_console_script_agree():
    done = subprocess.run([sys.executable, "-m", "hasim", "analyze", "-q", str(SCENARIOS / "standby.yaml")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "92.3077 %" in done.stdout


def test_import_hasim_compiles_nothing():
    code = "import sys, hasim; bad = [m for m in ('numba', 'hasim.sim.kernel._loop', 'scipy') if m in sys.modules]; print(bad)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_help_of_the_scale_out_options(capsys):
    for command, words in ((["sweep"], ["--set", "--zip", "--out", "--precision", "--dask"]),
                           (["run"], ["--out-dir", "--resume", "--fail-under-slo", "--precision", "--max-replicas",
                                      "--dask"])):
        with pytest.raises(SystemExit) as exc:
            main(command + ["--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: hasim {command[0]}")
        assert all(w in out for w in words)


# --- issue 17, item 12: what the text output looks like ---------------------------------------------


def test_validate_says_1_service_not_1_services(capsys):
    code, out, _ = run(capsys, "validate", str(SCENARIOS / "k-of-n.yaml"))
    assert code == EXIT_OK and "(1 service, 0 zones," in out


def test_readable_numbers():
    from hasim.cli.tables import _rate, format_duration, minutes, nines_text

    assert format_duration(1000 * 8760) == "1000y" and format_duration(0.5) == "30m"
    assert minutes(8.81e-06) == "0.53 ms" and minutes(0.005) == "300 ms" and minutes(0) == "0 s"
    assert minutes(1e-9) == "< 0.1 ms"
    assert _rate(1.5e-5) == "< 0.001" and _rate(0.0133) == "0.0133"
    assert nines_text(1.0) != "inf nines" and "inf" not in nines_text(1.0)
    assert nines_text(0.9999) == "4.00 nines"


def test_run_output_has_no_exponents_or_inf(capsys):
    # A rare zone under a rare pool: its minutes per year are tiny numbers.
    code, out, _ = run(capsys, "run", str(SCENARIOS / "zones.yaml"), "--replicas", "60")
    assert code == EXIT_OK
    assert not re.search(r"\de[+-]\d", out) and "inf" not in out
    for name in ("zones.yaml", "ha-rest-api.yaml"):  # the cut sets' probabilities keep their 1.2e-05 form
        code, out, _ = run(capsys, "analyze", str(SCENARIOS / name))
        assert code == EXIT_OK and not re.search(r"\de[+-]\d", out.split("minimal cut sets")[0])
        assert "inf" not in out


def test_dask_run_header_names_the_cluster(capsys, monkeypatch):
    import hasim.cli.tables as cli

    class Client:
        class scheduler:
            address = "tcp://10.0.0.5:8786"

        @staticmethod
        def nthreads():
            return {"w1": 2, "w2": 2}

    assert cli._describe_client(Client) == "Dask tcp://10.0.0.5:8786, 2 workers, 4 threads"
    from hasim import load, simulate

    r = simulate(load(SCENARIOS / "k-of-n.yaml"), replicas=20)
    head = cli.format_results(r, where=cli._describe_client(Client)).splitlines()[0]
    assert "numba engine on Dask tcp://10.0.0.5:8786, 2 workers, 4 threads" in head


@pytest.mark.parametrize("command", [["run"], ["report", "--out", "x.html"], ["sweep", "--set", "seed=1,2"]])
def test_a_horizon_override_shorter_than_the_window_is_invalid(capsys, tmp_path, command):
    """`--horizon 1w` on a file with the default monthly window would count no window at all."""
    path = str(SCENARIOS / "k-of-n.yaml")
    argv = [command[0], path, "--horizon", "1w", *command[1:]]
    if command[0] == "report":
        argv[-1] = str(tmp_path / "x.html")
    code, out, err = run(capsys, *argv)
    assert code == EXIT_INVALID
    assert "window" in err and "longer than the horizon" in err
    assert not (tmp_path / "x.html").exists()


def test_an_interval_never_prints_as_a_point():
    """A 2000-replica run of a 4.9-nines design printed '99.9988 % [99.9988 %, 99.9988 %]'."""
    from hasim.text import interval_digits, percent

    mean, lo, hi = 0.9999880, 0.9999878, 0.9999882
    d = interval_digits(mean, lo, hi)
    assert d == 5 and percent(lo, d) != percent(hi, d) == "99.99882 %"
    assert interval_digits(0.9991, 0.9990, 0.9992) == 4          # the usual case keeps its digits
    assert interval_digits(0.5, 0.5, 0.5) == 9                   # no width at all: stops at 9
