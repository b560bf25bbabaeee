"""Changes: bad releases exposed as the rollout strategy exposes them, noticed, rolled back
(hasim.model.deploys), on both engines, against closed forms and ``hasim analyze``.

Closed forms.  Releases come as a Poisson stream of rate ``lambda``, each bad with probability
``p``; one that finds a bad release still out is skipped.  After an incident ends the next bad
release is ``Exp(lambda p)`` away (memoryless), so incidents and the gaps between them alternate as
a renewal process: with an incident lasting ``L`` (noticed + rollback) and losing ``Q`` request-hours
(``errors x`` the integral of its exposure), the long-run loss is ``Q / (1 / (lambda p) + L)`` an hour
(fixed laws here make ``L`` and ``Q`` constants), exactly:

* all at once, noticed after ``D``, rolled back in ``R``: ``Q = errors (D + R)``, ``L = D + R``;
* a canary of ``f`` baking ``B < D`` whose analysis catches it: ``Q = errors f (B + R)``, ``L = B + R``
  (the issue's "f b P(bad) rate", with the rollback);
* rolling batches of ``b`` every ``P``, noticed at ``D``: the batches out before ``D`` are summed by
  hand, and the rollback holds the last exposure for ``R``.

The pool under the releases never fails (MTBF 10^6 h): the change is the only cause.  Tolerances are
4 standard errors from the estimates' own 95 % intervals, and every case checks its power: 10 % off
is outside it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hasim
from hasim import Scenario
from hasim.errors import ScenarioError
from hasim.model.deploys import exposure_pieces, rollout
from hasim.sim.engine import simulate

PER_WEEK, BAD = 14.0, 0.2
LAM = PER_WEEK / 168.0
M = 1.0 / 60.0  # a minute, in hours
ENGINES = [("numba", 400), ("simpy", 120)]


def design(oncall=None, **deploys) -> Scenario:
    dp = {"per_week": PER_WEEK, "bad": BAD, "detect": "20m", "rollback": "10m", **deploys}
    api = {"replicas": 4, "failure": {"mtbf": "1000000h"}, "repair": {"mttr": "1h"}, "deploys": dp}
    return Scenario(name="releases", entry="api", horizon="1y", services={"api": api}, oncall=oncall)


def per_year(q: float, length: float, bad: float = BAD) -> float:
    """Minutes a year lost by incidents losing ``q`` request-hours and lasting ``length`` hours."""
    return 60.0 * 8760.0 * q / (1.0 / (LAM * bad) + length)


def _near(est: float, lo: float, hi: float, want: float, label: str) -> None:
    se = (hi - lo) / 2.0 / 1.96
    assert se > 0, f"{label}: a zero-width interval"
    assert abs(est - want) <= 4.0 * se, f"{label}: {est} [{lo}, {hi}] vs {want}"
    assert 4.0 * se < 0.1 * abs(want), f"{label}: no power (4 SE = {4 * se}, 10 % = {0.1 * want})"


def _downtime(res) -> tuple[float, float, float]:
    row = res.summary.set_index("metric").loc["downtime_minutes_per_year"]
    return row["mean"], row["ci_low"], row["ci_high"]


def _stage(res, stage: str) -> tuple[float, float, float]:
    row = res.stages.set_index("stage").loc[stage]
    return row["downtime_minutes_per_year"], row["ci_low"], row["ci_high"]


CASES = {
    # strategy: (deploys keys, Q request-hours per incident, L hours per incident, of which before noticed)
    "all_at_once": ({"strategy": "all_at_once", "errors": "50%"}, 0.5 * 30 * M, 30 * M, 0.5 * 20 * M),
    "blue_green": ({"strategy": "blue_green", "rollback": "1m"}, 21 * M, 21 * M, 20 * M),
    "canary": ({"strategy": "canary", "canary": "10%", "bake": "15m"}, 0.1 * 25 * M, 25 * M, 0.1 * 15 * M),
    # batches at 0, 5, 10, 15 min (25 % each); noticed at 12 min: 0.25 x 5 + 0.5 x 5 + 0.75 x 2, then
    # 0.75 for the 10 min rollback
    "rolling": ({"strategy": "rolling", "batch": "25%", "pause": "5m", "detect": "12m"},
                (0.25 * 5 + 0.5 * 5 + 0.75 * 2 + 0.75 * 10) * M, 22 * M, (0.25 * 5 + 0.5 * 5 + 0.75 * 2) * M),
}


@pytest.mark.parametrize("engine, replicas", ENGINES)
@pytest.mark.parametrize("case", list(CASES))
def test_each_strategy_loses_its_closed_form(case, engine, replicas):
    keys, q, length, before = CASES[case]
    sc = design(**keys)
    res = simulate(sc, replicas=replicas, seed=5, engine=engine)
    _near(*_downtime(res), per_year(q, length), f"{case} downtime ({engine})")
    _near(*_stage(res, "detection"), per_year(before, length), f"{case} before noticed ({engine})")
    _near(*_stage(res, "rollback"), per_year(q - before, length), f"{case} rollback ({engine})")
    causes = res.attribution.set_index("cause")
    assert list(causes.index) == ["change api"] and causes.loc["change api", "kind"] == "change"


@pytest.mark.parametrize("case", list(CASES))
def test_the_solver_gives_the_first_order_term(case):
    keys, q, length, before = CASES[case]
    sc = design(**keys)
    a = hasim.analyze(sc)
    first = 60.0 * 8760.0 * LAM * BAD * q  # one incident at a time, none skipped
    assert a.downtime_minutes_per_year == pytest.approx(first, rel=1e-6)
    stages = a.delays.groupby("stage")["minutes_per_year"].sum()
    assert stages["detection"] == pytest.approx(60.0 * 8760.0 * LAM * BAD * before, rel=1e-6)
    assert a.to_dict()["exact"] is False


def test_a_canary_the_analysis_misses_is_promoted_and_waits_for_the_monitoring():
    """catch 50 %, a lognormal time to notice: against the solver's pieces (E[min(D, B)], P(D > B)),
    which are exact per incident, and the renewal correction for the skipped releases."""
    sc = design(strategy="canary", canary="5%", bake="30m", catch="50%",
                detect={"dist": "lognormal", "median": "45m", "sigma": 0.8}, rollback={"mttr": "8m"})
    dp = sc.services["api"].deploys
    pieces = exposure_pieces(dp)
    q = sum(e * h for _, e, h in pieces)
    length = sum(h for _, _, h in pieces)
    # The pieces by hand: canary until noticed or the end of the bake; half of those not noticed by then
    # promoted to everyone until the monitoring notices them.
    D = dp.detect
    assert q == pytest.approx(0.05 * (D.expected_min(0.5) + (1 - 0.5 * D.sf(0.5)) * 8 * M)
                              + 0.5 * (D.mean_hours - D.expected_min(0.5) + D.sf(0.5) * 8 * M), rel=1e-9)
    for engine, replicas in ENGINES:
        res = simulate(sc, replicas=replicas, seed=9, engine=engine)
        _near(*_downtime(res), per_year(q, length), f"missed canary ({engine})")


def test_a_release_train_releases_on_a_period():
    """every: 12h at a random phase: 730 releases a year, 20 % bad, each out for 30 min: no release can
    find one still out, so the loss is exactly 730 x 0.2 x 30 min a year."""
    sc = design(per_week=None, every="12h", strategy="all_at_once")
    for engine, replicas in ENGINES:
        res = simulate(sc, replicas=replicas, seed=3, engine=engine)
        _near(*_downtime(res), 730 * BAD * 30.0, f"train ({engine})")


def test_errors_scale_the_loss_and_a_harmless_release_changes_nothing_else():
    base = design(strategy="all_at_once")
    full = simulate(base, replicas=200, seed=1)
    half = simulate(base.replace({"services.api.deploys.errors": "50%"}), replicas=200, seed=1)
    # Common random numbers: the same releases, half the loss, replica by replica.
    np.testing.assert_allclose(1.0 - half.out.ra, 0.5 * (1.0 - full.out.ra), rtol=1e-9, atol=1e-15)


def test_declaring_deploys_changes_no_other_draw():
    """A stream of its own: with no bad release the instances' histories are bit for bit the same."""
    pool = {"replicas": 3, "min_healthy": 2, "failure": {"mtbf": "300h"}, "repair": {"mttr": "5h"}}
    plain = Scenario(name="p", entry="api", horizon="1y", services={"api": pool})
    harmless = plain.replace({"services.api.deploys": {"per_week": 20, "strategy": "rolling", "batch": "50%",
                                                         "pause": "5m", "bad": 0, "detect": "5m", "rollback": "5m"}})
    for engine in ("numba", "simpy"):
        a, b = (simulate(sc, replicas=30, seed=2, engine=engine) for sc in (plain, harmless))
        assert np.array_equal(a.out.ra, b.out.ra) and np.array_equal(a.out.outages, b.out.outages)
        assert a.request_availability < 1.0  # the pool does fail: the comparison means something


