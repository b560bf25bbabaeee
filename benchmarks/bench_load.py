"""What load costs the numba engine: one design with and without each part of the load model,
measured side by side in one run.

    python benchmarks/bench_load.py [--replicas 20000] [--rounds 5]

The design is ``scenarios/retry-storm.yaml``'s pool (six instances in three zones) in five
variants, alternated round by round after a warm-up that loads every kernel:

* ``min_healthy`` -- ``min_healthy: 5`` instead of a load (the model before issue 14);
* ``capacity``    -- ``capacity`` and a constant load (a real need of 4.2 instances);
* ``daily``       -- the same load with its daily profile (one tick an hour: 8760 events a year);
* ``overload``    -- plus ``overload`` (collapse, grace timers; no retries);
* ``retries``     -- plus client retries (the shipped retry storm).

and ``scenarios/circuit-breaker.yaml``'s API and its optional dependency in three:

* ``no-wait``     -- the API does not wait for recommendations (no timeout, no breaker);
* ``timeouts``    -- a 2 s timeout holds its workers (the hold is recomputed at every sweep);
* ``breaker``     -- plus the breaker (its timers, the load flow summed again when it moves).

Each prints the median seconds, the events per replica, the events/s and the ratio of its
events/s and of its seconds to the first variant of its group.  The issue's budget: load costs at
most 2x the events/s.
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
    storm = hasim.load(ROOT / "scenarios" / "retry-storm.yaml")
    api = storm.services["api"].model_dump(mode="json", exclude_unset=True)
    base = {k: v for k, v in api.items() if k not in ("capacity", "load", "overload", "retries")}
    out = {}
    for name, extra in (("min_healthy", {"min_healthy": 5}),
                        ("capacity", {"capacity": 100, "load": 420}),
                        ("daily", {"capacity": 100, "load": api["load"]}),
                        ("overload", {"capacity": 100, "load": api["load"], "overload": api["overload"]}),
                        ("retries", {"capacity": 100, "load": api["load"], "overload": api["overload"],
                                     "retries": api["retries"]})):
        data = storm.model_dump(mode="json", exclude_unset=True)
        data["services"] = {"api": {**base, **extra}}
        data["name"] = name
        out[name] = hasim.Scenario.model_validate(data)
    return out


def breaker_variants() -> dict:
    cb = hasim.load(ROOT / "scenarios" / "circuit-breaker.yaml")
    return {"no-wait": cb.replace({"services.api.breakers": {}, "services.api.timeouts": {},
                                   "services.api.latency": None}),
            "timeouts": cb.replace({"services.api.breakers": {}}),
            "breaker": cb}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args(argv)
    groups = [variants(), breaker_variants()]
    designs = {name: sc for g in groups for name, sc in g.items()}
    times, events = alternate(designs, args.replicas, args.rounds, seed=lambda r: 100 + r)
    print_table(groups, times, events, args.replicas)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
