"""hasim.plot: every chart returns its Axes, draws on a given one and draws something."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from hasim import plot  # noqa: E402

from .conftest import SCENARIOS  # noqa: E402




def _fresh_ax():
    fig, ax = plt.subplots()
    return ax


def _top_label(ax) -> str:
    ticks = ax.get_yticks()
    return ax.get_yticklabels()[int(np.argmax(ticks))].get_text()


def _drawn(ax) -> int:
    return len(ax.patches) + len(ax.lines) + len(ax.collections) + len(ax.texts)


def test_import_hasim_stays_light():
    code = ("import sys, hasim; heavy = [m for m in ('matplotlib', 'numba', 'pandas', 'jinja2') if m in sys.modules];"
            "assert not heavy, heavy; assert hasim.plot and hasim.compare and hasim.write_report")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("draw", [
    lambda r, ax: plot.downtime_distribution(r, ax=ax),
    lambda r, ax: plot.window_breaches(r, ax=ax),
    lambda r, ax: plot.attribution(r, ax=ax),
    lambda r, ax: plot.attribution(r, ax=ax, by="stage"),
    lambda r, ax: plot.attribution(r, ax=ax, by="kind"),
    lambda r, ax: plot.outage_timeline(r, ax=ax),
], ids=["distribution", "windows", "attribution", "by-stage", "by-kind", "timeline"])
def test_results_charts_draw_on_the_given_axes(results, draw):
    ax = _fresh_ax()
    assert draw(results, ax) is ax
    assert _drawn(ax) > 0


@pytest.mark.parametrize("draw", [plot.downtime_distribution, plot.window_breaches, plot.attribution,
                                  plot.outage_timeline])
def test_results_charts_create_a_figure_without_ax(results, draw):
    ax = draw(results)
    assert isinstance(ax, Axes)
    assert ax.figure is not None


def test_distribution_has_one_bar_per_bin_and_the_slo_line(results):
    ax = plot.downtime_distribution(results, bins=25, log=False)
    assert len(ax.patches) == 25
    slo_allowed = (1 - 0.999) * 525600
    assert any(np.allclose(line.get_xdata(), slo_allowed) for line in ax.lines)


def test_attribution_has_one_bar_per_cause(results):
    ax = plot.attribution(results, top=10)
    assert len(ax.patches) == min(10, len(results.attribution))
    assert _top_label(ax) == results.attribution["cause"].iloc[0]  # largest on top


def test_attribution_by_stage_falls_back_to_kinds_without_stages(results):
    ax = plot.attribution(results, by="stage")
    expected = "Downtime by stage" if getattr(results, "stages", None) is not None else "kind of cause"
    assert expected in ax.get_title(loc="left")
    with pytest.raises(ValueError):
        plot.attribution(results, by="colour")


def test_architecture_draws_every_service_and_every_edge(design):
    ax = plot.architecture(design)
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(boxes) == len(design.services)
    # edge -> lb, dr-api; lb -> api; api -> db, config (cached), search (optional); db -> coord (failover)
    assert len(arrows) == 7
    assert any(a.get_linestyle() not in ("-", "solid") for a in arrows)  # cached / optional / failover dashed
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "edge  ◀ entry" in texts and "primary" in texts and "secondary" in texts
    assert "3× active · needs 2" in texts and "2× hot standby" in texts and "3× quorum" in texts


def test_architecture_layers_put_the_entry_on_top_and_dependencies_below(design):
    layers = plot._layers(design)
    assert layers[0] == ["edge"]
    depth = {name: i for i, layer in enumerate(layers) for name in layer}
    for name, svc in design.services.items():
        for child, _, _ in plot._children(svc):
            assert depth[child] > depth[name]


def test_architecture_respects_ax_and_availability(design):
    ax = _fresh_ax()
    assert plot.architecture(design, ax=ax, availability={"api": 0.9991}) is ax
    assert any("A=99.91 %" in t.get_text() for t in ax.texts)


def test_representative_outage_is_of_the_top_cause(results):
    rep = plot.representative_outage(results)
    if not len(results.outages):
        assert rep is None
        return
    top = results.attribution["cause"].iloc[0]
    assert rep["cause"] == top
    durations = results.outages.loc[results.outages["cause"] == top, "duration_h"]
    assert abs(rep["duration_h"] - durations.median()) == pytest.approx(
        (durations - durations.median()).abs().min())


def test_representative_outage_uses_the_weighted_median_when_rows_carry_weights():
    # Three short outages recorded once each, one long outage standing for ten: the weighted median
    # is the long one, the unweighted one a short one.
    class Sampled:
        outages = pd.DataFrame({"replica": [0, 1, 2, 3], "start_h": [1.0, 2.0, 3.0, 4.0],
                                "duration_h": [0.1, 0.2, 0.3, 2.0], "cause": ["db"] * 4,
                                "weight": [1.0, 1.0, 1.0, 10.0]})
        attribution = pd.DataFrame({"cause": ["db"], "kind": ["instance"], "downtime_minutes_per_year": [5.0]})

    rep = plot.representative_outage(Sampled())
    assert rep["median_duration_h"] == 2.0 and rep["duration_h"] == 2.0
    assert rep["count"] == 4 and rep["outages"] == 13.0

    class Unweighted(Sampled):
        outages = Sampled.outages.drop(columns="weight")

    rep = plot.representative_outage(Unweighted())
    assert rep["median_duration_h"] == pytest.approx(0.25) and rep["outages"] == 4.0
    # Equal weights give the ordinary median.
    assert plot._weighted_quantile(np.array([4.0, 1.0, 3.0, 2.0]), np.ones(4), 0.5) == 2.5
    assert plot._weighted_quantile(np.array([4.0, 1.0, 3.0]), None, 0.5) == 3.0


def _texts(ax):
    """Every non-empty text drawn on the axes (annotations, labels, title) with its window extent."""
    from matplotlib.text import Text

    ax.figure.canvas.draw()
    texts = [t for t in ax.get_children() + [ax.xaxis.label, ax.yaxis.label]
             if isinstance(t, Text) and t.get_visible() and t.get_text().strip()]
    return [(t.get_text(), t.get_window_extent()) for t in texts]


def _drawn_lost(ax) -> float:
    x, y = ax.lines[0].get_xydata().T
    return float(np.sum(np.diff(x) * (1.0 - 0.5 * (y[1:] + y[:-1]))))


@pytest.fixture(scope="module")
def flagship():
    from hasim import load

    return load(SCENARIOS / "ha-rest-api.yaml")


@pytest.mark.slow
def test_timeline_draws_the_simulated_served_fraction_and_its_lost_integral(design):
    from hasim.sim.trace import find_outage

    trace = find_outage(design, "db", 90 / 3600)
    assert trace is not None and trace.cause == "db"
    # The tracer's piecewise-linear s(t) integrates to what the engine itself integrated.
    assert trace.integral_lost_hours() == pytest.approx(trace.lost_hours, rel=1e-6)
    ax = plot.outage_timeline(scenario=design, trace=trace)
    scale, unit = plot._time_unit(trace.duration_h)
    lost = _drawn_lost(ax)
    assert lost == pytest.approx(trace.lost_hours * scale, rel=1e-6)
    assert f"{lost:.3g} request-{unit} lost" in ax.get_title(loc="left")
    # The line ends at 100 % on both sides and follows the trace in between.
    x, y = ax.lines[0].get_xydata().T
    assert y[0] == y[-1] == 1.0 and (y[2:-2] == trace.served).all()
    labels = "\n".join(t.get_text() for t in ax.texts)
    assert "db: failure detected" in labels  # the engine's log, in words


def test_flagship_timeline_shows_the_dns_failover_to_dr(flagship):
    # Issue 17 item 5: losing eu-west-1a while it holds every Redis master is a full outage, but the
    # Route 53 record moves 98 % of the traffic to the DR region within about two and a half minutes;
    # the old chart drew 0 % served for the whole 16 minutes.
    from hasim.sim.trace import find_outage

    trace = find_outage(flagship, "zone eu-west-1a", 16.2 / 60)
    assert trace is not None and trace.exact_match
    t, s = trace.times_h * 60, trace.served
    assert s[0] == 0.0
    assert s[t >= 3.0].min() >= 0.98 - 1e-9
    assert trace.lost_hours * 60 < 3.0 < trace.duration_h * 60
    ax = plot.outage_timeline(scenario=flagship, trace=trace)
    labels = "\n".join(t.get_text() for t in ax.texts)
    assert "edge: DNS answers dr-lb" in labels and "98 % of clients on dr-lb" in labels
    assert any("98 % served" == x.get_text() for x in ax.texts)


@pytest.mark.slow
def test_timeline_labels_do_not_overlap(flagship):
    from hasim.sim.trace import find_outage

    for target in (16.2, 16.9, 29.0):
        trace = find_outage(flagship, "zone eu-west-1a", target / 60)
        ax = plot.outage_timeline(scenario=flagship, trace=trace)
        boxes = _texts(ax)
        assert len(boxes) > 8
        for i, (a, ba) in enumerate(boxes):
            for b, bb in boxes[i + 1:]:
                assert not ba.overlaps(bb), (target, a, b)


def test_timeline_from_events_and_without_outages(design):
    ax = plot.outage_timeline(scenario=design, outage={"start_h": 10.0, "duration_h": 0.05, "cause": "db failover"},
                              events=[(0.01, "detected"), (0.03, "promoted")])
    # Without a trace the milestones are listed as given, numbered on the chart.
    labels = [t.get_text() for t in ax.texts]
    assert "1   36 s   detected" in labels and "2   1.8 min   promoted" in labels
    assert "3   3.0 min   recovered: 100 % served" in labels

    class NoOutages:
        outages = pd.DataFrame(columns=["replica", "start_h", "duration_h", "cause"])
        attribution = pd.DataFrame(columns=["cause", "kind", "downtime_minutes_per_year"])

    ax = plot.outage_timeline(NoOutages())
    assert "no outage" in ax.texts[0].get_text()


def _sensitivity_frame():
    return pd.DataFrame({
        "parameter": ["db MTTR", "api replicas", "zone a MTBF"], "unit": ["h", "count", "h"],
        "base_value": [2.0, 3, 8760.0], "low_value": [1.0, 2, 4380.0], "high_value": [4.0, 4, 17520.0],
        "downtime_delta_low": [-10.0, 30.0, 5.0], "downtime_delta_high": [20.0, -3.0, -2.0],
        "downtime_delta_low_ci": [2.0, 4.0, 8.0], "downtime_delta_high_ci": [3.0, 1.0, 8.0],
        "effect": [20.0, 30.0, 5.0], "note": ["", "", ""],
    })


def test_tornado_has_two_bars_per_parameter():
    frame = _sensitivity_frame()
    ax = _fresh_ax()
    assert plot.tornado(frame, ax=ax) is ax
    assert len(ax.patches) == 2 * len(frame)
    assert _top_label(ax) == "db MTTR  (1h / 4h)"  # the table's order (sensitivity() sorts by effect)
    faded = [p for p in ax.patches if p.get_alpha() is not None and p.get_alpha() < 1]
    assert len(faded) == 2  # zone a MTBF: both changes inside their CI


def test_comparison_chart():
    table = pd.DataFrame({
        "measure": ["downtime_minutes_per_year"] * 2, "label": ["downtime"] * 2, "unit": ["min/year"] * 2,
        "design": ["a", "b"], "mean": [50.0, 10.0], "ci_low": [45.0, 8.0], "ci_high": [55.0, 12.0],
        "diff": [np.nan, -40.0], "diff_ci_low": [np.nan, -43.0], "diff_ci_high": [np.nan, -37.0],
        "verdict": ["reference", "better"]})
    ax = _fresh_ax()
    assert plot.comparison(table, ax=ax) is ax
    assert len(ax.patches) == 2
    assert any("Δ -40 ± 3" in t.get_text() for t in ax.texts)
    with pytest.raises(ValueError):
        plot.comparison(table, measure="outages_per_year")


def test_sweep_chart():
    frame = pd.DataFrame({"parameter": "api replicas", "value": [2, 3, 4], "unit": "count",
                          "request_availability": [0.999, 0.9995, 0.9999],
                          "request_availability_ci_low": [0.9985, 0.9993, 0.9998],
                          "request_availability_ci_high": [0.9995, 0.9997, 1.0]})
    ax = _fresh_ax()
    assert plot.sweep(frame, ax=ax, slo=99.95) is ax
    assert len(ax.lines) == 2  # the curve and the SLO line
    assert len(ax.collections) == 1  # the CI band
    assert ax.get_xlabel() == "api replicas"


def test_sweep_chart_marks_points_resting_on_few_outages():
    frame = pd.DataFrame({"parameter": "api replicas", "value": [2, 3, 4], "unit": "count",
                          "request_availability": [0.999, 0.9995, 0.99999],
                          "request_availability_ci_low": [0.9985, 0.9993, 0.9999],
                          "request_availability_ci_high": [0.9995, 0.9997, 1.0], "outages": [120, 40, 2]})
    ax = plot.sweep(frame, ax=_fresh_ax())
    hollow = [ln for ln in ax.lines if ln.get_label().startswith("fewer than")]
    assert len(hollow) == 1 and list(hollow[0].get_xdata()) == [4]
    assert ax.get_legend() is not None


def test_window_name():
    assert plot.window_name(730) == "month"
    assert plot.window_name(168) == "week"
    assert plot.window_name(100) == "4.17d window"


def test_readable_numbers_without_exponents():
    # Issue 17 item 12: "MTBF 1e+03y", "8.81e-06 s/y".
    from hasim.text import duration, in_unit, minutes, minutes_unit

    assert duration(8760 * 1000) == "1000y" and duration(8.8e6) == "1005y" and duration(4380) == "182d"
    assert duration(0.025) == "1.5m" and duration(float("inf")) == "∞"
    assert in_unit(8.81e-06 / 60, "s") == "< 0.01 s" and in_unit(45.5, "min") == "45.5 min"
    assert in_unit(0, "min") == "0 min" and in_unit(526.0, "h") == "8.77 h"
    assert minutes_unit([0.2, 45.5]) == ("min", 1.0) and minutes_unit([0.5]) == ("s", 1 / 60)
    assert minutes_unit([300.0]) == ("h", 60.0) and minutes(45.5) == "45.5 min"


def _all_text(ax) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in ax.get_children() + [ax.xaxis.label] if isinstance(t, Text) and t.get_text()]


def test_attribution_uses_one_unit_per_chart():
    class Tiny:
        attribution = pd.DataFrame({"cause": ["zone a", "db", "lb"], "kind": ["zone", "instance", "instance"],
                                    "downtime_minutes_per_year": [40.1, 0.4, 8.81e-06 / 60],
                                    "ci_low": [38.7, 0.3, 0.0], "ci_high": [41.6, 0.5, 2e-7]})

    ax = plot.attribution(Tiny())
    labels = [t for t in _all_text(ax) if "/y" in t]
    assert len(labels) == 3 and all(" min/y" in t for t in labels)
    assert "< 0.01 min/y" in labels[2] and "e-0" not in " ".join(labels)
    assert "minutes per year" in ax.get_xlabel()
    # Bars are drawn in the unit of their labels.
    assert ax.patches[0].get_width() == pytest.approx(40.1)


def test_distribution_labels_share_the_axis_unit(results):
    ax = plot.downtime_distribution(results)
    unit = ax.get_xlabel().split(",")[1].split()[0]
    short = {"seconds": "s", "minutes": "min", "hours": "h", "days": "d"}[unit]
    marks = [t for t in _all_text(ax) if t.endswith("/y")]
    assert marks and all(t.endswith(f" {short}/y") for t in marks)


def test_architecture_prints_long_mtbfs_plainly(design):
    rare = design.replace({"services.search.failure": {"mtbf": "1000y"}})
    ax = plot.architecture(rare)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "MTBF 1000y" in texts and "e+" not in texts


def test_downtime_distribution_says_when_it_rests_on_few_outages():
    from hasim import Scenario, simulate

    quiet = Scenario(name="quiet", entry="a", services={"a": {"replicas": 2, "mtbf": "2000h", "mttr": "4h"}})
    res = simulate(quiet, replicas=20, seed=1)
    assert res.total_outages < 10
    ax = plot.downtime_distribution(res, ax=_fresh_ax())
    assert "indicative" in ax.get_title(loc="left")


def test_utilisation_draws_one_exact_curve_per_pool(design):
    import hasim
    from matplotlib.figure import Figure

    sc = hasim.load(SCENARIOS / "static-stability.yaml")
    ax = Figure().add_subplot()
    assert plot.utilisation(sc, ax=ax) is ax
    (line,) = [ln for ln in ax.get_lines() if ln.get_label() == "api"]
    x, y = line.get_data()
    # P(U >= u) steps down from 1; at 105 % (a zone lost, or two instances) it is the share of time short.
    short = hasim.analyze(sc).load[0]["overload_probability"]
    assert y[0] == 1.0 and np.all(np.diff(y) <= 1e-15)
    assert y[np.searchsorted(x, 1.0)] == pytest.approx(short, rel=1e-9)
    empty = plot.utilisation(design)   # no capacity anywhere: a note, not an error
    assert empty.texts and "no pool declares a capacity" in empty.texts[0].get_text()
