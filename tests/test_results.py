"""Results: DataFrames, confidence intervals, the --json shape and the notebook view."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from hasim import Scenario
from hasim.sim.engine import n_windows, simulate
from hasim.results.estimate import DEFAULT_SLO, Z95

SC = Scenario(
    name="shop", entry="web", slo=99.5,
    zones={"a": {"mtbf": 400, "mttr": 4}, "b": {"mtbf": 400, "mttr": 4}},
    services={
        "web": {"replicas": 3, "min_healthy": 2, "zones": ["a", "b"], "failure": {"mtbf": 100},
                "repair": {"mttr": 3}, "requires": ["db"], "optional": ["search"]},
        "db": {"mode": "standby", "replicas": 2, "zones": ["a", "b"], "failure": {"mtbf": 200},
               "repair": {"mttr": 4}, "failover": {"detection": 0.1, "promotion": 0.2}},
        "search": {"failure": {"mtbf": 50}, "repair": {"mttr": 5}},
    })


@pytest.fixture(scope="module")
def res():
    return simulate(SC, replicas=64, horizon=3 * 8760, seed=3)


def test_summary_shape_and_confidence_intervals(res):
    s = res.summary
    assert list(s.columns) == ["metric", "mean", "ci_low", "ci_high", "std", "outages", "one_sided", "note"]
    assert {"request_availability", "time_availability", "downtime_minutes_per_year", "outages_per_year",
            "p_window_breach", "breach_windows_per_year", "mean_outage_minutes", "longest_outage_minutes",
            "degraded_fraction", "down_fraction"} <= set(s.metric)
    row = s.set_index("metric").loc["request_availability"]
    x = res.out.ra
    # The Fay-Feuer gamma interval of the total loss (hasim.results.intervals), written out again here.
    from scipy import stats

    u, k, n = 1.0 - x, res.total_outages, x.size
    total = u.sum()
    var = max(n * u.var(ddof=1), 2 * total ** 2 / k)
    w = total / k
    lo = stats.gamma.ppf(0.025, total ** 2 / var, scale=var / total) / n
    hi = stats.gamma.ppf(0.975, (total + w) ** 2 / (var + w * w), scale=(var + w * w) / (total + w)) / n
    assert row["mean"] == pytest.approx(x.mean(), abs=0, rel=1e-15)
    assert row["ci_low"] == pytest.approx(1.0 - hi, rel=1e-12)
    assert row["ci_high"] == pytest.approx(1.0 - lo, rel=1e-12)
    assert row["outages"] == k > 100 and not row["one_sided"]
    # With this many outages it is close to the normal interval it replaced.
    half = Z95 * x.std(ddof=1) / math.sqrt(x.size)
    assert (row["ci_high"] - row["ci_low"]) / 2 == pytest.approx(half, rel=0.1)
    assert row["std"] == pytest.approx(x.std(ddof=1), rel=1e-12)
    dm = s.set_index("metric").loc["downtime_minutes_per_year"]
    assert dm["mean"] == pytest.approx((1 - x.mean()) * 525600, rel=1e-9)


def test_replicas_table(res):
    r = res.replicas
    assert len(r) == 64 and list(r.replica) == list(range(64))
    np.testing.assert_array_equal(r.request_availability, res.out.ra)
    assert (r.time_availability <= r.request_availability + 1e-15).all()
    assert (r.outages >= 0).all() and (r.events > 0).all()


def test_windows_long_format_and_breaches(res):
    w = res.windows
    nw = n_windows(3 * 8760, 730)
    assert nw == 36 and res.n_windows == 36
    assert list(w.columns) == ["replica", "window", "start_h", "hours", "availability"]
    assert len(w) == 64 * 36
    assert w.availability.between(0, 1).all()
    # Breach counts come from the kernel; they match the stored windows when all are kept.
    breaches = (w.availability < 0.995).groupby(w.replica).sum().to_numpy()
    np.testing.assert_array_equal(breaches, res.out.breaches)
    p = res.summary.set_index("metric").loc["p_window_breach", "mean"]
    assert p == pytest.approx(breaches.mean() / 36)
    worst = w.groupby("replica").availability.min().to_numpy()
    np.testing.assert_allclose(worst, res.out.worst)


def test_partial_last_window_counts_by_its_length():
    r = simulate(SC, replicas=4, horizon=1000, seed=1)
    w = r.windows
    assert list(w[w.replica == 0].hours) == [730, 270]
    weighted = (w.availability * w.hours).groupby(w.replica).sum() / 1000
    np.testing.assert_allclose(weighted.to_numpy(), r.out.ra, atol=1e-12)


def test_windows_kept_are_bounded():
    r = simulate(SC, replicas=8, horizon=5 * 8760, seed=1, keep_windows=3)
    assert r.out.win.shape == (8, 3)
    assert r.windows.window.max() == 2
    assert r.out.breaches.max() <= 60


def test_outages_sample(res):
    o = res.outages
    assert list(o.columns) == ["replica", "index", "start_h", "duration_h", "cause", "weight"]
    assert o.groupby("replica").size().max() <= 16
    assert (o.duration_h > 0).all() and (o.start_h >= 0).all()
    assert set(o.cause) <= set(res.labels.causes)
    # Records are a sample of each replica's outages, in time order, each standing for
    # count / kept of them (tests/test_outage_sample.py).
    assert (o.groupby("replica").start_h.diff().dropna() > 0).all()
    kept = o.groupby("replica").size()
    np.testing.assert_allclose(o.groupby("replica").weight.first(), res.out.outages[kept.index] / kept)


def test_attribution_adds_up_to_the_downtime(res):
    a = res.attribution
    assert list(a.columns) == ["cause", "kind", "downtime_minutes_per_year", "ci_low", "ci_high", "std", "share"]
    total = res.summary.set_index("metric").loc["downtime_minutes_per_year", "mean"]
    assert a.downtime_minutes_per_year.sum() == pytest.approx(total, rel=1e-9)
    assert a.share.sum() == pytest.approx(1.0)
    assert set(a.kind) <= {"instance", "zone"}
    assert "db" in set(a.cause)
    stages = res.stages
    assert stages.downtime_minutes_per_year.sum() == pytest.approx(total, rel=1e-9)
    assert stages.set_index("stage").loc["failover", "downtime_minutes_per_year"] > 0
    assert "search" not in set(a.cause)  # optional: reported, not counted
    assert list(a.downtime_minutes_per_year) == sorted(a.downtime_minutes_per_year, reverse=True)


def test_services_table_reports_optional_dependencies(res):
    s = res.services.set_index("service")
    assert s.loc["web", "role"] == "entry"
    assert s.loc["search", "role"] == "optional"
    assert s.loc["search", "request_availability"] == pytest.approx(50 / 55, abs=0.02)
    assert s.loc["web", "request_availability"] == pytest.approx(res.out.ra.mean())


def test_json_shape(res):
    d = json.loads(res.to_json())
    for key in ("scenario", "engine", "replicas", "horizon_hours", "seed", "events", "elapsed_seconds", "metrics",
                "tiers", "attribution"):
        assert key in d
    assert d["scenario"] == "shop" and d["engine"] == "numba" and d["replicas"] == 64
    assert d["horizon_hours"] == 3 * 8760 and d["seed"] == 3
    assert d["events"] == int(res.out.events.sum()) > 0
    assert d["elapsed_seconds"] > 0
    for name in ("request_availability", "time_availability", "downtime_minutes_per_year", "outages_per_year",
                 "p_window_breach"):
        m = d["metrics"][name]
        assert set(m) >= {"mean", "ci95"} and len(m["ci95"]) == 2
        assert m["ci95"][0] <= m["mean"] <= m["ci95"][1]
    assert [t["tier"] for t in d["tiers"]] == [99.0, 99.9, 99.99, 99.999]
    assert all(t["verdict"] in ("met", "missed", "uncertain") for t in d["tiers"])
    assert d["attribution"][0]["cause"] == res.attribution.cause[0]
    assert d["notes"] == []


def test_tiers_verdict_uses_the_interval(res):
    lo, hi = res.metric("request_availability")["ci95"]
    for t in res.tiers:
        target = t["tier"] / 100
        if lo >= target:
            assert t["verdict"] == "met"
        elif hi < target:
            assert t["verdict"] == "missed"
        else:
            assert t["verdict"] == "uncertain"


def test_missing_slo_uses_default_and_says_so():
    sc = SC.model_copy(update={"slo": None})
    r = simulate(sc, replicas=4, horizon=2000, seed=1)
    note = r.summary.set_index("metric").loc["p_window_breach", "note"]
    assert f"{DEFAULT_SLO:g} % assumed" in note
    assert json.loads(r.to_json())["notes"]


def test_html_and_repr(res):
    html = res._repr_html_()
    assert "<table" in html and "request_availability" in html and "SLA tiers" in html
    assert "shop" in repr(res)


def test_progress_callback_and_bar(capsys):
    seen = []
    simulate(SC, replicas=10, horizon=500, chunk_size=4, progress=lambda done, total: seen.append((done, total)))
    assert seen == [(4, 10), (8, 10), (10, 10)]
    simulate(SC, replicas=10, horizon=500, chunk_size=4, progress=True)
    assert "replica" in capsys.readouterr().err


def test_bad_arguments():
    with pytest.raises(ValueError, match="engine"):
        simulate(SC, engine="bogus")
    with pytest.raises(ValueError, match="replicas"):
        simulate(SC, replicas=0)


def test_horizon_accepts_durations():
    r = simulate(SC, replicas=2, horizon="2d", seed=1)
    assert r.horizon == 48.0
    assert isinstance(r.summary, pd.DataFrame)
