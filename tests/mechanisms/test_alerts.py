"""Alerting: rules on the entry's error ratio evaluated as Prometheus does (hasim.model.alerts), on
both engines, against closed forms.

Closed forms.  A service whose outages are full steps (served 0) lasting exactly 30 min, MTBF 5000 h
(so a window rarely holds the last outage: 1 h / 5000 h), rules evaluated every minute from a
uniform phase ``U``:

* ``error_rate: 5%, for: 2m`` (the ratio at each evaluation): true from the first evaluation after
  the step, ``U`` minutes in; fires 2 min later: detected after ``0.5 + 2`` min on average;
* the guide's ``rate(...[5m]) > 5 % for 2m``: the ratio over the last 5 min is ``d / 5`` after ``d``
  minutes, above 5 % from 15 s on: ``0.25 + 0.5 + 2`` = 2.75 min;
* the SRE workbook's fast burn (``burn_rate: 14.4, long: 1h, short: 5m``, slo 99.9 %): above
  ``14.4 x 0.1 % = 1.44 %`` over the hour from 0.864 min on (the short window much earlier):
  ``0.864 + 0.5`` min;
* ``for: 45m``: longer than every outage, so every incident is missed and nothing pages.

The budget burned before the page equals the time to detect here (a full outage loses a minute of
requests a minute).  Tolerances are 4 standard errors from the intervals, with power checks.
"""

from __future__ import annotations

import numpy as np
import pytest

import hasim
from hasim import Scenario
from hasim.errors import ScenarioError
from hasim.model.mechanisms import knobs
from hasim.sim.engine import simulate

RULES = {"instant": ({"error_rate": "5%", "for": "2m"}, 2.5),
         "guide": ({"error_rate": "5%", "over": "5m", "for": "2m"}, 2.75),
         "fast-burn": ({"burn_rate": 14.4, "long": "1h", "short": "5m"}, 0.864 + 0.5)}
ENGINES = [("numba", 400), ("simpy", 100)]


def steps(alerts, **kw) -> Scenario:
    api = {"failure": {"mtbf": "5000h"}, "repair": {"dist": "fixed", "value": "30m"}}
    return Scenario(name="steps", entry="api", slo=99.9, horizon="50y", services={"api": api}, alerts=alerts, **kw)


def _rows(res, rule):
    return res.alerts[res.alerts.rule == rule].set_index("measure")


@pytest.mark.parametrize("engine, replicas", ENGINES)
def test_each_rule_detects_a_step_outage_when_its_closed_form_says(engine, replicas):
    sc = steps({name: rule for name, (rule, _) in RULES.items()} | {"late": {"error_rate": "5%", "for": "45m"}})
    res = simulate(sc, replicas=replicas, seed=7, engine=engine)
    incidents = int(res.out.outages.sum())
    for name, (_, want) in RULES.items():
        rows = _rows(res, name)
        ttd = rows.loc["minutes to detect"]
        se = (ttd.ci_high - ttd.ci_low) / 3.92
        assert abs(ttd.value - want) <= 4 * se + 0.003 * want, f"{name} ({engine}): {ttd.value} vs {want}"
        assert 4 * se < 0.05 * want, f"{name}: no power"
        burn = rows.loc["budget minutes before page"]
        assert burn.value == pytest.approx(ttd.value, rel=1e-9)  # a full outage: a minute a minute
        assert rows.loc["detected share", "value"] == 1.0 and rows.loc["detected share", "ci_low"] < 1.0
        assert rows.loc["missed/year", "value"] == 0.0
        # One page per incident, but for the rare incident that begins while the rule still fires.
        assert incidents * 0.995 <= rows.loc["pages/year", "value"] * replicas * 50 <= incidents
    late = _rows(res, "late")
    assert late.loc["pages/year", "value"] == 0.0 and late.loc["detected share", "value"] == 0.0
    assert late.loc["missed/year", "value"] * replicas * 50 == pytest.approx(incidents)


