"""Chaos experiments (hasim.model.chaos, hasim.chaos, hasim chaos): closed forms on both engines,
the engines against each other, validation, the shipped experiments as CI gates."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import hasim
from hasim import Experiment, ScenarioError, chaos, load, loads, load_experiment
from hasim.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
FLAGSHIP = ROOT / "scenarios" / "ha-rest-api.yaml"
CHAOS = ROOT / "scenarios" / "chaos"
ENGINES = ["numba", "simpy"]
S = 1.0 / 3600.0

STANDBY = """
name: sb
entry: db
services:
  db:
    mode: standby
    replicas: 2
    zones: [a, b]
    failure: {mtbf: 1000h}
    repair: {dist: fixed, value: 10h}
    failover: {detection: 30s, promotion: 60s, manual: 20m}
zones:
  region: {mtbf: 1000h, mttr: 1h}
  a: {mtbf: 1000h, mttr: 1h, within: region}
  b: {mtbf: 1000h, mttr: 1h, within: region}
"""

POOL = """
name: pool
entry: web
services:
  web:
    replicas: 2
    failure: {mtbf: 1000h}
    repair: {dist: fixed, value: 10h}
    health_check: {interval: 10s, unhealthy_threshold: 3, healthy_threshold: 2}
"""


def _exp(**kw) -> Experiment:
    return Experiment(name="t", **kw)


def _within(mean: float, lo: float, hi: float, value: float, k: float = 2.0) -> bool:
    """``value`` inside the 95 % interval widened to ``k`` half-widths (k = 2: about 4 SE)."""
    half = (hi - lo) / 2.0
    return abs(mean - value) <= k * half


# -- closed forms, both engines ---------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_killing_the_active_instance_costs_detection_plus_promotion(engine):
    r = chaos(loads(STANDBY), _exp(faults=[{"kill": "db", "at": "5m"}], duration="20m"), replicas=8, engine=engine)
    m = r.measures()
    assert m.loc["time_to_recover", "exact"] and m.loc["time_to_recover", "mean"] == pytest.approx(90 * S, abs=1e-9)
    assert m.loc["lost", "mean"] == pytest.approx(90 * S, abs=1e-9)
    assert m.loc["min_served", "mean"] == 0.0
    assert math.isnan(m.loc["time_to_recover", "ci_low"])  # exact: no (zero-width) interval
    stages = r.lost_by_stage().set_index("stage")
    assert list(stages.index) == ["failover"] and stages.loc["failover", "lost_minutes"] == pytest.approx(1.5)
    # The timeline: full until 5m, 0 for the 90 s (9 steps of 10 s), full again.
    tl = r.timeline()
    e = tl[tl.service == "db"].set_index("time_h")["served"].to_numpy()
    expected = np.r_[np.ones(30), np.zeros(9), np.ones(len(e) - 39)]
    np.testing.assert_allclose(e, expected, atol=1e-9)  # (steps end at 24 h + k * 10 s: rounding)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_failed_promotion_waits_for_the_manual_failover(engine):
    r = chaos(loads(STANDBY), _exp(faults=[{"kill": "db", "at": "5m"}, {"failover_fails": "db"}], duration="40m"),
              replicas=4, engine=engine)
    assert r.measures().loc["time_to_recover", "mean"] == pytest.approx(30 * S + 60 * S + 20 / 60, abs=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_zone_and_its_region_hold_their_instances_for_the_fault(engine):
    sc = loads(STANDBY)
    # Zone a holds the active instance: a failover.  The region holds both: down for the whole fault.
    r = chaos(sc, _exp(faults=[{"zone": "a", "at": "1m", "for": "10m"}], duration="30m"), replicas=3, engine=engine)
    assert r.measures().loc["time_to_recover", "mean"] == pytest.approx(90 * S, abs=1e-9)
    r = chaos(sc, _exp(faults=[{"zone": "region", "at": "1m", "for": "10m"}], duration="30m"), replicas=3,
              engine=engine)
    m = r.measures()
    assert m.loc["time_to_recover", "mean"] == pytest.approx(10 / 60, abs=1e-9)
    assert r.lost_by_stage()["stage"].tolist() == ["fault"]  # the attribution's zone stage


@pytest.mark.parametrize("engine", ENGINES)
def test_a_probed_pool_detects_a_dead_instance_after_k_minus_a_half_intervals(engine):
    """2 instances, probes every i = 10 s at a uniform phase, k = 3 failures: the dead instance is
    routed for (k - 1) i + U i, U uniform on [0, 1) (mean 25 s), and half the requests fail meanwhile."""
    n = 400 if engine == "numba" else 60
    r = chaos(loads(POOL), _exp(faults=[{"kill": "web", "at": "2m", "for": "1h"}], duration="10m", resolution="5s"),
              replicas=n, engine=engine)
    d = r.per_replica["time_to_detect"].to_numpy() / S
    assert d.min() >= 20.0 - 1e-6 and d.max() <= 30.0 + 1e-6
    assert stats.kstest((d - 20.0) / 10.0, "uniform").pvalue > 1e-3
    m = r.measures()
    assert _within(m.loc["time_to_detect", "mean"], m.loc["time_to_detect", "ci_low"], m.loc["time_to_detect", "ci_high"],
                   25 * S)
    np.testing.assert_allclose(r.per_replica["lost"], 0.5 * r.per_replica["time_to_detect"], rtol=1e-9)
    np.testing.assert_allclose(r.per_replica["time_to_recover"], r.per_replica["time_to_detect"], rtol=1e-9)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_kill_lasts_a_draw_of_the_repair_law_by_default(engine):
    sc = loads(POOL.replace("{dist: fixed, value: 10h}", "{mttr: 2m}").replace(
        "    health_check: {interval: 10s, unhealthy_threshold: 3, healthy_threshold: 2}\n", "    min_healthy: 2\n"))
    n = 400 if engine == "numba" else 80
    r = chaos(sc, _exp(faults=[{"kill": "web", "at": "1m"}], duration="2h", resolution="1m"), replicas=n,
              engine=engine)
    x = r.per_replica["time_to_recover"].to_numpy()
    assert stats.kstest(x / (2 / 60), "expon").pvalue > 1e-3  # exponential, mean 2 min
    m = r.measures().loc["time_to_recover"]
    assert _within(m["mean"], m["ci_low"], m["ci_high"], 2 / 60)


def test_the_engines_agree_with_background_failures():
    """The flagship's database primary killed over its own random failures: every measure's
    means within about 4 standard errors of each other."""
    sc = load(FLAGSHIP)
    exp = load_experiment(CHAOS / "db-failover.yaml").model_copy(update={"background": True})
    a = chaos(sc, exp, replicas=400, engine="numba").per_replica
    b = chaos(sc, exp, replicas=80, engine="simpy").per_replica
    for key in ("time_to_detect", "lost", "min_served", "writes_lost"):
        x, y = a[key].to_numpy(), b[key].to_numpy()
        se = math.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
        assert abs(x.mean() - y.mean()) <= 4 * se + 1e-12, key


def test_every_service_run_replays_the_same_histories():
    """The per-service timelines are the same replicas measured elsewhere: each service's mean served
    fraction in its own run equals the one the entry's run recorded, replica by replica."""
    exp = _exp(faults=[{"kill": "db", "at": "5m"}], background=True, duration="2h")
    for engine, n in (("numba", 64), ("simpy", 8)):
        r = chaos(load(FLAGSHIP), exp, replicas=n, engine=engine)
        entry = r.runs["edge"]
        for i, name in enumerate(r.labels.services):
            np.testing.assert_allclose(entry.svc_ra[:, i], r.runs[name].ra, rtol=0, atol=1e-12)


