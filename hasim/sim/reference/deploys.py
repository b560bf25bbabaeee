"""Changes: the releases of services with deploys (:mod:`hasim.model.deploys`; the kernel's rule is
:mod:`hasim.sim.kernel._deploys`).

Written from the model's rule: one process per service makes the releases, drawing for each, in
this order, whether it is bad, the time to notice it, the rollback time and whether a canary
analysis catches it (a release that finds a bad one still out draws and is skipped); a bad release
starts a process of its own that walks :func:`hasim.model.deploys.rollout`'s steps, is noticed,
and is rolled back.  The service's own fraction is multiplied by ``1 - errors x exposure``
(:meth:`~hasim.sim.reference.evaluation.Evaluation._own`).
"""

from __future__ import annotations

import numpy as np

from hasim.model.deploys import releases_per_hour, rollout
from hasim.sim.reference.state import KIND_SERVICE_TIMER

__all__ = ["DeployProcesses", "IDLE", "OUT", "BACK"]

IDLE, OUT, BACK = "idle", "bad release out", "rolling back"


class DeployProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: releases and bad releases."""

    def _deploy_life(self, s):
        """The releases of service ``s``, each on its own stream's draws."""
        dp, env = s.spec.deploys, self.env
        cause = self.m.change_cause[s.index]
        # A stream of its own per service: declaring deploys changes no other draw.
        rng = np.random.default_rng(np.random.SeedSequence([int(x) for x in self.sample] + [0xDE9107, s.index]))
        gap = 1.0 / releases_per_hour(dp)
        train = dp.every is not None
        t_next = rng.random() * gap if train else rng.exponential(gap)
        while True:
            yield self._timer(KIND_SERVICE_TIMER, t_next - env.now, cause)
            bad = rng.random() < dp.bad
            seen, back = dp.detect.sample(rng), dp.rollback.sample(rng)
            caught = rng.random() < dp.caught
            t_next = env.now + (gap if train else rng.exponential(gap))
            if not bad or s.dp_phase != IDLE:
                continue
            steps, noticed = rollout(dp, float(seen), bool(caught))
            self._log(s.name, f"bad release out ({dp.strategy})")
            s.dp_phase, s.exposure = OUT, steps[0][1]
            self._touch(s)
            env.process(self._bad_release(s, env.now, steps[1:], noticed, float(back), cause))

    def _bad_release(self, s, t0: float, steps: list, noticed: float, back: float, cause: int):
        """A bad release of ``s`` out since ``t0``: its later steps, noticed, rolled back."""
        env = self.env
        for offset, e in steps:
            yield self._timer(KIND_SERVICE_TIMER, t0 + offset - env.now, cause)
            s.exposure = e
            self._touch(s)
        yield self._timer(KIND_SERVICE_TIMER, t0 + noticed - env.now, cause)
        s.dp_phase = BACK
        self._log(s.name, "bad release noticed, rolling back")
        yield self._timer(KIND_SERVICE_TIMER, back, cause)
        s.dp_phase, s.exposure = IDLE, 0.0
        self._log(s.name, "rolled back")
        self._touch(s)

    def _deploy_share(self, s) -> float:
        """What a bad release leaves of ``s``'s own fraction: ``1 - errors x exposure``."""
        return 1.0 - s.spec.deploys.errors * s.exposure

    def _deploy_stage(self, phase: str) -> bool:
        """Whether a reachable service has a bad release failing requests in ``phase``."""
        return any(s.dp_phase == phase and s.exposure * s.spec.deploys.errors > 0 for s in self.st_deploys)
