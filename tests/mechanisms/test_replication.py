"""Replication: the data-loss window of promotions (hasim.model.replication), on both engines,
against closed forms and ``hasim analyze``.

Closed forms (two hot instances, exponential failures of rate ``lambda`` and repairs of rate
``mu``, instant failover; the instances are independent, each up with ``a = mu / (lambda + mu)``):

* a promotion of a copy that was following happens when the active fails while the other is up,
  at ``lambda a^2``, and loses exactly the lag ``l`` (async), nothing (sync), or the time since the
  last snapshot, uniform on ``[0, T)`` (snapshot, whatever the failure times: the phase is uniform);
* with both down, the copy that is not the writer comes back first half the time, at
  ``mu (1 - a)^2``: it lost its copy a repair's age (exponential, mean ``1 / mu``) before the writer
  went, so its window is ``l + 1 / mu`` on average (snapshot: still uniform).

Tolerances are 4 standard errors from the estimates' own 95 % intervals (half-width / 1.96), and
each case checks its power: a rate or window 10 % off is outside it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import hasim
from hasim import Scenario
from hasim.errors import ScenarioError
from hasim.sim.engine import simulate

MTBF, MTTR, LAG, T = 200.0, 20.0, 5.0 / 3600.0, 24.0
LAM, MU = 1.0 / MTBF, 1.0 / MTTR
A = MU / (LAM + MU)
FOLLOWING, STALE = LAM * A * A * 8760.0, MU * (1.0 - A) ** 2 * 8760.0


def pair(replication=None, **kw) -> Scenario:
    db = {"mode": "standby", "replicas": 2, "failure": {"mtbf": f"{MTBF}h"}, "repair": {"mttr": f"{MTTR}h"}}
    if replication is not None:
        db["replication"] = replication
    return Scenario(name="pair", entry="db", services={"db": db}, **{"horizon": "10y", **kw})


def _near(est: float, ci, want: float, label: str) -> float:
    se = (ci[1] - ci[0]) / 2.0 / 1.96
    assert se > 0, f"{label}: a zero-width interval"
    assert abs(est - want) <= 4.0 * se, f"{label}: {est} [{ci[0]}, {ci[1]}] vs {want}"
    assert 4.0 * se < 0.1 * abs(want), f"{label}: no power (4 SE = {4 * se}, 10 % = {0.1 * want})"
    return se


def _rows(res):
    return res.data_loss.set_index("measure")


ENGINES = [("numba", 400), ("simpy", 160)]


@pytest.mark.parametrize("engine, replicas", ENGINES)
def test_an_async_lag_is_lost_by_every_promotion_of_a_following_copy(engine, replicas):
    res = simulate(pair({"mode": "async", "lag": "5s"}), replicas=replicas, seed=11, engine=engine)
    d = res._data_loss["db"]
    _near(d["per_year"]["mean"], d["per_year"]["ci95"], FOLLOWING + STALE, "incidents/year")
    mean_window = (FOLLOWING * LAG + STALE * (LAG + MTTR)) / (FOLLOWING + STALE)
    _near(d["window"]["mean_hours"], d["window"]["ci95"], mean_window, "mean window")
    lost = d["writes_lost_hours_per_year"]
    _near(lost["mean"], lost["ci95"], FOLLOWING * LAG + STALE * (LAG + MTTR), "writes lost/year")
    # The median sits on the lag exactly, the share of following promotions; no interval on an atom.
    p50 = _rows(res).loc["window p50"]
    assert p50.value == pytest.approx(LAG, rel=1e-12) and math.isnan(p50.ci_low)
    assert abs(p50.exact_share - FOLLOWING / (FOLLOWING + STALE)) < 0.02
    # The stale copies' windows: the lag plus an exponential age of mean MTTR.
    rows, cols = np.nonzero(res.out.dl_svc >= 0)
    stale = res.out.dl_win[rows, cols]
    stale = stale[stale > LAG * (1 + 1e-9)] - LAG
    assert stale.size > 100
    assert abs(stale.mean() - MTTR) <= 4.0 * MTTR / math.sqrt(stale.size)


@pytest.mark.parametrize("engine, replicas", ENGINES)
def test_a_snapshot_loses_a_window_uniform_over_the_interval(engine, replicas):
    from scipy import stats

    # One year a replica (about 40 incidents) and room for all of them: every record weighs 1.
    res = simulate(pair({"mode": "snapshot", "interval": f"{T}h"}, horizon="1y"), replicas=replicas * 3, seed=5,
                   engine=engine, keep_outages=128)
    assert (res.out.dl_n.sum(axis=1) <= 128).all()
    win = res.out.dl_win[res.out.dl_svc >= 0]
    assert win.size == res.out.dl_n.sum() and ((win >= 0) & (win < T)).all()
    assert stats.kstest(win, stats.uniform(0, T).cdf).pvalue > 1e-3
    d = res._data_loss["db"]
    _near(d["window"]["mean_hours"], d["window"]["ci95"], T / 2, "mean window")
    for q in d["window"]["quantiles"][:2]:
        assert q["ci95"] is not None
        assert abs(q["hours"] - q["q"] * T) <= 4.0 * (q["ci95"][1] - q["ci95"][0]) / 2 / 1.96


@pytest.mark.parametrize("engine, replicas", ENGINES)
def test_sync_replication_loses_only_what_a_stale_copy_missed(engine, replicas):
    # Room for every incident (about 400 a replica): the breaches are counted, not estimated from a sample.
    res = simulate(pair({"mode": "sync"}, rpo="1h"), replicas=replicas, seed=2, engine=engine, keep_outages=512)
    assert (res.out.dl_n.sum(axis=1) <= 512).all()
    d = res._data_loss["db"]
    p50 = d["window"]["quantiles"][0]
    assert p50["hours"] == 0.0 and p50["exact_share"] > 0.85 and p50["ci95"] is None
    lost = d["writes_lost_hours_per_year"]
    _near(lost["mean"], lost["ci95"], STALE * MTTR, "writes lost/year")
    # rpo 1 h: the stale promotions whose copy had been away for more than an hour.
    b = res.rpo_breaches()
    _near(b["per_year"]["mean"], b["per_year"]["ci95"], STALE * math.exp(-1.0 / MTTR), "rpo breaches/year")


@pytest.mark.parametrize("engine", ["numba", "simpy"])
def test_replication_changes_no_served_fraction_and_no_other_draw(engine):
    n = 40 if engine == "numba" else 8
    plain = simulate(pair(), replicas=n, seed=9, engine=engine)
    for rep in ({"mode": "async", "lag": {"dist": "lognormal", "median": "1s", "sigma": 1}},
                {"mode": "snapshot", "interval": "6h"}):
        replicated = simulate(pair(rep), replicas=n, seed=9, engine=engine)
        for name in ("ra", "outages", "out_dur", "events"):
            np.testing.assert_array_equal(getattr(plain.out, name), getattr(replicated.out, name))
        assert replicated.out.dl_n.sum() > 0
    assert plain.out.dl_n.sum() == 0 and plain.data_loss.empty and plain.to_dict()["data_loss"] is None


def test_the_engines_agree_with_a_lag_distribution_and_failover_delays():
    rep = {"mode": "async", "lag": {"dist": "uniform", "low": "1s", "high": "9s"}}
    sc = pair(rep).replace({"services.db.failover": {"detection": "30s", "promotion": "1m"}})
    a = simulate(sc, replicas=400, seed=4, engine="numba")._data_loss["db"]
    b = simulate(sc, replicas=160, seed=4, engine="simpy")._data_loss["db"]
    for key in ("per_year", "writes_lost_hours_per_year"):
        se = math.hypot(*((x[key]["ci95"][1] - x[key]["ci95"][0]) / 2 / 1.96 for x in (a, b)))
        assert abs(a[key]["mean"] - b[key]["mean"]) <= 4.0 * se, key
    # following promotions lose the lag: uniform on [1 s, 9 s]
    p50 = a["window"]["quantiles"][0]["hours"] * 3600
    assert 4.0 < p50 < 6.0


def test_analyze_gives_the_closed_forms():
    d = hasim.analyze(pair({"mode": "async", "lag": "5s"})).data_loss[0]
    assert d["following"]["incidents_per_year"] == pytest.approx(FOLLOWING, rel=1e-12)
    assert d["stale"]["incidents_per_year"] == pytest.approx(STALE, rel=1e-12)
    assert d["writes_lost_hours_per_year"] == pytest.approx(FOLLOWING * LAG + STALE * (LAG + MTTR), rel=1e-12)
    snap = hasim.analyze(pair({"mode": "snapshot", "interval": "24h"})).to_dict()["data_loss"][0]
    assert snap["window_mean_hours"] == pytest.approx(12.0)


@pytest.mark.parametrize("replication, where, message", [
    ({"mode": "async"}, "replication.lag", "mode: async needs 'lag'"),
    ({"mode": "async", "lag": "-1s"}, "replication.lag", "expected a positive duration"),
    ({"mode": "sync", "lag": "1s"}, "replication.lag", "'lag' applies to mode: async"),
    ({"mode": "snapshot"}, "replication.interval", "needs 'interval'"),
    ({"mode": "snapshot", "interval": "1d", "every": 2}, "replication.every", "unknown key"),
    ({"mode": "semi-sync"}, "replication.mode", "sync"),
])
def test_bad_replication_is_a_clear_error(replication, where, message):
    with pytest.raises(ScenarioError) as err:
        pair(replication)
    assert f"services.db.{where}" in str(err.value) and message in str(err.value)


def test_replication_applies_to_standby_services_and_rpo_needs_one():
    with pytest.raises(ScenarioError, match="quorum commits to a majority"):
        Scenario(name="q", entry="q", services={"q": {"mode": "quorum", "replicas": 3, "failure": {"mtbf": "1y"},
                                                      "repair": {"mttr": "1h"}, "replication": {"mode": "sync"}}})
    with pytest.raises(ScenarioError, match="rpo: an rpo needs a service whose standbys replicate"):
        pair(rpo="1m")


def test_the_teaching_scenario_states_its_answer(scenarios_dir):
    sc = hasim.load(scenarios_dir / "replication.yaml")
    d = hasim.analyze(sc).data_loss[0]
    assert d["following"]["incidents_per_year"] == pytest.approx(39.10, abs=0.005)
    assert d["stale"]["incidents_per_year"] == pytest.approx(0.355, abs=0.0005)
    assert d["incidents_per_year"] == pytest.approx(39.46, abs=0.005)
    assert d["writes_lost_hours_per_year"] == pytest.approx(0.766, abs=0.0005)
    res = simulate(sc)
    lost = res._data_loss["db"]["writes_lost_hours_per_year"]
    assert lost["ci95"][0] <= d["writes_lost_hours_per_year"] <= lost["ci95"][1] or \
        abs(lost["mean"] - d["writes_lost_hours_per_year"]) <= 4 * (lost["ci95"][1] - lost["ci95"][0]) / 2 / 1.96
    b = res.rpo_breaches()
    want = 0.355 * math.exp(-55.0 / 7200.0)
    assert abs(b["per_year"]["mean"] - want) <= 4 * (b["per_year"]["ci95"][1] - b["per_year"]["ci95"][0]) / 2 / 1.96


# -- disaster-recovery copies: a DNS failover moves the writes to a copy restored from snapshots ---

DR_MTBF, DR_REPAIR = 200.0, 2.0
SWITCHES = 8760.0 / (DR_MTBF + DR_REPAIR)  # every failure of the primary (renewal: exponential + fixed)


def dr_pair(copy: bool = True, **kw) -> Scenario:
    """A failover router over a primary and a DR copy that never fails; the router sees its targets
    at once (no health check, no DNS ttl): every primary failure moves the writes to the copy."""
    dr = {"failure": {"mtbf": "1000000h"}, "repair": {"mttr": "1h"}}
    if copy:
        dr["replication"] = {"mode": "snapshot", "interval": f"{T}h", "of": "main"}
    services = {"edge": {"route": "failover", "targets": ["main", "dr"]},
                "main": {"failure": {"mtbf": f"{DR_MTBF}h"}, "repair": {"dist": "fixed", "value": f"{DR_REPAIR}h"}},
                "dr": dr}
    return Scenario(name="dr", entry="edge", services=services, **{"horizon": "2y", **kw})


@pytest.mark.parametrize("engine, replicas", ENGINES)
def test_a_failover_to_a_dr_copy_loses_the_writes_since_its_last_snapshot(engine, replicas):
    from scipy import stats

    res = simulate(dr_pair(), replicas=replicas, seed=8, engine=engine, keep_outages=256)
    d = res._data_loss["dr"]
    _near(d["per_year"]["mean"], d["per_year"]["ci95"], SWITCHES, "DR switches/year")
    win = res.out.dl_win[res.out.dl_svc >= 0]
    assert (res.out.dl_n.sum(axis=1) <= 256).all() and win.size == res.out.dl_n.sum()
    assert stats.kstest(win, stats.uniform(0, T).cdf).pvalue > 1e-3  # uniform: the phase is
    _near(d["window"]["mean_hours"], d["window"]["ci95"], T / 2, "mean window")
    # Failing back is no incident: one per failure of the primary, not two.
    assert res.out.dl_n[:, res.labels.services.index("main")].sum() == 0


@pytest.mark.parametrize("engine", ["numba", "simpy"])
def test_a_dr_copy_changes_no_served_fraction(engine):
    n = 40 if engine == "numba" else 8
    plain, copy = (simulate(dr_pair(c), replicas=n, seed=3, engine=engine) for c in (False, True))
    for name in ("ra", "outages", "out_dur", "events"):
        np.testing.assert_array_equal(getattr(plain.out, name), getattr(copy.out, name))
    assert copy.out.dl_n.sum() > 0 and plain.out.dl_n.sum() == 0
    assert "dr" not in {t["service"] for t in hasim.analyze(dr_pair()).data_loss}  # no first-order term


@pytest.mark.parametrize("change, message", [
    ({"services.dr.replication": {"mode": "snapshot", "interval": "1d", "of": "mian"}}, "no service 'mian'"),
    ({"services.dr.replication": {"mode": "snapshot", "interval": "1d", "of": "dr"}}, "cannot be a copy of itself"),
    ({"services.dr.replication": {"mode": "async", "lag": "1s", "of": "main"}}, "give mode: snapshot"),
    ({"services.edge.targets": ["dr", "main"], "services.edge.route": "weighted"}, "nothing moves the writes"),
])
def test_a_bad_dr_copy_is_a_clear_error(change, message):
    with pytest.raises(ScenarioError) as err:
        dr_pair().replace(change)
    assert "services.dr.replication" in str(err.value) and message in str(err.value), str(err.value)


def test_the_flagships_dr_database_is_a_copy_of_its_primary(scenarios_dir):
    sc = hasim.load(scenarios_dir / "ha-rest-api.yaml")
    res = simulate(sc, replicas=300, seed=1)
    rows = res.data_loss
    assert set(rows["service"]) == {"db", "dr-db"}
    dr = res._data_loss["dr-db"]
    assert dr["per_year"]["mean"] > 0 and 6.0 < dr["window"]["mean_hours"] < 18.0  # uniform on a day: 12 h
