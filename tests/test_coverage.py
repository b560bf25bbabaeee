"""Coverage of every interval hasim prints, against exact answers (the study of tests/_coverage.py).

Where a group of replicas expects at least MIN_OUTAGES outages, each 95 % interval must cover the
truth 95 +- 1.5 % of the time, within the 99 % binomial band of the number of groups (so a test
with 1000 groups accepts 93.5 - 1.8 .. 96.5 + 1.8 %; the normal interval on the replica mean this
replaced covered 88.7 % on the 1-of-2 pool and would fail).  Where fewer outages are expected no
interval can promise 95 % (the loss of each outage is unknown as well as their number), so the
tests there ask what the outputs promise instead: no zero-width interval, a one-sided bound when
nothing was seen, and no "met" verdict for an SLO the design misses.

The fast cases run in CI; ``-m study`` runs all of :data:`CASES` with 4000 groups (the figures in
benchmarks/README.md come from ``benchmarks/bench_coverage.py``, which runs the same study).
"""

from __future__ import annotations

import pytest

from ._coverage import CASES, MEASURES, Z99, Case, study
from hasim.results.estimate import MIN_OUTAGES

pytestmark = pytest.mark.slow

FAST = [
    Case("1-of-2 pool", 2, 1, 2000.0, 1000),
    Case("2-of-3 pool, MTBF 1000 h", 3, 2, 1000.0, 100),
    Case("1 instance", 1, 1, 2000.0, 20),
]
FEW = [
    Case("1-of-2 pool", 2, 1, 2000.0, 20),
    Case("2-of-3 pool, MTBF 1000 h", 3, 2, 1000.0, 20),
]


def _check(case: Case, groups: int) -> None:
    res = study(case, groups, seed=11)
    assert res["_width_zero"] == 0, "a zero-width interval was reported"
    band = 0.015 + Z99 * res["request_availability"]["se"]
    assert res["_met_wrongly"] <= 0.025 + Z99 * (0.025 * 0.975 / groups) ** 0.5, res["_met_wrongly"]
    if case.expected_outages < MIN_OUTAGES:
        return
    bad = {m: round(r["coverage"], 4) for m, r in res.items()
           if not m.startswith("_") and abs(r["coverage"] - 0.95) > band}
    assert not bad, f"{case.name}, {case.replicas} replicas: coverage outside 95 +- {100 * band:.1f} %: {bad}"


@pytest.mark.parametrize("case", FAST, ids=lambda c: f"{c.name}-{c.replicas}")
def test_coverage_from_a_handful_of_outages(case):
    assert case.expected_outages >= MIN_OUTAGES
    _check(case, groups=1000)


@pytest.mark.parametrize("case", FEW, ids=lambda c: f"{c.name}-{c.replicas}")
def test_few_outages_give_bounds_and_no_wrong_verdict(case):
    assert case.expected_outages < MIN_OUTAGES
    _check(case, groups=1000)


def test_zero_outages_give_a_one_sided_bound_that_covers():
    """A 1-of-2 pool over 20 replica-years expects 0.35 outages: most runs see none, and their
    interval [1 - bound, 1] must still contain the exact availability 95 % of the time or more."""
    res = study(Case("1-of-2 pool", 2, 1, 2000.0, 20), 1000, seed=5)
    assert res["_zero"] > 0.6
    assert res["request_availability"]["coverage"] >= 0.95 - Z99 * res["request_availability"]["se"]


def test_the_study_measures_every_interval_the_run_prints():
    assert {"request_availability", "time_availability", "downtime_minutes_per_year", "outages_per_year",
            "p_window_breach", "attribution", "entry_service"} == set(MEASURES)


@pytest.mark.study
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.name}-{c.replicas}-{c.years:g}y")
def test_coverage_study_in_full(case):
    _check(case, groups=4000)
