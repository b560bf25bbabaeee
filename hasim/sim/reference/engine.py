"""The reference engine's entry points: :func:`simulate_reference` and :func:`trace`.

:class:`Replica` is one simulated history, assembled from the mixins that hold each
mechanism's processes (one module each), the settle step and the measures, over the
state of :class:`~hasim.sim.reference.state.ReplicaState`.  :meth:`Replica.run`
starts every process in a fixed order (zones, instances, then service by service),
which fixes the order of the random draws.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from hasim.sim.kernel._output import SimOutput, new_output
from hasim.model.scenario import Scenario
from hasim.results.estimate import DEFAULT_SLO
from hasim.sim.reference.alerts import AlertProcesses
from hasim.sim.reference.maintenance import MaintenanceProcesses
from hasim.sim.reference.autoscaling import AutoscalingProcesses
from hasim.sim.reference.breakers import BreakerProcesses
from hasim.sim.reference.caches import CacheProcesses
from hasim.sim.reference.day import DayProcesses
from hasim.sim.reference.deploys import DeployProcesses
from hasim.sim.reference.evaluation import Evaluation
from hasim.sim.reference.failover import FailoverProcesses
from hasim.sim.reference.health import HealthProbes
from hasim.sim.reference.instances import InstanceProcesses
from hasim.sim.reference.measures import Measures
from hasim.sim.reference.overload import OverloadProcesses
from hasim.sim.reference.replication import ReplicationProcesses
from hasim.sim.reference.routers import RouterProcesses
from hasim.sim.reference.state import ZERO, ReplicaState, Signal
from hasim.sim.reference.static import Model
from hasim.sim.reference.zones import ZoneProcesses
from hasim.sim.settings import keep_windows as _keep_windows, n_windows
from hasim.units import parse_duration

__all__ = ["simulate_reference", "trace"]


class Replica(ZoneProcesses, InstanceProcesses, FailoverProcesses, HealthProbes, RouterProcesses,
              CacheProcesses, OverloadProcesses, BreakerProcesses, AutoscalingProcesses, ReplicationProcesses,
              DeployProcesses, AlertProcesses, MaintenanceProcesses, DayProcesses, Evaluation, Measures, ReplicaState):
    """One simulated history of length ``horizon``; writes row ``r`` of ``out``."""

    def run(self) -> None:
        """Simulate the history up to the horizon and write its row of the output."""
        env, m = self.env, self.m
        self._init_replication()
        if m.day_on:
            env.process(self._hours())
        for z in range(len(m.zones)):
            env.process(self._zone_life(z))
        windows = self._init_maintenance()   # before the clocks: a window in progress holds some
        for inst in self.instances:
            inst.proc = env.process(self._instance_life(inst))
        for s, at in windows:
            env.process(self._maintenance_life(s, at))
        for k in range(len(self.releases)):
            env.process(self._deploy_life(k))
        for k in range(len(self.rules)):
            env.process(self._alert_life(k))
        if self.m.sc.alert_noise is not None:
            env.process(self._noise_life())
        if self.rules and self.in_outage:  # an outage from the start
            self._alerts_open()
        for s in self.svc:
            hc = s.spec.health_check
            if s.router is None and hc is not None:
                for sh in s.shards:
                    for inst in sh.instances:
                        inst.probe = Signal(env)
                        env.process(self._health_probes(
                            hc, (lambda i=inst: i.available), (lambda i=inst: i.routed),
                            (lambda i=inst: self._flip_instance(i)), inst.probe))
            for sh in s.shards:
                if s.spec.mode == "standby":
                    env.process(self._standby_failover(sh))
                elif s.spec.mode == "quorum":
                    env.process(self._quorum_election(sh))
            if s.router is not None:
                env.process(self._dns(s))
                if hc is not None:
                    for i, u in enumerate(s.router.targets):
                        wake = Signal(env)
                        s.router.probes.append(wake)
                        env.process(self._health_probes(
                            hc, (lambda u=u: self.svc[u].status != ZERO),
                            (lambda s=s, i=i: s.router.seen_up[i]),
                            (lambda s=s, i=i: self._flip_target(s, i)), wake))
            for c in s.caches:
                env.process(self._cache(c))
        if self.start > 0:
            env.run(until=self.start)
            self._advance(self.start)
            self._forget_warmup()
        env.run(until=self.end)
        self._finish()


def run_settings(scenario: Scenario, replicas, seed, horizon):
    """The run's settings, the scenario's where an argument is None.

    Parameters
    ----------
    scenario : Scenario
        The design.
    replicas, seed : int or None
        Overrides of the scenario's.
    horizon : float, str or None
        Override of the scenario's horizon, in hours or as a duration (``"10y"``).

    Returns
    -------
    tuple
        ``(replicas, seed, horizon, window, n_windows, threshold)``; ``threshold`` is the
        window availability below which a window breaches (the slo, or :data:`DEFAULT_SLO`).

    Raises
    ------
    ValueError
        Fewer than 1 replica, or a horizon that is not positive.
    """
    replicas = scenario.replicas if replicas is None else int(replicas)
    seed = scenario.seed if seed is None else int(seed)
    horizon = float(scenario.horizon if horizon is None else parse_duration(horizon))
    if replicas < 1:
        raise ValueError("replicas must be at least 1")
    if not horizon > 0:
        raise ValueError("horizon must be positive")
    window = float(scenario.window)
    slo = scenario.slo if scenario.slo is not None else DEFAULT_SLO
    return replicas, seed, horizon, window, n_windows(horizon, window), slo / 100.0


def replica_rng(seed: int, replica: int) -> np.random.Generator:
    """The random stream of replica ``replica`` of a run seeded ``seed`` (independent of the others).

    Parameters
    ----------
    seed, replica : int
        The run's seed and the replica's index.

    Returns
    -------
    numpy.random.Generator
        ``default_rng(SeedSequence([seed, replica]))``.
    """
    return np.random.default_rng(np.random.SeedSequence([seed, replica]))


def simulate_reference(scenario: Scenario, replicas: int | None = None, seed: int | None = None,
                       horizon: float | str | None = None, *, keep_windows: int | None = None,
                       keep_outages: int = 16, progress: bool | Callable[[int, int], None] | None = None,
                       warmup: float = 0.0) -> tuple[SimOutput, dict]:
    """Simulate ``scenario`` with the SimPy reference engine.

    Parameters are those of :func:`hasim.sim.engine.simulate`.  Replica ``i`` draws
    from ``numpy.random.default_rng(SeedSequence([seed, i]))``: its draws differ
    from the numba engine's, its distributions do not.

    Returns
    -------
    out : SimOutput
        The per-replica arrays documented in :mod:`hasim.sim.kernel._output`.
    info : dict
        ``events`` (primary events processed), ``elapsed_seconds``, ``replicas``,
        ``seed``, ``horizon``, ``window``, ``n_windows``, ``threshold`` (the
        window availability below which a window breaches).
    """
    replicas, seed, horizon, window, windows, threshold = run_settings(scenario, replicas, seed, horizon)
    model = Model(scenario)
    keep_windows = _keep_windows(keep_windows, windows, replicas)
    out = new_output(replicas, len(model.causes), len(model.order), keep_windows, max(0, int(keep_outages)),
                     len(scenario.alerts))
    bar = None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=replicas, unit="replica", desc=f"{scenario.name} (simpy)", leave=False)
    started = time.perf_counter()
    for r in range(replicas):
        Replica(model, replica_rng(seed, r), horizon, window, windows, threshold, out, r, sample=(seed, r),
                warmup=warmup).run()
        if bar is not None:
            bar.update(1)
        elif callable(progress):
            progress(r + 1, replicas)
    elapsed = time.perf_counter() - started
    if bar is not None:
        bar.close()
    info = {"events": int(out.events.sum()), "elapsed_seconds": elapsed, "replicas": replicas, "seed": seed,
            "horizon": horizon, "window": window, "n_windows": windows, "threshold": threshold,
            "engine": "simpy", "warmup": float(warmup)}
    return out, info


def trace(scenario: Scenario, replica: int = 0, seed: int | None = None, horizon: float | str | None = None):
    """The event log of one replica as a DataFrame ``time_h, component, event, served``.

    Parameters
    ----------
    scenario : Scenario
        The design.
    replica : int
        The replica's index: the same history :func:`simulate_reference` computes for it.
    seed : int, optional
        Default: the scenario's seed.
    horizon : float or str, optional
        Default: the scenario's horizon.

    Returns
    -------
    pandas.DataFrame
        One row per logged event; ``served`` is the entry's served fraction right after
        the event (at the start of a DNS ramp: its value at that instant).
    """
    import pandas as pd

    _, seed, horizon, window, windows, threshold = run_settings(scenario, 1, seed, horizon)
    model = Model(scenario)
    out = new_output(1, len(model.causes), len(model.order), 0, 0, len(scenario.alerts))
    rows: list = []
    Replica(model, replica_rng(seed, replica), horizon, window, windows, threshold, out, 0, log=rows,
             sample=(seed, replica)).run()
    frame = pd.DataFrame(rows, columns=["time_h", "component", "event", "served"])
    frame["served"] = frame["served"].ffill().fillna(1.0)
    return frame