def test_a_bad_release_behind_a_load_balancer_is_seen_through_its_dependants():
    """A bad release of the API behind a health-checked LB: the probes do not see it (the process
    answers), the entry loses errors x exposure; both engines agree within their intervals."""
    api = {"replicas": 4, "failure": {"mtbf": "2000h"}, "repair": {"mttr": "30m"},
           "health_check": {"interval": "10s", "unhealthy_threshold": 3, "healthy_threshold": 2},
           "deploys": {"per_week": 10, "strategy": "rolling", "batch": "25%", "pause": "10m", "bad": "15%",
                       "detect": {"dist": "lognormal", "median": "15m", "sigma": 1.0}, "rollback": "10m"}}
    lb = {"replicas": 2, "failure": {"mtbf": "4000h"}, "repair": {"mttr": "5m"}, "requires": ["api"]}
    sc = Scenario(name="lb", entry="lb", horizon="1y", services={"lb": lb, "api": api})
    a, b = simulate(sc, replicas=400, seed=4), simulate(sc, replicas=120, seed=4, engine="simpy")
    (ea, la, ha), (eb, lb_, hb) = _downtime(a), _downtime(b)
    se = np.hypot((ha - la) / 3.92, (hb - lb_) / 3.92)
    assert abs(ea - eb) <= 4 * se, (ea, eb, se)
    assert 4 * se < 0.15 * ea
    change = a.attribution.set_index("cause").loc["change api", "downtime_minutes_per_year"]
    assert change > 0.8 * ea  # the releases dominate this design's downtime


