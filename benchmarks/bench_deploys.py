"""What releases, alert rules, paged repairs and maintenance windows cost the numba engine: one
pool with and without deploys, ``burn-rate-alerts.yaml`` with and without its rules and its noise,
and the pool with its repairs paged or its instances patched, side by side in one run.

    python benchmarks/bench_deploys.py [--replicas 20000] [--rounds 5]

The pool is ``scenarios/canary-vs-rolling.yaml``'s ``orders`` (six pods, MTBF 720 h) as the entry,
in four variants alternated round by round after a warm-up that loads every kernel:

* ``no deploys``  -- the pool alone (its instances' events only);
* ``harmless``    -- ten releases a week, none bad: the release timer's events, nothing else;
* ``rolling``     -- 10 % bad, rolled out 25 % every 5 minutes (four steps, noticed, rolled back);
* ``canary``      -- 10 % bad, a 5 % canary for 30 minutes (caught at the bake's end 90 % of the time).

``burn-rate-alerts.yaml`` without its rules (``no rules``), with its four (``4 rules``: their
evaluations, which count as no event of the model, are what they cost) and with its noise too
(``+ noise``: six spikes a day, each waking the rules), and the pool again with its repairs paged
(``paged``: an on-call answer before each repair, one more event each) or a weekly 4 h
maintenance window taking one pod out (``windows``).

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
    out["no rules"] = alerted.replace({"alerts": {}, "alert_noise": None})
    out["4 rules"] = alerted.replace({"alert_noise": None})
    out["+ noise"] = alerted
    alone = out["no deploys"]
    out["pool"] = alone
    out["paged"] = alone.replace({"services.orders.repair_paged": True, "oncall": {
        "respond": "5m", "night": {"dist": "lognormal", "median": "15m", "sigma": 0.8}}})
    out["windows"] = alone.replace({"services.orders.maintenance": {"every": "7d", "lasting": "4h"}})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    designs = variants()
    times, events = alternate(designs, args.replicas, args.rounds)
    names = list(designs)
    print_table((names[:4], names[4:7], names[7:]), times, events, args.replicas)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
