"""Run a chaos experiment on either engine: :func:`chaos`."""

from __future__ import annotations

import time
from pathlib import Path

from hasim.model.chaos import Experiment, load_experiment
from hasim.model.scenario import Scenario
from hasim.model.structure import labels
from hasim.results.chaos import ChaosResult
from hasim.sim.engine import simulate

__all__ = ["chaos"]

#: Outage records kept per replica: an experiment's replica has a handful, so every one is kept
#: (``ChaosResult.complete`` says whether that held).
_KEEP_OUTAGES = 256


def chaos(scenario: Scenario, experiment: Experiment | str | Path, *, engine: str = "numba",
          replicas: int | None = None, seed: int | None = None, progress: bool = False) -> ChaosResult:
    """Inject an experiment's faults into ``scenario`` and measure what the design does.

    Parameters
    ----------
    scenario : Scenario
        The design.
    experiment : Experiment, or path of an experiment file
        The faults, what is observed and what is expected (:mod:`hasim.model.chaos`).
    engine : {'numba', 'simpy'}
        Both simulate the same experiment scenario (:meth:`Experiment.apply`).
    replicas, seed : int, optional
        Override the experiment's (its seed defaults to the scenario's).
    progress : bool
        A progress bar per simulated service on stderr.

    Returns
    -------
    ChaosResult
        Timelines, recovery times and expectations (:mod:`hasim.results.chaos`).

    Raises
    ------
    ScenarioError
        A fault the scenario cannot take (a name it does not have, a latency with no timeout).
    """
    if not isinstance(experiment, Experiment):
        experiment = load_experiment(experiment)
    plan = experiment.apply(scenario)
    n = experiment.replicas if replicas is None else int(replicas)
    s = (experiment.seed if experiment.seed is not None else scenario.seed) if seed is None else int(seed)
    sc = plan.scenario
    started = time.perf_counter()
    runs = {}
    # The entry first, then every service as the entry: the same histories measured at each service.
    for name in [sc.entry] + [v for v in sc.topological_order() if v != sc.entry]:
        one = sc if name == sc.entry else sc.replace(entry=name)
        res = simulate(one, replicas=n, seed=s, horizon=plan.horizon, engine=engine, warmup=plan.settle,
                       keep_outages=_KEEP_OUTAGES, keep_windows=10**9, progress=progress)
        runs[name] = res.out
    return ChaosResult(plan=plan, labels=labels(sc), runs=runs, engine=engine, replicas=n, seed=s,
                       elapsed_seconds=time.perf_counter() - started)