@pytest.mark.parametrize("engine, replicas", ENGINES)
def test_a_paged_rollback_waits_for_the_on_call(engine, replicas):
    """All at once, noticed after 20 min, then the engineer (10 min in business hours, uniform 10-40
    min at night: 19.375 min on average over the day), then the 10 min rollback."""
    answer = 9 / 24 * 10 + 15 / 24 * 25
    sc = design(strategy="all_at_once", paged=True,
                oncall={"respond": "10m", "night": {"dist": "uniform", "low": "10m", "high": "40m"}})
    res = simulate(sc, replicas=replicas, seed=12, engine=engine)
    length = (30 + answer) * M
    _near(*_downtime(res), per_year(length, length), f"paged ({engine})")
    _near(*_stage(res, "response"), per_year(answer * M, length), f"paged response ({engine})")
    by_stage = hasim.analyze(sc).delays.groupby("stage")["minutes_per_year"].sum()
    assert by_stage["response"] == pytest.approx(60 * 8760 * LAM * BAD * answer * M, rel=1e-6)


def test_a_paged_rollback_needs_an_on_call():
    with pytest.raises(ScenarioError, match="services.api.deploys.paged: a paged rollback needs an on-call"):
        design(strategy="all_at_once", paged=True)


def pushed(**push) -> Scenario:
    """Two pools in series behind the entry, one config push to both (and a third service it spares)."""
    pool = {"replicas": 4, "failure": {"mtbf": "1000000h"}, "repair": {"mttr": "1h"}}
    services = {"web": {**pool, "requires": ["api"]}, "api": {**pool, "requires": ["search"]}, "search": pool}
    flags = {"per_week": PER_WEEK, "bad": BAD, "detect": "20m", "rollback": "10m", "strategy": "all_at_once",
             "errors": "50%", "services": ["web", "api"], **push}
    return Scenario(name="pushed", entry="web", horizon="1y", services=services, config_pushes={"flags": flags})


@pytest.mark.parametrize("engine, replicas", ENGINES)
def test_a_config_push_fails_every_service_it_reaches_at_once(engine, replicas):
    """Half the requests fail at each of the two services in series: the entry loses 1 - 0.5^2 = 75 %
    for the 30 minutes of each bad push, charged to "config flags"."""
    res = simulate(pushed(), replicas=replicas, seed=6, engine=engine)
    _near(*_downtime(res), per_year(0.75 * 30 * M, 30 * M), f"push ({engine})")
    causes = res.attribution.set_index("cause")
    assert list(causes.index) == ["config flags"] and causes.loc["config flags", "kind"] == "change"
    a = hasim.analyze(pushed())
    assert a.downtime_minutes_per_year == pytest.approx(60 * 8760 * LAM * BAD * 0.75 * 30 * M, rel=1e-6)
    assert set(a.delays.service) == {"config flags"}