def test_rules_measure_and_change_nothing_else():
    """Their phases come from streams of their own and they act on nothing: bit for bit the same run."""
    base = steps({})
    alerted = steps({name: rule for name, (rule, _) in RULES.items()})
    for engine in ("numba", "simpy"):
        a, b = simulate(base, replicas=20, seed=3, engine=engine), simulate(alerted, replicas=20, seed=3, engine=engine)
        assert np.array_equal(a.out.ra, b.out.ra) and np.array_equal(a.out.outages, b.out.outages)
        assert np.array_equal(a.out.loss, b.out.loss)
        assert a.alerts.empty and not b.alerts.empty


def test_short_blips_are_missed_and_partial_loss_below_the_threshold_never_pages():
    """1 min outages with for: 2m are all missed.  The ratio at the evaluation never pages for them;
    the guide's 5 min rate window keeps a blip above 5 % for 4 min after it ended, so it pages for
    every one, late (the on-call is woken for an incident already over).  A pool of 50 losing one
    instance (2 % of the requests) never crosses 5 %, a pool of 10 (10 %) always does."""
    blips = Scenario(name="blips", entry="api", horizon="20y", services={"api": {
        "failure": {"mtbf": "500h"}, "repair": {"dist": "fixed", "value": "1m"}}},
        alerts={"guide": {"error_rate": "5%", "over": "5m", "for": "2m"}, "instant": {"error_rate": "5%", "for": "2m"}})
    res = simulate(blips, replicas=100, seed=1)
    per_year = res.out.outages.sum() / (100 * 20)
    instant, guide = _rows(res, "instant"), _rows(res, "guide")
    assert instant.loc["pages/year", "value"] == 0.0 and instant.loc["missed/year", "value"] == pytest.approx(per_year)
    assert guide.loc["missed/year", "value"] == pytest.approx(per_year, rel=0.01)  # but a blip while it fires
    assert guide.loc["late pages/year", "value"] == pytest.approx(guide.loc["pages/year", "value"], rel=0.01)
    assert guide.loc["late pages/year", "value"] == pytest.approx(per_year, rel=0.01)
    for n, pages in ((50, False), (10, True)):
        pool = Scenario(name="pool", entry="api", horizon="5y", services={"api": {
            "replicas": n, "min_healthy": n, "failure": {"mtbf": f"{100 * n}h"},
            "repair": {"dist": "fixed", "value": "30m"}}}, alerts={"guide": {"error_rate": "5%", "for": "2m"}})
        rows = _rows(simulate(pool, replicas=50, seed=2), "guide")
        assert bool(rows.loc["detected share", "value"] > 0.99) == pages
        assert bool(rows.loc["pages/year", "value"] == 0.0) != pages


def test_the_warm_up_counts_nothing():
    sc = steps({"instant": RULES["instant"][0]})
    a = simulate(sc, replicas=50, seed=5, horizon="10y")
    b = simulate(sc, replicas=50, seed=5, horizon="10y", warmup="5y")
    pa, pb = (_rows(x, "instant").loc["pages/year", "value"] for x in (a, b))
    assert pb == pytest.approx(pa, rel=0.15)  # the same rate: the warm-up's pages are forgotten
    assert int(b.out.al_pages.sum()) <= int(b.out.outages.sum())


def test_the_teaching_scenario_agrees_on_both_engines():
    """burn-rate-alerts.yaml: three shapes of incident, four rules; the engines' pages a year and
    minutes to detect within their intervals."""
    from pathlib import Path

    sc = hasim.load(Path(__file__).parents[2] / "scenarios" / "burn-rate-alerts.yaml")
    a, b = simulate(sc, replicas=800, seed=2), simulate(sc, replicas=200, seed=2, engine="simpy")
    for rule in sc.alerts:
        for measure in ("pages/year", "minutes to detect", "downtime share paged"):
            x, y = _rows(a, rule).loc[measure], _rows(b, rule).loc[measure]
            se = np.hypot((x.ci_high - x.ci_low) / 3.92, (y.ci_high - y.ci_low) / 3.92)
            assert abs(x.value - y.value) <= 4 * se, (rule, measure, x.value, y.value, se)


def test_the_report_shows_each_rule():
    from hasim.present.report import render_report

    sc = steps({name: rule for name, (rule, _) in RULES.items()})
    html = render_report(simulate(sc, replicas=20, seed=1), sc, compute_sensitivity=False)
    table = html[html.index('<h3 id="alerts">'):]
    assert all(f"<td>{name}</td>" in table for name in RULES)
    assert "What the alert rules catch" not in render_report(simulate(steps({}), replicas=5), steps({}),
                                                             compute_sensitivity=False)


