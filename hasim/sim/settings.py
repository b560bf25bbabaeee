"""Run settings both engines derive the same way: the window count, the windows kept, the seed.

:mod:`hasim.sim.engine` (the numba kernel's driver) and :mod:`hasim.sim.reference` (the
SimPy engine) both import this module, and it imports no other part of hasim
(standard library only), so neither engine imports the other for them.
"""

from __future__ import annotations

import math

__all__ = ["MASK64", "MAX_WINDOW_VALUES", "keep_windows", "n_windows"]

#: A seed or replica number as the unsigned 64-bit word the random streams and sample keys take.
MASK64 = (1 << 64) - 1
#: Window availabilities kept per run for ``Results.windows`` (breach counts use every window).
MAX_WINDOW_VALUES = 4_000_000


def n_windows(horizon: float, window: float) -> int:
    """Windows of length ``window`` covering ``horizon`` (the last may be partial)."""
    n = max(1, math.ceil(horizon / window))
    while n > 1 and (n - 1) * window >= horizon:
        n -= 1
    while n * window < horizon:
        n += 1
    return n


def keep_windows(keep: int | None, windows: int, replicas: int) -> int:
    """Window availabilities kept per replica: ``keep`` (default: as many as fit in
    :data:`MAX_WINDOW_VALUES` over ``replicas``, at least one), within ``0 .. windows``."""
    if keep is None:
        keep = min(windows, max(1, MAX_WINDOW_VALUES // replicas))
    return max(0, min(int(keep), windows))