def test_same_seed_same_result_and_the_seed_matters():
    exp = load_experiment(CHAOS / "db-failover.yaml")
    sc = load(FLAGSHIP)
    a = chaos(sc, exp, replicas=50).per_replica
    b = chaos(sc, exp, replicas=50).per_replica
    c = chaos(sc, exp, replicas=50, seed=7).per_replica
    assert a.equals(b)
    assert not a["time_to_detect"].equals(c["time_to_detect"])


@settings(max_examples=8, deadline=None)
@given(st.floats(1.0, 20.0), st.floats(1.0, 20.0))
def test_a_longer_outage_never_recovers_sooner(d1, d2):
    sc = loads(STANDBY)
    r = [chaos(sc, _exp(faults=[{"zone": "region", "at": "1m", "for": f"{d}m"}], duration="30m"), replicas=2)
         .measures().loc["time_to_recover", "mean"] for d in sorted((d1, d2))]
    assert r[0] <= r[1] + 1e-12


def test_a_latency_fault_trips_the_breaker():
    """circuit-breaker.yaml: recommendations 5 s slower than the API's 2 s timeout for 10 minutes.
    The breaker opens after its 10 s window (workers held waiting meanwhile: the API serves 1/21 of
    its capacity's worth... about 10 %) and the pages are served without recommendations from then
    on: the API never collapses.  Without the breaker it collapses after its 1 minute grace."""
    sc = load(ROOT / "scenarios" / "circuit-breaker.yaml")
    r = chaos(sc, _exp(faults=[{"latency": "recommendations", "add": "5s", "at": "1m", "for": "10m"}],
                       duration="20m", resolution="1s"), replicas=4)
    assert r.measures().loc["time_to_recover", "mean"] == pytest.approx(10 * S, abs=1e-6)
    assert r.measures().loc["lost", "mean"] < 10 * S
    no_breaker = sc.replace({"services.api.breakers": {}})
    r = chaos(no_breaker, _exp(faults=[{"latency": "recommendations", "add": "5s", "at": "1m", "for": "10m"}],
                               duration="20m", resolution="1s"), replicas=4)
    assert r.measures().loc["time_to_recover", "mean"] > 9 / 60  # down from the collapse until the fault ends