def test_the_json_and_the_run_line():
    from hasim.cli.tables import format_results

    res = simulate(steps({"instant": RULES["instant"][0]}), replicas=20, seed=1)
    d = res.to_dict()["alerts"]["instant"]
    assert set(d) >= {"pages", "detected", "missed", "late", "pages_per_year", "detected_share",
                      "minutes_to_detect", "budget_minutes_before_page"}
    assert "instant:" in format_results(res) and "pages for 100 % of incidents" in format_results(res)
    assert simulate(steps({}), replicas=5).to_dict()["alerts"] is None


@pytest.mark.parametrize("rule, expected", [
    ({"for": "2m"}, "give one of error_rate"),
    ({"error_rate": "5%", "burn_rate": 2}, "give one of error_rate"),
    ({"burn_rate": 14.4, "long": "1h"}, "a burn-rate rule needs 'short'"),
    ({"burn_rate": 14.4, "long": "5m", "short": "1h"}, "must be shorter than the long one"),
    ({"error_rate": "5%", "over": "90s"}, "expected a whole number of evaluations"),
    ({"error_rate": "5%", "long": "1h"}, "'long' is a burn-rate rule's window"),
    ({"error_rate": "150%"}, "alerts.x.error_rate"),
    ({"error_rate": "5%", "window": "5m"}, "alerts.x.window"),
])
def test_bad_rules_name_the_key(rule, expected):
    with pytest.raises(ScenarioError) as info:
        steps({"x": rule})
    assert expected in str(info.value), str(info.value)


def test_a_burn_rate_needs_an_slo():
    with pytest.raises(ScenarioError, match="alerts.fast.burn_rate: a burn rate is a multiple of the error budget"):
        Scenario(name="x", entry="api", services={"api": {"mtbf": "100h", "mttr": "1h"}},
                 alerts={"fast": {"burn_rate": 14.4, "long": "1h", "short": "5m"}})


def test_the_kernel_refuses_an_output_without_the_rules_columns():
    from hasim.sim import kernel as _kernel
    from hasim.sim.compile import compile_scenario

    m = compile_scenario(steps({"instant": RULES["instant"][0]})).model
    out = _kernel.new_output(2, m.n_causes, m.n_services, 1, 1)  # no alert columns
    with pytest.raises(ValueError, match="fewer alert columns"):
        _kernel.simulate_replicas(m, np.uint64(1), np.int64(0), np.int64(2), 100.0, 730.0, np.int64(1), 0.999, 0.0,
                                  out)


def test_a_sweep_over_a_burn_rate_carries_each_rules_measures():
    """Common random numbers: the same incidents at every point, so a higher burn rate pages later
    and never for more of them."""
    sc = steps({"fast": {"burn_rate": 14.4, "long": "1h", "short": "5m"}})
    table = hasim.sweep(sc, {"alerts.fast.burn_rate": [6, 14.4, 100]}, replicas=50)
    ttd = table["alert.fast.minutes_to_detect"].to_numpy()
    assert (np.diff(ttd) > 0).all()
    assert (table["alert.fast.minutes_to_detect_ci_low"] < ttd).all()
    assert table["downtime_minutes_per_year"].nunique() == 1  # the rules change nothing else


def test_the_solver_leaves_rules_out():
    assert hasim.analyze(steps({"instant": RULES["instant"][0]})).to_dict() == hasim.analyze(steps({})).to_dict()


# -- rules as the detection of a bad release (deploys: {alert: <rule>}) --------------------------------

PER_WEEK, BAD = 14.0, 0.2
LAM = PER_WEEK / 168.0
M = 1.0 / 60.0
GUIDE = {"error_rate": "5%", "over": "5m", "for": "2m"}


def released(alerts=None, oncall=None, **deploys) -> Scenario:
    dp = {"per_week": PER_WEEK, "bad": BAD, "detect": "2h", "rollback": "10m", "alert": "guide", **deploys}
    api = {"replicas": 4, "failure": {"mtbf": "1000000h"}, "repair": {"mttr": "1h"}, "deploys": dp}
    return Scenario(name="alerted", entry="api", slo=99.9, horizon="1y", services={"api": api},
                    alerts={"guide": GUIDE} if alerts is None else alerts, oncall=oncall)