def test_a_push_and_a_deploy_of_one_service_multiply():
    """api's own deploys (all at once, 100 %) and the push (50 %) on the same pool: while both are
    out it serves nothing; each alone as before.  The total is the two processes' sum less their
    overlap, which is second order: within 1 % here."""
    sc = pushed(services=["api"]).replace({"services.api.deploys": {
        "per_week": PER_WEEK, "bad": BAD, "detect": "20m", "rollback": "10m", "strategy": "all_at_once"}})
    res = simulate(sc, replicas=400, seed=8)
    want = per_year(0.5 * 30 * M, 30 * M) + per_year(30 * M, 30 * M)
    est, lo, hi = _downtime(res)
    assert abs(est - want) <= 4 * (hi - lo) / 3.92 + 0.01 * want
    causes = res.attribution.set_index("cause")
    assert set(causes.index) == {"change api", "config flags"}


@pytest.mark.parametrize("push, expected", [
    ({"services": ["nope"]}, "config_pushes.flags.services.0: no service 'nope'"),
    ({"services": ["web", "web"]}, "config_pushes.flags.services.1: 'web' is listed twice"),
    ({"services": []}, "config_pushes.flags.services"),
    ({"pause": "5m"}, "'pause' applies to strategy: rolling"),
])
def test_bad_config_pushes_name_the_key(push, expected):
    with pytest.raises(ScenarioError) as info:
        pushed(**push)
    assert expected in str(info.value), str(info.value)


def test_a_push_reaches_no_router():
    with pytest.raises(ScenarioError, match="'edge' is a router"):
        Scenario(name="r", entry="edge", services={
            "edge": {"route": "failover", "targets": ["a"]}, "a": {"mtbf": "100h", "mttr": "1h"}},
            config_pushes={"x": {"per_week": 1, "strategy": "all_at_once", "bad": 0.1, "detect": "5m",
                                 "rollback": "5m", "services": ["edge"]}})


@settings(max_examples=60, deadline=None)
@given(f=st.floats(0.01, 1.0), bake=st.floats(1 * M, 120 * M), catch=st.floats(0.0, 1.0),
       batch=st.floats(0.05, 1.0), pause=st.floats(0.0, 60 * M), median=st.floats(1 * M, 180 * M),
       sigma=st.floats(0.1, 2.0), back=st.floats(1 * M, 60 * M))
def test_a_canary_or_a_rolling_update_never_exposes_more_than_all_at_once(f, bake, catch, batch, pause, median,
                                                                          sigma, back):
    common = {"per_week": 10, "bad": 0.1, "detect": {"dist": "lognormal", "median": median, "sigma": sigma},
              "rollback": {"mttr": back}}

    def loss(**kw) -> float:
        dp = Scenario(name="h", entry="a", services={"a": {"mtbf": "1000h", "mttr": "1h",
                                                         "deploys": {**common, **kw}}}).services["a"].deploys
        return sum(e * h for _, e, h in exposure_pieces(dp))

    everyone = loss(strategy="all_at_once")
    assert loss(strategy="canary", canary=f, bake=bake, catch=catch) <= everyone * (1 + 1e-12)
    assert loss(strategy="rolling", batch=batch, pause=pause) <= everyone * (1 + 1e-12)


@settings(max_examples=80, deadline=None)
@given(batch=st.floats(0.05, 1.0), pause=st.floats(0.0, 1.0), seen=st.floats(1e-3, 5.0))
def test_a_rolling_update_stops_where_it_is_noticed(batch, pause, seen):
    dp = design(strategy="rolling", batch=batch, pause=pause).services["api"].deploys
    steps, noticed = rollout(dp, seen, caught=False)
    assert noticed == seen and steps[0][0] == 0.0
    offsets, shares = zip(*steps)
    assert all(o < seen or o == 0.0 for o in offsets)  # no batch at or after the moment it is noticed
    assert list(shares) == sorted(shares) and shares[-1] <= 1.0
    assert shares[-1] == 1.0 or len(steps) * pause >= seen or pause == 0.0


@pytest.mark.parametrize("case", list(CASES))
def test_every_strategy_is_described_for_the_report(case):
    from hasim.model.deploys import MECHANISM

    svc = design(**CASES[case][0]).services["api"]
    (line,) = MECHANISM.describe(svc)
    assert "14 releases a week" in line and "20% bad" in line and MECHANISM.badge(svc)
    assert [k.path for k in MECHANISM.service_knobs("api", svc)][:2] == ["services.api.deploys.detect",
                                                                          "services.api.deploys.rollback"]


