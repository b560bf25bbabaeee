"""The SLO verdict (issue 17, item 4): one rule everywhere, never "met" from no evidence, and no
interval outside [0, 100 %] or of zero width printed as if it were certain."""

from __future__ import annotations

import json
import re

import pytest

from hasim import Scenario, simulate
from hasim.studies.batch import slo_status
from hasim.cli.main import EXIT_ERROR, EXIT_OK, main
from hasim.present.report import verdict
from hasim.results.estimate import MIN_OUTAGES, replicas_needed, slo_verdict

#: One region of MTBF 50 y under three API instances: the region is the single point of failure
#: (14.4 min/year down: the exact solver says 99.9973 %, short of 99.999 %), and 20 replicas of a year
#: usually see no region outage at all.
SINGLE_REGION = """\
name: single-region
entry: api
slo: 99.999
zones:
  region: {mtbf: 50y, mttr: 12h}
services:
  api:
    replicas: 3
    zones: [region]
    failure: {mtbf: 1000h}
    repair: {mttr: 1h}
"""


@pytest.fixture
def single_region(tmp_path):
    path = tmp_path / "single-region.yaml"
    path.write_text(SINGLE_REGION)
    return path


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_rule():
    interval = (0.9995, [0.9993, 0.9997])
    assert slo_verdict(99.9, *interval, outages=50, replicas=100)["status"] == "met"
    assert slo_verdict(99.99, *interval, outages=50, replicas=100)["status"] == "not-met"
    assert slo_verdict(99.95, *interval, outages=50, replicas=100)["status"] == "too-close"
    for outages in range(MIN_OUTAGES):
        v = slo_verdict(99.9, *interval, outages=outages, replicas=100)
        assert v["status"] == v["verdict"] == "insufficient-evidence" and v["met"] is True
    assert slo_verdict(99.9, *interval, outages=MIN_OUTAGES, replicas=100)["status"] == "met"
    assert slo_verdict(99.9, *interval, outages=50, replicas=1)["status"] == "insufficient-evidence"
    # The older words stay what the batch JSON and the sweep rows always carried.
    assert [slo_verdict(s, *interval, outages=50)["verdict"] for s in (99.9, 99.99, 99.95)] == \
        ["met", "missed", "uncertain"]
    assert slo_verdict(None, *interval)["status"] == "no-slo"


def test_a_run_without_outages_is_not_met_by_default(single_region, capsys):
    code, out, _ = run(capsys, "run", single_region, "--replicas", "20")
    assert code == EXIT_OK
    assert "no outage observed in 20 replicas x 1 y" in out
    assert "insufficient evidence" in out and re.search(r"about \d+ replicas of 1 y needed to decide", out)
    assert not re.search(r"SLO 99\.999 %\s+met", out)
    assert "[100.0000 %, 100.0000 %]" not in out and "inf" not in out
    # The tier table follows the same rule.
    assert not re.search(r"99\.999 %.*\bmet$", out, re.M)


def test_fail_under_slo_fails_without_evidence(single_region, capsys):
    code, _, err = run(capsys, "run", single_region, "--replicas", "20", "-q", "--fail-under-slo")
    assert code == EXIT_ERROR
    assert "SLO 99.999 % not shown to be met, insufficient evidence" in err
    assert "replicas" in err


def test_fail_under_slo_fails_when_too_close(tmp_path, capsys):
    # An slo of 99.01 % against a design at 99.0099 %: 40 replicas cannot separate them.
    path = tmp_path / "close.yaml"
    path.write_text("name: close\nslo: 99.01\nentry: api\nservices:\n  api: {mtbf: 100h, mttr: 1h}\n")
    code, out, err = run(capsys, "run", path, "--replicas", "40", "--fail-under-slo")
    assert "too close to call" in out
    assert code == EXIT_ERROR and "too close to call" in err