def _per_year(q: float, length: float) -> float:
    """Minutes a year lost by bad releases losing ``q`` request-hours each, each out ``length`` hours."""
    return 60.0 * 8760.0 * q / (1.0 / (LAM * BAD) + length)


def _near(row, want: float, label: str) -> None:
    est, lo, hi = row
    se = (hi - lo) / 3.92
    assert se > 0, f"{label}: a zero-width interval"
    assert abs(est - want) <= 4.0 * se, f"{label}: {est} [{lo}, {hi}] vs {want}"
    assert 4.0 * se < 0.1 * abs(want), f"{label}: no power (4 SE = {4 * se})"


def _stage(res, stage: str):
    row = res.stages.set_index("stage").loc[stage]
    return row["downtime_minutes_per_year"], row["ci_low"], row["ci_high"]


# A bad release failing half its requests (all at once) is a step of 50 % at the entry: the guide's
# 5 min rate is above 5 % 0.5 min in (5 x 5 % / 50 %), the next evaluation U later, the page 2 min
# after that: noticed 3 min in on average (not 2 h, its own detect), then rolled back in 10 min.
# A canary of 4 % failing everything (4 % at the entry) never crosses 5 %: the analysis catches half
# at the end of the 15 min bake; the other half is promoted, the 5 min rate crosses 5 % 0.052 min
# later (0.04 (5 - d) + d > 0.25), and the page comes U + 2 min after that.
_D = (5 * 0.05 - 5 * 0.04) / 0.96
ALERTED = {
    # case: (deploys keys, request-hours before noticed, after, hours out)
    "all_at_once": ({"strategy": "all_at_once", "errors": "50%"}, 0.5 * 3 * M, 0.5 * 10 * M, 13 * M),
    "canary": ({"strategy": "canary", "canary": "4%", "bake": "15m", "catch": "50%", "errors": "100%"},
               (0.04 * 15 + 0.5 * (_D + 0.5 + 2)) * M, (0.5 * 0.04 * 10 + 0.5 * 10) * M,
               (0.5 * 25 + 0.5 * (15 + _D + 0.5 + 2 + 10)) * M),
}
ENGINES_ALERTED = [("numba", 600), ("simpy", 150)]


@pytest.mark.parametrize("engine, replicas", ENGINES_ALERTED)
@pytest.mark.parametrize("case", list(ALERTED))
def test_a_rule_notices_a_bad_release_when_its_closed_form_says(case, engine, replicas):
    keys, before, after, length = ALERTED[case]
    res = simulate(released(**keys), replicas=replicas, seed=21, engine=engine)
    _near(_stage(res, "alerting"), _per_year(before, length), f"{case} alerting ({engine})")
    _near(_stage(res, "rollback"), _per_year(after, length), f"{case} rollback ({engine})")
    assert _stage(res, "detection")[0] == 0.0  # a watched release is charged to the rule, not the monitoring
    paged = _rows(res, "guide").loc["downtime share paged"]
    if case == "canary":  # half the canaries are caught by the analysis before the rule could page
        assert 0.0 <= paged.ci_low < paged.value < paged.ci_high <= 1.0
    else:  # every incident paged for from its start: all of the loss (no interval from no spread)
        assert paged.value == 1.0 and not paged.ci_high <= 1.0


@pytest.mark.parametrize("case", list(ALERTED))
def test_the_solver_gives_the_alerted_term(case):
    keys, before, after, _ = ALERTED[case]
    stages = hasim.analyze(released(**keys)).delays.groupby("stage")["minutes_per_year"].sum()
    first = 60.0 * 8760.0 * LAM * BAD  # one at a time, none skipped
    assert stages["alerting"] == pytest.approx(first * before, rel=2e-3)  # the phase at 256 midpoints
    assert stages["rollback"] == pytest.approx(first * after, rel=1e-9)


