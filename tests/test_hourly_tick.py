"""The lazy hourly tick (``hasim.sim.kernel._hours``) is only a speed choice.

The numba kernel looks at the clock for a daily load profile only while some profiled shard could
serve differently at another hour, and a shard comfortable now asks for the tick only at the first
hour at which it would not be; the event loop's shortest path also skips the clock for a pool with
enough instances for every hour (``inst_plain == 2``).  Made eager -- every profiled shard treated
as exposed at every hour (``sh_ke = sh_kx = inf``) and no shortest path for them -- the kernel must
simulate the same histories: the same events, the same outages, the same measures to rounding (the
loss is then summed in more pieces).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hasim
from hasim.sim import kernel as _kernel
from hasim.sim.compile import compile_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DAY = [0.35, 0.3, 0.3, 0.3, 0.35, 0.45, 0.6, 0.8, 0.95, 1, 1, 1, 1, 1, 1, 1, 0.95, 0.9, 0.85, 0.8, 0.7, 0.6, 0.5, 0.4]


def _profiled(name: str, service: str) -> hasim.Scenario:
    """A shipped scenario whose entry's load follows the day above (its declared load at the peak)."""
    sc = hasim.load(SCENARIOS / name)
    svc = sc.services[service]
    peak = svc.load.rate if svc.load.rate is not None else svc.load.utilisation * svc.capacity * svc.replicas
    return sc.replace({f"services.{service}.load": {"rate": peak, "daily": DAY}})


CASES = {
    "ha-rest-api-daily": lambda: _profiled("ha-rest-api.yaml", "edge"),   # health checks, ASG, DNS
    "retry-storm": lambda: hasim.load(SCENARIOS / "retry-storm.yaml"),     # collapse, retries
    "retry-budget": lambda: hasim.load(SCENARIOS / "retry-budget.yaml"),
    "circuit-breaker-daily": lambda: _profiled("circuit-breaker.yaml", "api"),  # timeouts, breaker, admit
    "autoscaling-daily": lambda: _profiled("autoscaling.yaml", "api"),
    "static-stability-daily": lambda: _profiled("static-stability.yaml", "api"),
}


def _run(model, replicas: int = 64, horizon: float = 2 * 8760.0):
    out = _kernel.new_output(replicas, model.n_causes, model.n_services, 24, 16, model.n_alerts)
    _kernel.simulate_replicas(model, np.uint64(11), np.int64(0), np.int64(replicas), horizon, 730.0,
                              np.int64(24), 0.999, 0.0, out)
    return out


def _eager(model):
    inf = np.full_like(model.sh_ke, np.inf)
    return model._replace(sh_ke=inf, sh_kx=np.full_like(model.sh_kx, np.inf),
                          inst_plain=np.where(model.inst_plain == 2, 0, model.inst_plain))


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_lazy_tick_simulates_what_an_eager_one_does(case):
    model = compile_scenario(CASES[case]()).model
    assert model.day_on and len(model.day_sh) > 0, "the case must have a daily profile"
    lazy, eager = _run(model), _run(_eager(model))
    assert lazy.events.sum() > 0
    np.testing.assert_array_equal(lazy.events, eager.events)
    np.testing.assert_array_equal(lazy.outages, eager.outages)
    np.testing.assert_array_equal(lazy.out_cause, eager.out_cause)
    np.testing.assert_array_equal(lazy.breaches, eager.breaches)
    for name in ("out_start", "out_dur", "longest", "down", "overload"):
        np.testing.assert_allclose(getattr(lazy, name), getattr(eager, name), rtol=0, atol=1e-9, err_msg=name)
    for name in ("ra", "ta", "degraded", "loss", "svc_ra", "win", "worst"):
        np.testing.assert_allclose(getattr(lazy, name), getattr(eager, name), rtol=1e-9, atol=1e-12, err_msg=name)

