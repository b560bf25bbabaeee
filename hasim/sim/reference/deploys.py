"""Changes: the releases of services with deploys and the config pushes (:mod:`hasim.model.deploys`;
the kernel's rule is :mod:`hasim.sim.kernel._deploys`).

Written from the model's rule: one process per change makes the releases, drawing for each, in
this order, whether it is bad, the time to notice it, the rollback time and whether a canary
analysis catches it (a release that finds a bad one still out draws and is skipped); a bad release
starts a process of its own that walks :func:`hasim.model.deploys.rollout`'s steps, is noticed
(earlier if the alert rule it names fires first: :meth:`DeployProcesses._alert_notices`), (``paged``:
waits for the on-call engineer) and is rolled back.  Each service's own fraction is multiplied by ``1 - errors x exposure`` of every
change that exposes it (:meth:`~hasim.sim.reference.evaluation.Evaluation._own`).
"""

from __future__ import annotations

import numpy as np

from hasim.model.deploys import releases_per_hour, rollout
from hasim.sim.reference.state import KIND_SERVICE_TIMER, Signal

__all__ = ["DeployProcesses", "Release", "IDLE", "OUT", "WAIT", "BACK"]

IDLE, OUT, WAIT, BACK = "idle", "bad release out", "waiting for the on-call", "rolling back"


class Release:
    """The state of one change (a service's deploys or a config push)."""

    __slots__ = ("label", "spec", "services", "cause", "phase", "exposure", "rule", "alerted")

    def __init__(self, label, spec, services, cause, rule, alerted):
        self.label, self.spec, self.services, self.cause = label, spec, services, cause
        self.phase, self.exposure = IDLE, 0.0
        self.rule, self.alerted = rule, alerted  # the alert rule that notices it (None: none), its page

    @property
    def share(self) -> float:
        """What it leaves of each of its services' own fraction."""
        return 1.0 - self.spec.errors * self.exposure


class DeployProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: releases and bad releases."""

    def _init_deploys(self) -> None:
        """One :class:`Release` per change, attached to every service it exposes."""
        self.releases = []
        for k, change in enumerate(self.m.changes):
            services = [self.svc[self.m.index[n]] for n in change.services]
            rule = None if change.spec.alert is None else list(self.m.sc.alerts).index(change.spec.alert)
            r = Release(change.cause, change.spec, services, self.m.causes.index(change.cause), rule,
                        Signal(self.env))
            self.releases.append(r)
            for s in services:
                s.releases.append(r)
        self.st_releases = [r for r in self.releases if any(self.m.reach[s.index] for s in r.services)]

    def _deploy_life(self, k: int):
        """The releases of change ``k``, each on its own stream's draws."""
        r = self.releases[k]
        dp, env = r.spec, self.env
        # A stream of its own per change: declaring one changes no other draw.
        rng = np.random.default_rng(np.random.SeedSequence([int(x) for x in self.sample] + [0xDE9107, k]))
        gap = 1.0 / releases_per_hour(dp)
        train = dp.every is not None
        t_next = rng.random() * gap if train else rng.exponential(gap)
        while True:
            yield self._timer(KIND_SERVICE_TIMER, t_next - env.now, r.cause)
            bad = rng.random() < dp.bad
            seen, back = dp.detect.sample(rng), dp.rollback.sample(rng)
            caught = rng.random() < dp.caught
            t_next = env.now + (gap if train else rng.exponential(gap))
            if not bad or r.phase != IDLE:
                continue
            steps, noticed = rollout(dp, float(seen), bool(caught))
            auto = dp.strategy == "canary" and bool(caught) and seen >= dp.bake  # the analysis aborts it
            self._log(r.label, f"bad release out ({dp.strategy})")
            r.phase = OUT
            self._expose(r, steps[0][1])
            env.process(self._bad_release(r, env.now, steps[1:], noticed, float(back), rng, auto))

    def _bad_release(self, r: Release, t0: float, steps: list, noticed: float, back: float, rng, auto: bool):
        """A bad release of ``r`` out since ``t0``: its later steps, noticed, (paged,) rolled back;
        ``auto``: the canary analysis aborts it at the end of the bake (nobody is paged)."""
        env = self.env
        for offset, e in steps + [(noticed, None)]:
            timer = self._timer(KIND_SERVICE_TIMER, t0 + offset - env.now, r.cause)
            if r.rule is None:
                yield timer
            else:
                fired = yield timer | r.alerted.wait()
                if timer not in fired:   # its rule paged first: noticed now, the rollout stops
                    timer.cancelled = True
                    auto = False
                    break
            if e is None:
                break
            self._expose(r, e)
        if r.spec.paged and not auto:   # the rollback waits for the engineer, answering at the pace of the page's hour
            r.phase = WAIT
            self._log(r.label, "bad release noticed, on-call paged")
            yield self._timer(KIND_SERVICE_TIMER, float(self.m.sc.oncall.law_at(env.now).sample(rng)), r.cause)
        r.phase = BACK
        self._log(r.label, "bad release noticed, rolling back")
        yield self._timer(KIND_SERVICE_TIMER, back, r.cause)
        r.phase = IDLE
        self._log(r.label, "rolled back")
        self._expose(r, 0.0)

    def _expose(self, r: Release, e: float) -> None:
        r.exposure = e
        for s in r.services:
            self._touch(s)

    def _deploy_share(self, s) -> float:
        """What the changes exposing ``s`` leave of its own fraction."""
        x = 1.0
        for r in s.releases:
            x *= r.share
        return x

    def _alert_notices(self, k: int) -> None:
        """Alert rule ``k`` fires: the bad releases out that it watches are noticed now."""
        for r in self.releases:
            if r.rule == k and r.phase == OUT:
                r.alerted.fire()

    def _deploy_stage(self, phase: str, watched: bool | None = None) -> bool:
        """Whether a change reaching the entry has a bad release failing requests in ``phase`` (for
        ``OUT``, ``watched`` picks the ones an alert rule watches, or the others; None: any)."""
        return any(r.phase == phase and r.exposure * r.spec.errors > 0
                   and (watched is None or (r.rule is not None) == watched) for r in self.st_releases)