def test_the_teaching_scenario_renders_its_report():
    from hasim.present.report import render_report

    sc = hasim.load(Path(__file__).parents[2] / "scenarios" / "canary-vs-rolling.yaml")
    html = render_report(simulate(sc, replicas=50, seed=1), sc, compute_sensitivity=False)
    assert "change orders" in html and "change payments" in html and "canary 5% for 30m" in html


@pytest.mark.parametrize("deploys, expected", [
    ({"strategy": "all_at_once", "bad": 0.1, "detect": "5m", "rollback": "5m"}, "give one of per_week"),
    ({"per_week": 5, "every": "1d", "strategy": "all_at_once", "bad": 0.1, "detect": "5m", "rollback": "5m"},
     "give one of per_week"),
    ({"per_week": 5, "strategy": "rolling", "bad": 0.1, "detect": "5m", "rollback": "5m", "pause": "5m"},
     "strategy: rolling needs 'batch'"),
    ({"per_week": 5, "strategy": "canary", "bad": 0.1, "detect": "5m", "rollback": "5m", "canary": "5%"},
     "strategy: canary needs 'bake'"),
    ({"per_week": 5, "strategy": "all_at_once", "bad": 0.1, "detect": "5m", "rollback": "5m", "bake": "5m"},
     "'bake' applies to strategy: canary"),
    ({"per_week": 5, "strategy": "rolling", "batch": "25%", "pause": "1m", "bad": 0.1, "detect": "5m",
      "rollback": "5m", "catch": "90%"}, "'catch' applies to strategy: canary"),
    ({"per_week": 5, "strategy": "rolling", "batch": 0, "pause": "1m", "bad": 0.1, "detect": "5m",
      "rollback": "5m"}, "a batch must update some instances"),
    ({"per_week": 5, "strategy": "all_at_once", "bad": "150%", "detect": "5m", "rollback": "5m"}, "deploys.bad"),
    ({"per_week": 5, "strategy": "big_bang", "bad": 0.1, "detect": "5m", "rollback": "5m"}, "deploys.strategy"),
    ({"per_week": 5, "strategy": "all_at_once", "bad": 0.1, "detect": "-5m", "rollback": "5m"}, "deploys.detect"),
    ({"per_week": 5, "strategy": "all_at_once", "bad": 0.1, "detect": "5m", "rollback": "5m", "bogus": 1},
     "deploys.bogus"),
])
def test_bad_deploys_name_the_key(tmp_path, deploys, expected):
    import yaml

    f = tmp_path / "d.yaml"
    f.write_text(yaml.safe_dump({"name": "d", "entry": "api", "services": {
        "api": {"mtbf": "100h", "mttr": "1h", "deploys": deploys}}}))
    with pytest.raises(ScenarioError) as info:
        hasim.load(f)
    text = str(info.value)
    assert str(f) in text and "services.api.deploys" in text and expected in text, text


def test_a_router_has_no_releases():
    with pytest.raises(ScenarioError, match="'deploys' does not apply to a router"):
        Scenario(name="r", entry="edge", services={
            "edge": {"route": "failover", "targets": ["a"], "deploys": {
                "per_week": 1, "strategy": "all_at_once", "bad": 0.1, "detect": "5m", "rollback": "5m"}},
            "a": {"mtbf": "100h", "mttr": "1h"}})


@pytest.mark.parametrize("engine, replicas", ENGINES)
def test_a_canary_the_analysis_aborts_pages_nobody(engine, replicas):
    """Paged rollbacks of a canary (10 % for 15 min, noticed by the monitoring after 20 min): those
    the analysis catches at the end of the bake are aborted by the rollout controller, without the
    engineer; the others are promoted, noticed after 20 min and wait for the engineer (10 min)."""
    for catch, paged_share in (("100%", 0.0), ("50%", 0.5)):
        sc = design(strategy="canary", canary="10%", bake="15m", catch=catch, paged=True, oncall={"respond": "10m"})
        by_stage = hasim.analyze(sc).delays.groupby("stage")["minutes_per_year"].sum()
        want = 60 * 8760 * LAM * BAD * paged_share * 10 * M  # at full exposure (promoted)
        assert by_stage.get("response", 0.0) == pytest.approx(want, rel=1e-9)
        res = simulate(sc, replicas=replicas, seed=14, engine=engine)
        if paged_share == 0.0:
            assert _stage(res, "response")[0] == 0.0
        else:
            length = 0.5 * (25 * M) + 0.5 * (30 + 10) * M
            _near(*_stage(res, "response"), per_year(paged_share * 10 * M, length), f"aborted ({engine})")