# -- validation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("body, expected", [
    ("faults: []", "faults: "),
    ("faults: [{kill: api}]", "faults.0.at: a kill fault needs 'at'"),
    ("faults: [{zone: a, at: 5m}]", "faults.0.for: a zone fault needs 'for'"),
    ("faults: [{kill: api, zone: a, at: 1m}]", "faults.0.zone: one fault per item"),
    ("faults: [{kill: api, at: -5}]", "faults.0.at: expected a non-negative duration"),
    ("faults: [{kil: api, at: 1m}]", "faults.0.kil"),
    ("faults: [{kill: api, at: 1m}]\nexpect: {min_served: 150%}", "expect.min_served: expected a share"),
    ("faults: [{kill: api, at: 1m}]\nexpect: {}", "expect: expect needs at least one"),
    ("faults: [{at: 1m}]", "faults.0: a fault needs one of"),
    ("faults: [{kill: api, at: 1m}]\nexpect: {services: {api: {}}}", "expect.services.api: give recovers_within"),
    ("faults: [{kill: api, at: 2h}]", "faults.0.at: the fault starts at or after the end"),
    ("faults: [{failover_fails: db}]", "faults: failover_fails only changes"),
    ("faults: [{failover_fails: db, at: 1m}]", "faults.0.at: failover_fails holds for the whole experiment"),
    ("faults: [{latency: db, at: 1m, for: 1m}]", "faults.0.add: latency needs 'add'"),
    ("faults: [{kill: api, at: 1m}]\nreplicas: 0", "replicas: "),
    ("faults: [{kill: api, at: 1m}]\nbogus: 1", "bogus"),
])
def test_bad_experiment_files_name_the_file_and_the_key(tmp_path, body, expected):
    f = tmp_path / "exp.yaml"
    f.write_text(body + "\n")
    with pytest.raises(ScenarioError) as info:
        load_experiment(f)
    text = str(info.value)
    assert text.startswith(str(f)) and expected in text, text


@pytest.mark.parametrize("fault, expected", [
    ({"kill": "apx", "at": "1m"}, "faults.0.kill: no service 'apx' in scenario 'ha-rest-api' (it has: edge"),
    ({"zone": "eu-west-9", "at": "1m", "for": "1m"}, "faults.0.zone: no zone 'eu-west-9'"),
    ({"kill": "edge", "at": "1m"}, "faults.0.kill: 'edge' is a router without instances"),
    ({"kill": "api", "count": 5, "at": "1m"}, "faults.0.count: 'api' has 4 instance(s) per shard, not 5"),
    ({"latency": "db", "add": "200ms", "at": "1m", "for": "1m"},
     "faults.0: 'api' calls 'db' without a timeout: hasim models latency only through callers' timeouts"),
])
def test_faults_the_scenario_cannot_take_are_errors(fault, expected):
    with pytest.raises(ScenarioError) as info:
        chaos(load(FLAGSHIP), _exp(faults=[fault, {"kill": "api", "at": "1m"}]), replicas=1)
    assert expected in str(info.value)


