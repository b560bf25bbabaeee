"""Recovery time per incident (RTO, measured) and breaches of a stated ``rto``
(:mod:`hasim.results.recovery`).

Closed forms: a single instance with exponential repairs of mean ``m`` has incidents that are its
repairs, so the recovery time is exponential: quantile ``q`` is ``-m ln(1 - q)``, and the incidents
longer than ``r`` are ``exp(-r / m)`` of them, at ``rate x exp(-r / m)`` a year.  The replicas see
about 17 incidents a year each, more than the 16 the kernels keep: the weighted estimates are held
to the whole population.  Tolerances are 4 standard errors, from the intervals themselves
(half-width / 1.96 x 4).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import hasim
from hasim import Scenario
from hasim.errors import ScenarioError
from hasim.sim.engine import simulate

MTBF, MTTR = 500.0, 2.0


def single(**kw) -> Scenario:
    return Scenario(name="one", entry="a", services={"a": {"replicas": 1, "failure": {"mtbf": f"{MTBF}h"},
                                                             "repair": {"mttr": f"{MTTR}h"}}}, **kw)


def _near(est: float, ci, want: float) -> None:
    half = (ci[1] - ci[0]) / 2.0
    assert half > 0, "a zero-width interval"
    assert abs(est - want) <= 4.0 * half / 1.96, f"{est} [{ci[0]}, {ci[1]}] vs exact {want}"
    assert ci[0] <= want <= ci[1] or abs(est - want) <= 4.0 * half / 1.96


@pytest.mark.parametrize("engine, replicas", [("numba", 3000), ("simpy", 200)])
def test_the_recovery_time_of_a_single_instance_is_its_repair_law(engine, replicas):
    res = simulate(single(rto="3h"), replicas=replicas, seed=3, engine=engine)
    assert res.out.outages.max() > res.out.out_cause.shape[1]  # some replicas had more than they keep
    rec = res.recovery.set_index("measure")
    _near(rec.loc["mean", "hours"], (rec.loc["mean", "ci_low"], rec.loc["mean", "ci_high"]), MTTR)
    for q in (0.5, 0.9):
        row = rec.loc[f"p{round(100 * q)}"]
        _near(row.hours, (row.ci_low, row.ci_high), -MTTR * math.log(1.0 - q))
    b = res.rto_breaches()
    share = math.exp(-3.0 / MTTR)
    _near(b["share"]["mean"], b["share"]["ci95"], share)
    per_year = 8760.0 / (MTBF + MTTR) * share
    _near(b["per_year"]["mean"], b["per_year"]["ci95"], per_year)
    # and a 30-minute error in the objective is seen: the test has power
    assert abs(res.rto_breaches("2h30m")["per_year"]["mean"] - per_year) > (b["per_year"]["ci95"][1] - per_year)


def test_a_quantile_without_incidents_beyond_it_gets_no_interval():
    # 40 replicas of ~17 incidents: about 7 beyond the 99th percentile, not enough to bound it.
    res = simulate(single(), replicas=40, seed=1)
    p99 = res.recovery.set_index("measure").loc["p99"]
    assert p99.incidents < 10 and math.isnan(p99.ci_low) and math.isnan(p99.ci_high)
    assert math.isfinite(p99.hours)


def test_a_fixed_repair_is_exact_not_a_zero_width_interval():
    sc = Scenario(name="fixed", entry="a", rto="90m", services={"a": {
        "replicas": 1, "failure": {"mtbf": "100h"}, "repair": {"dist": "fixed", "value": "1h"}}})
    res = simulate(sc, replicas=500, seed=2)
    rec = res.recovery.set_index("measure")
    for m in ("p50", "p90", "p99"):
        assert rec.loc[m, "hours"] == pytest.approx(1.0)
        assert math.isnan(rec.loc[m, "ci_low"]) and rec.loc[m, "exact_share"] == pytest.approx(1.0, abs=0.01)
    b = res.rto_breaches()
    assert b["incidents_over"] == 0 and b["per_year"]["one_sided"] and b["per_year"]["ci95"][1] > 0
    assert res.rto_breaches("30m")["share"]["mean"] == pytest.approx(1.0)


def test_an_incident_cut_by_the_horizon_is_counted_as_censored():
    sc = Scenario(name="cut", entry="a", horizon="100h", window="100h", services={"a": {
        "replicas": 1, "failure": {"dist": "fixed", "value": "99h"}, "repair": {"dist": "fixed", "value": "5h"}}})
    res = simulate(sc, replicas=3, seed=0)
    r = res._recovery
    assert r["censored"] == 3 and r["incidents"] == 3
    assert res.recovery.set_index("measure").loc["p50", "hours"] == pytest.approx(1.0)
    assert res.rto_breaches("30m")["censored"] == 3  # already longer than the objective: breaches


def test_json_and_text_carry_the_recovery_times():
    res = simulate(single(rto="3h"), replicas=300, seed=4)
    doc = res.to_dict()["recovery"]
    assert set(doc) == {"incidents", "recorded", "censored", "mean_hours", "quantiles", "rto"}
    assert [q["q"] for q in doc["quantiles"]] == [0.5, 0.9, 0.99]
    assert doc["rto"]["rto_hours"] == 3.0 and doc["rto"]["breaches_per_year"]["mean"] > 0
    assert simulate(single(), replicas=50, seed=4).to_dict()["recovery"]["rto"] is None
    from hasim.cli.tables import format_results

    text = format_results(res, quiet=True)
    assert "recovery (RTO)" in text and "RTO 3h" in text and "incidents/year take longer" in text


def test_no_incident_no_quantile():
    sc = Scenario(name="quiet", entry="a", rto="1h", services={"a": {"replicas": 3, "mtbf": "50y", "mttr": "1h"}})
    res = simulate(sc, replicas=20)
    assert res.total_outages == 0
    assert res.recovery["hours"].isna().all()
    b = res.rto_breaches()
    assert b["per_year"]["one_sided"] and b["per_year"]["ci95"][1] > 0 and math.isnan(b["share"]["mean"])


@pytest.mark.parametrize("value, words", [("-5", "expected a positive duration"), ("0s", "expected a positive duration"),
                                          ("soon", "expected a positive duration")])
def test_a_bad_rto_is_a_clear_error(tmp_path, value, words):
    path = tmp_path / "bad.yaml"
    path.write_text(f"name: bad\nentry: a\nrto: {value!r}\nservices:\n  a: {{mtbf: 100h, mttr: 1h}}\n")
    with pytest.raises(ScenarioError) as err:
        hasim.load(path)
    assert "rto" in str(err.value) and words in str(err.value) and "bad.yaml" in str(err.value)


def test_weighted_estimates_match_all_incidents_when_every_one_is_kept():
    """With room for every outage the weights are 1 and the estimates are the plain ones."""
    res = simulate(single(), replicas=200, seed=5, keep_outages=64)
    assert (res.out.outages <= 64).all()
    kept = res.out.out_dur[res.out.out_cause >= 0]
    rec = res.recovery.set_index("measure")
    assert rec.loc["mean", "hours"] == pytest.approx(kept.mean())
    assert rec.loc["p50", "hours"] == pytest.approx(np.sort(kept)[math.ceil(0.5 * kept.size) - 1])