def test_a_rule_that_never_fires_leaves_the_release_to_its_own_detect():
    """2 % of the requests failing never crosses 5 %: noticed after detect (2 h), as without the rule."""
    quiet = released(strategy="all_at_once", errors="2%")
    without = quiet.replace({"services.api.deploys.alert": None})
    a, b = hasim.analyze(quiet).delays, hasim.analyze(without).delays
    assert a.minutes_per_year.sum() == pytest.approx(b.minutes_per_year.sum(), rel=1e-9)
    assert set(a.stage) == {"alerting", "rollback"} and set(b.stage) == {"detection", "rollback"}
    res = simulate(quiet, replicas=200, seed=3)
    assert _rows(res, "guide").loc["pages/year", "value"] == 0.0
    _near(_stage(res, "alerting"), _per_year(0.02 * 2, (120 + 10) * M), "never fires")


@pytest.mark.parametrize("engine, replicas", ENGINES_ALERTED)
def test_a_paged_rollback_waits_for_the_engineer_after_the_page(engine, replicas):
    keys, before, after, length = ALERTED["all_at_once"]
    sc = released(oncall={"respond": "5m"}, paged=True, **keys)
    res = simulate(sc, replicas=replicas, seed=4, engine=engine)
    _near(_stage(res, "response"), _per_year(0.5 * 5 * M, length + 5 * M), f"response ({engine})")
    _near(_stage(res, "alerting"), _per_year(before, length + 5 * M), f"alerting ({engine})")
    assert hasim.analyze(sc).delays.groupby("stage")["minutes_per_year"].sum()["response"] == pytest.approx(
        60 * 8760 * LAM * BAD * 0.5 * 5 * M, rel=1e-9)


def test_a_faster_rule_is_a_knob_and_buys_availability():
    """The rule a release names is a parameter of the design: a shorter 'for' or a lower threshold
    notices sooner (common random numbers: the same releases at every point)."""
    sc = released(strategy="all_at_once", errors="50%")
    kinds = {k.kind: k.path for k in knobs(sc)}
    assert kinds["alert_for"] == "alerts.guide.for" and kinds["alert_threshold"] == "alerts.guide.error_rate"
    assert not [k for k in knobs(released(strategy="all_at_once", alert=None)) if k.kind.startswith("alert_")]
    table = hasim.sweep(sc, {"alerts.guide.for": ["0m", "2m", "10m"]}, replicas=100)
    assert (np.diff(table["downtime_minutes_per_year"].to_numpy()) > 0).all()


def test_a_push_names_a_rule_too():
    sc = Scenario(name="push", entry="api", slo=99.9, horizon="1y", alerts={"guide": GUIDE},
                  services={"api": {"requires": ["db"], "failure": {"mtbf": "1000000h"}, "repair": {"mttr": "1h"}},
                            "db": {"failure": {"mtbf": "1000000h"}, "repair": {"mttr": "1h"}}},
                  config_pushes={"flags": {"per_week": PER_WEEK, "bad": BAD, "strategy": "all_at_once",
                                           "errors": "50%", "detect": "2h", "rollback": "10m", "alert": "guide",
                                           "services": ["api", "db"]}})
    # Both at 50 %: the entry fails 75 %; the 5 min rate crosses 5 % 1/3 min in.
    length = (5 * 0.05 / 0.75 + 0.5 + 2 + 10) * M
    res = simulate(sc, replicas=400, seed=8)
    _near(_stage(res, "alerting"), _per_year(0.75 * (length - 10 * M), length), "push alerting")
    stages = hasim.analyze(sc).delays.groupby("stage")["minutes_per_year"].sum()
    assert stages["alerting"] == pytest.approx(60 * 8760 * LAM * BAD * 0.75 * (length - 10 * M), rel=2e-3)


@pytest.mark.parametrize("where, expected", [
    ({"services.api.deploys.alert": "fast"}, "services.api.deploys.alert: no alert rule 'fast' (rules: guide)"),
])
def test_a_release_names_a_rule_that_exists(where, expected):
    with pytest.raises(ScenarioError) as exc:
        released(strategy="all_at_once").replace(where)
    assert expected in str(exc.value)
    with pytest.raises(ScenarioError, match="no alert rule 'guide' \\(rules: none"):
        released(alerts={}, strategy="all_at_once")


def test_a_share_near_one_has_no_interval_above_it():
    """The delta method's interval is symmetric: at a share of 0.998 it reached past 1."""
    from hasim.results.alerts import _ratio

    lost = np.full(50, 10.0)
    paged = lost.copy()
    paged[0] = 9.0
    assert _ratio(paged, lost)["ci95"][1] > 1.0
    lo, hi = _ratio(paged, lost, share=True)["ci95"]
    assert lo < 0.998 < hi == 1.0


