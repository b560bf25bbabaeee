"""What releases and alert rules cost the numba engine: one pool with and without deploys, and
``burn-rate-alerts.yaml`` with and without its rules, side by side in one run.

    python benchmarks/bench_deploys.py [--replicas 20000] [--rounds 5]

The pool is ``scenarios/canary-vs-rolling.yaml``'s ``orders`` (six pods, MTBF 720 h) as the entry,
in four variants alternated round by round after a warm-up that loads every kernel:

* ``no deploys``  -- the pool alone (its instances' events only);
* ``harmless``    -- ten releases a week, none bad: the release timer's events, nothing else;
* ``rolling``     -- 10 % bad, rolled out 25 % every 5 minutes (four steps, noticed, rolled back);
* ``canary``      -- 10 % bad, a 5 % canary for 30 minutes (caught at the bake's end 90 % of the time).

and ``burn-rate-alerts.yaml`` without its rules (``no rules``) and with its four (``4 rules``: their
evaluations, which count as no event of the model, are what they cost).

Prints per variant the median seconds, the events per replica, the events/s and the ratios of its
events/s and seconds to ``no deploys``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import hasim  # noqa: E402
from _alternate import alternate, print_table  # noqa: E402


def variants() -> dict:
    sc = hasim.load(ROOT / "scenarios" / "canary-vs-rolling.yaml")
    orders = sc.services["orders"].model_dump(mode="json", exclude_unset=True)
    canary = sc.services["payments"].model_dump(mode="json", exclude_unset=True)["deploys"]
    pool = {k: v for k, v in orders.items() if k != "deploys"}
    out = {}
    for name, deploys in (("no deploys", None), ("harmless", {**orders["deploys"], "bad": 0}),
                          ("rolling", orders["deploys"]), ("canary", canary)):
        svc = pool if deploys is None else {**pool, "deploys": deploys}
        out[name] = hasim.Scenario(name=name, entry="orders", horizon="1y", seed=1, services={"orders": svc})
    alerted = hasim.load(ROOT / "scenarios" / "burn-rate-alerts.yaml")
    out["no rules"] = alerted.model_copy(update={"alerts": {}})
    out["4 rules"] = alerted
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    designs = variants()
    times, events = alternate(designs, args.replicas, args.rounds)
    print_table((list(designs)[:4], list(designs)[4:]), times, events, args.replicas)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
