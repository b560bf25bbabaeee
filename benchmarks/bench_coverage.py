"""The coverage study of hasim's 95 % intervals (issue 13): measured coverage against exact answers.

    python benchmarks/bench_coverage.py [--groups 4000] [--seed 1]

For every case of ``tests/_coverage.py`` (k-of-n pools of exponential instances with exact
first-year answers, from about 90 outages per run down to 0.35) it cuts one large run into
``--groups`` independent runs, and prints, for each interval hasim prints, the share of runs whose
interval contains the truth, with its binomial standard error; next to it, the coverage of the
normal interval on the replica mean that hasim printed before (request availability), the share of
runs that saw no outage, and the share whose verdict called "met" an SLO the design misses.  Then
the precision runs: ``--precision`` stops, their bias and their coverage over 200 seeds.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests._coverage import CASES, Case, study  # noqa: E402
from hasim.sim.engine import simulate  # noqa: E402


def _normal_coverage(case: Case, groups: int, seed: int) -> float:
    """Coverage of ``mean +- 1.96 sd / sqrt(n)`` of the request availability (the rule before issue 13)."""
    big = simulate(case.scenario(), replicas=case.replicas * groups, horizon=case.horizon, seed=seed,
                   keep_windows=0, keep_outages=1)
    x = big.out.ra.reshape(groups, case.replicas)
    mean, half = x.mean(axis=1), 1.96 * x.std(axis=1, ddof=1) / math.sqrt(case.replicas)
    truth = case.exact()["request_availability"]
    return float(np.mean((mean - half <= truth) & (truth <= mean + half)))


def _precision(case: Case, precision: float, seeds: int = 200) -> str:
    exact_u = 1.0 - case.exact()["request_availability"]
    est, covered, reasons, n = [], 0, {}, []
    for s in range(seeds):
        r = simulate(case.scenario(), replicas=case.replicas, horizon=case.horizon, seed=1000 + s,
                     precision=precision, max_replicas=1_000_000, keep_windows=0, keep_outages=1)
        ra = r.metric("request_availability")
        lo, hi = ra["ci95"]
        covered += lo <= 1.0 - exact_u <= hi
        est.append(1.0 - ra["mean"])
        reasons[r.stop_reason] = reasons.get(r.stop_reason, 0) + 1
        n.append(r.n_replicas)
    e = np.asarray(est)
    bias = e.mean() / exact_u - 1.0
    se = e.std(ddof=1) / math.sqrt(seeds) / exact_u
    return (f"{case.name:26s} first batch {case.replicas:4d}, precision {100 * precision:g} %: "
            f"stops {reasons}, median {int(np.median(n))} replicas, bias {100 * bias:+.1f} % +- {100 * se:.1f} %, "
            f"coverage {100 * covered / seeds:.1f} % +- {100 * math.sqrt(0.95 * 0.05 / seeds):.1f} %")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--groups", type=int, default=4000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    se = 100 * math.sqrt(0.95 * 0.05 / args.groups)
    print(f"coverage in % over {args.groups} runs per case (binomial SE {se:.2f} %); "
          "'normal': the interval before issue 13")
    cols = ["request_availability", "time_availability", "downtime_minutes_per_year", "outages_per_year",
            "p_window_breach", "attribution", "entry_service"]
    short = ["RA", "TA", "down", "outages", "breach", "cause", "service"]
    print(f"{'case':26s} {'reps':>5s} {'E[out]':>7s} {'zero':>5s} {'normal':>6s} "
          + " ".join(f"{c:>7s}" for c in short) + f" {'met!':>5s}")
    for case in CASES:
        t = time.perf_counter()
        res = study(case, args.groups, seed=args.seed)
        normal = _normal_coverage(case, args.groups, args.seed)
        print(f"{case.name:26s} {case.replicas:5d} {case.expected_outages:7.2f} {100 * res['_zero']:5.1f} "
              f"{100 * normal:6.1f} " + " ".join(f"{100 * res[c]['coverage']:7.1f}" for c in cols)
              + f" {100 * res['_met_wrongly']:5.1f}   ({time.perf_counter() - t:.0f} s)", flush=True)
    print("\nprecision runs over 200 seeds:")
    print(_precision(Case("1-of-2 pool", 2, 1, 2000.0, 100), 0.10))
    print(_precision(Case("2-of-3 pool, MTBF 1000 h", 3, 2, 1000.0, 100), 0.10))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