# -- the noise: spikes the rules see and the SLO does not count (alert_noise) ---------------------------

NOISY = {"any": {"error_rate": "5%"}, "longer": {"error_rate": "5%", "for": "1m"}, "guide": GUIDE,
         "fast-burn": {"burn_rate": 14.4, "long": "1h", "short": "5m"}}


def noisy(**kw) -> Scenario:
    api = {"failure": {"mtbf": "1000000h"}, "repair": {"mttr": "1h"}}
    return Scenario(name="noisy", entry="api", slo=99.9, horizon="1y", services={"api": api}, alerts=NOISY,
                    alert_noise={"per_day": 4, "errors": "10%", "lasting": "40s"}, **kw)


@pytest.mark.parametrize("engine, replicas", [("numba", 200), ("simpy", 40)])
def test_noise_pages_falsely_as_its_closed_form_says(engine, replicas):
    """Spikes of 10 % for 40 s, 4 a day (one at a time: 8760 / (6 h + 40 s) a year).  The ratio at
    each evaluation (every minute, from a uniform phase) sees a spike if an evaluation falls in it:
    40 / 60 of them page.  With for: 1m a spike would need two evaluations in it: only two spikes
    back to back page (rarely).  The guide's 5 min rate sees at most 10 % x 40 s / 5 min = 1.3 %,
    the fast burn's 5 min window the same against 1.44 %: never."""
    res = simulate(noisy(), replicas=replicas, seed=1, engine=engine)
    false = res.alerts[res.alerts.measure == "false pages/year"].set_index("rule")
    want = 8760 / (6 + 40 / 3600) * 2 / 3
    row = false.loc["any"]
    se = (row.ci_high - row.ci_low) / 3.92
    assert abs(row.value - want) <= 4 * se and 4 * se < 0.05 * want, (row.value, want, se)
    assert 0 < false.loc["longer", "value"] < 0.005 * want
    assert false.loc["guide", "value"] == 0.0 and false.loc["fast-burn", "value"] == 0.0
    assert false.loc["guide", "ci_high"] > 0.0  # no evidence of zero, only of little
    rows = _rows(res, "any")
    assert rows.loc["late pages/year", "value"] == 0.0
    # Every page is the noise's but for the rare instance failure (MTBF 10^6 h) it paged for.
    assert row.value <= rows.loc["pages/year", "value"] <= row.value * 1.001


def test_noise_costs_no_availability_and_moves_no_other_draw():
    """The spikes come from a stream of their own and fail no request: the same histories, bit for bit."""
    quiet = noisy().replace({"alert_noise": None})
    for engine in ("numba", "simpy"):
        a, b = (simulate(x, replicas=10, seed=2, engine=engine) for x in (quiet, noisy()))
        assert np.array_equal(a.out.ra, b.out.ra) and np.array_equal(a.out.loss, b.out.loss)
        assert a.out.al_false.sum() == 0 < b.out.al_false.sum()


def test_a_real_incident_still_pages_as_late_not_false():
    """The guide's window holds a blip that ended (tests above): those pages stay late, with noise too."""
    sc = Scenario(name="blips", entry="api", horizon="20y", services={"api": {
        "failure": {"mtbf": "500h"}, "repair": {"dist": "fixed", "value": "1m"}}}, alerts={"guide": GUIDE},
        alert_noise={"per_day": 0.01, "errors": "1%", "lasting": "10s"})
    rows = _rows(simulate(sc, replicas=50, seed=1), "guide")
    assert rows.loc["late pages/year", "value"] > 10 and rows.loc["false pages/year", "value"] == 0.0


def test_noise_needs_a_rule_to_see_it():
    with pytest.raises(ScenarioError, match="alert_noise: noise is what alert rules see"):
        Scenario(name="x", entry="api", services={"api": {"mtbf": "10h", "mttr": "1h"}},
                 alert_noise={"per_day": 1, "errors": "5%", "lasting": "1m"})
    with pytest.raises(ScenarioError, match="alert_noise.lasting"):
        noisy().replace({"alert_noise.lasting": "-1m"})
