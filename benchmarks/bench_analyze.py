"""How long the exact solver takes on every shipped scenario (median of repeated runs).

    python benchmarks/bench_analyze.py
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import hasim

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    print(f"{'scenario':<22} {'services':>8} {'zones':>5} {'median ms':>10} {'exact':>6}")
    for path in sorted((ROOT / "scenarios").glob("*.*ml")):
        sc = hasim.load(path)
        times = []
        for _ in range(7):
            t0 = time.perf_counter()
            result = hasim.analyze(sc)
            times.append(time.perf_counter() - t0)
        print(f"{path.name:<22} {len(sc.services):>8} {len(sc.zones):>5} "
              f"{1e3 * statistics.median(times):>10.1f} {str(result.exact):>6}")


if __name__ == "__main__":
    main()