def test_failover_fails_needs_a_failover():
    with pytest.raises(ScenarioError, match="'api' has no failover"):
        chaos(load(FLAGSHIP), _exp(faults=[{"kill": "api", "at": "1m"}, {"failover_fails": "api"}]), replicas=1)


def test_the_command_line_says_what_is_wrong_and_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("faults: [{kill: apx, at: 1m}]\n")
    assert main(["chaos", str(FLAGSHIP), str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: faults.0.kill: no service 'apx'" in err and "Traceback" not in err


# -- the shipped experiments: CI gates ------------------------------------------------------------

WORSE = {
    # experiment -> (a change to the flagship that the experiment must catch, the expectation that fails)
    "pod-kill": ({"services.api.retry": False}, "min_served"),
    "az-loss": ({"services.sessions.zones": ["eu-west-1b", "eu-west-1a"]}, "min_served"),
    "db-failover": ({"services.db.failover.promotion": "5m"}, "db.recovers_within"),
}


def test_every_shipped_experiment_is_tested():
    assert {p.stem for p in CHAOS.glob("*.yaml")} == set(WORSE) | {"breaker-trips"}


@pytest.mark.parametrize("name", sorted(WORSE))
def test_the_guide_experiments_pass_as_shipped_and_fail_when_made_worse(name, tmp_path, capsys):
    exp = CHAOS / f"{name}.yaml"
    assert main(["chaos", str(FLAGSHIP), str(exp), "--quiet"]) == 0
    assert ": PASSED" in capsys.readouterr().out
    changes, key = WORSE[name]
    worse = tmp_path / "worse.yaml"
    worse.write_text(hasim.dump(load(FLAGSHIP).replace(changes)))
    assert main(["chaos", str(worse), str(exp), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert ": FAILED" in out and f"FAIL {key}" in out, out


def test_the_breaker_experiment_passes_and_fails_without_the_breaker(tmp_path, capsys):
    sc_path = ROOT / "scenarios" / "circuit-breaker.yaml"
    exp = CHAOS / "breaker-trips.yaml"
    assert main(["chaos", str(sc_path), str(exp), "-q"]) == 0
    worse = tmp_path / "no-breaker.yaml"
    worse.write_text(hasim.dump(load(sc_path).replace({"services.api.breakers": {}})))
    assert main(["chaos", str(worse), str(exp), "-q"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_json_output_and_the_chart(tmp_path, capsys):
    png = tmp_path / "t.png"
    assert main(["chaos", str(FLAGSHIP), str(CHAOS / "db-failover.yaml"), "--json", "--replicas", "20",
                 "--plot", str(png)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["experiment"] == "db-failover" and d["passed"] is True and d["replicas"] == 20
    assert set(d["measures"]) == {"time_to_detect", "time_to_recover", "time_to_full_health", "min_served", "lost",
                                  "writes_lost"}
    assert set(d["measures"]["lost"]) == {"label", "unit", "mean", "ci95", "exact", "p50", "p95", "worst",
                                          "unrecovered"}
    assert [x["expectation"] for x in d["expectations"]] == ["lost_at_most", "db.recovers_within"]
    steps = len(d["timeline"]["time_hours"])
    assert steps == 360 and len(d["timeline"]["served"]["edge"]["mean"]) == steps
    assert set(d["timeline"]["served"]) >= {"edge", "db", "api"}
    assert png.stat().st_size > 10_000


def test_the_chart_draws_on_the_axes_it_is_given():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = chaos(load(FLAGSHIP), load_experiment(CHAOS / "db-failover.yaml"), replicas=10)
    fig, ax = plt.subplots()
    assert hasim.plot.chaos_timeline(r, ax=ax) is ax
    assert hasim.plot.chaos_timeline(r).figure is not fig