def test_json_carries_the_verdict(single_region, capsys):
    code, out, _ = run(capsys, "run", single_region, "--replicas", "20", "--json")
    assert code == EXIT_OK
    doc = json.loads(out)
    v = doc["slo_verdict"]
    assert v["status"] == "insufficient-evidence" and v["verdict"] == "insufficient-evidence"
    assert v["outages"] == doc["outages"] == 0 and v["min_outages"] == MIN_OUTAGES
    assert isinstance(v["replicas_needed"], int) and v["replicas_needed"] > 20
    assert {t["verdict"] for t in doc["tiers"]} == {"insufficient-evidence"}
    # The batch view of a document is the same verdict, and so is that of a document written before
    # the verdict was stored (its outages counted back from outages_per_year).
    assert slo_status(doc)["status"] == "insufficient-evidence"
    old = {k: v for k, v in doc.items() if k not in ("slo_verdict", "outages")}
    assert slo_status(old)["verdict"] == "insufficient-evidence"


def test_out_dir_json_keeps_the_batch_keys(single_region, tmp_path, capsys):
    out_dir = tmp_path / "out"
    assert run(capsys, "run", single_region, "--replicas", "20", "-q", "--out-dir", out_dir)[0] == EXIT_OK
    stored = json.loads((out_dir / "single-region.result.json").read_text())["batch"]["slo"]
    assert {"slo", "mean", "ci95", "met", "verdict"} <= set(stored)
    assert stored["verdict"] == "insufficient-evidence"


def test_enough_replicas_decide(single_region):
    from hasim import load

    sc = load(single_region)
    need = replicas_needed(sc, 99.999, sc.horizon)
    assert need["method"] == "exact solver" and need["unavailability"] == pytest.approx(12 / (50 * 8760 + 12),
                                                                                       rel=1e-3)
    # 3 outages at 0.02 a year need 150 replicas; the interval needs ~950 to clear 99.999 %.
    assert 500 < need["replicas"] < 2000
    r = simulate(sc, replicas=need["replicas"], seed=1)
    assert r.slo_verdict()["status"] in ("not-met", "too-close")


def test_no_interval_goes_above_100_percent(single_region, capsys):
    from hasim import load

    r = simulate(load(single_region), replicas=300)  # a handful of outages: the normal interval overshoots
    for name in ("request_availability", "time_availability"):
        mean, (lo, hi) = r.metric(name)["mean"], r.metric(name)["ci95"]
        assert 0.0 <= lo <= mean <= hi <= 1.0
    assert (r.services["ci_high"] <= 1.0).all()
    code, out, _ = run(capsys, "run", single_region, "--replicas", "300")
    percents = [float(x) for x in re.findall(r"(\d+\.\d+) %", out)]
    assert percents and max(percents) <= 100.0


def test_report_verdict_uses_the_same_rule(single_region):
    from hasim import load

    r = simulate(load(single_region), replicas=20)
    v = verdict(r)
    assert v["status"] == "insufficient-evidence" and "not enough evidence" in v["headline"]
    assert "replicas" in v["detail"]


def test_a_trivially_reliable_run_still_decides_with_outages():
    sc = Scenario(name="ok", entry="api", slo=90, services={"api": {"mtbf": "100h", "mttr": "1h"}})
    r = simulate(sc, replicas=20)
    assert r.total_outages >= MIN_OUTAGES and r.slo_verdict()["status"] == "met"


def test_help_documents_the_gate_and_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "exit codes: 0 success, 1 failure, 2 invalid input" in out
    assert "insufficient evidence" in out and "too close to call" in out and "%%" not in out


def test_report_verdict_rejects_an_slo_given_as_a_fraction():
    """verdict(results, slo=0.9999) read the fraction as 0.9999 % and called a 98 % design 'met'."""
    from hasim import load

    from .conftest import SCENARIOS

    res = simulate(load(SCENARIOS / "k-of-n.yaml"), replicas=50)
    with pytest.raises(ValueError, match="a fraction"):
        verdict(res, slo=0.9999)
