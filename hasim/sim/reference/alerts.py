"""Alert rules on the entry's error ratio (:mod:`hasim.model.alerts`; the kernel's rule is
:mod:`hasim.sim.kernel._alerts`).

Written from the model's rule: a process per rule sleeps until an incident of the entry begins,
then evaluates on its grid (``every`` from a phase of its own) the error ratio over its windows,
from the loss the measures integrated up to that evaluation, until nothing in its windows can
change its answer; the outage bookkeeping (:meth:`Measures._record`) wakes it and tells it which
incidents it paged for.  A rule that fires notices the bad releases that name it
(:meth:`~hasim.sim.reference.deploys.DeployProcesses._alert_notices`).
"""

from __future__ import annotations

import math
from collections import deque

import numpy as np

from hasim.model.alerts import threshold, windows
from hasim.sim.reference.state import KIND_SERVICE_TIMER, Signal

__all__ = ["AlertProcesses"]


class _Rule:
    __slots__ = ("rule", "limit", "n1", "n2", "phase", "wake", "awake", "firing", "paged", "pending", "open_lost",
                 "ring", "noise", "last")

    def __init__(self, rule, limit, n1, n2, phase, wake):
        self.rule, self.limit, self.n1, self.n2, self.phase, self.wake = rule, limit, n1, n2, phase, wake
        self.awake = self.firing = self.paged = False
        self.pending = None          # since when the condition holds
        self.open_lost = 0.0         # the loss when the incident in progress began
        self.ring = deque(maxlen=max(n1, n2) + 1)   # the loss since the start at its last evaluations
        self.noise = deque(maxlen=max(n1, n2) + 1)  # and the noise's request-hours by then
        self.last = None             # its last evaluation


class AlertProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: the alert rules."""

    def _init_alerts(self) -> None:
        sc = self.m.sc
        # A stream of its own: declaring rules changes no other draw.
        rng = np.random.default_rng(np.random.SeedSequence([int(x) for x in self.sample] + [0xA1E27]))
        self.rules = [_Rule(rule, threshold(rule, sc.slo), *windows(rule), rng.random() * rule.every, Signal(self.env))
                      for rule in sc.alerts.values()]
        # The noise: the spike's errors now, its request-hours up to the last change and its time.
        self.noise_level, self.noise_cum, self.noise_t, self.in_spike = 0.0, 0.0, 0.0, False

    def _noise_lost(self) -> float:
        """The noise's request-hours up to now."""
        return self.noise_cum + self.noise_level * self._span(self.noise_t, self.env.now)

    def _noise_life(self):
        """Spikes of the noise (``alert_noise``), one at a time, each waking the rules asleep."""
        noise, env = self.m.sc.alert_noise, self.env
        rng = np.random.default_rng(np.random.SeedSequence([int(x) for x in self.sample] + [0x7015E]))
        while True:
            yield self._timer(KIND_SERVICE_TIMER, rng.exponential(24.0 / noise.per_day))
            self.noise_cum, self.noise_t = self._noise_lost(), env.now
            self.noise_level, self.in_spike = noise.errors, True
            for r in self.rules:
                if not r.awake:
                    r.awake = True
                    r.wake.fire()
            yield self._timer(KIND_SERVICE_TIMER, float(noise.lasting.sample(rng)))
            self.noise_cum, self.noise_t = self._noise_lost(), env.now
            self.noise_level, self.in_spike = 0.0, False

    def _alerts_open(self) -> None:
        """An incident of the entry begins (a rule still firing has paged for it at once)."""
        for k, r in enumerate(self.rules):
            r.open_lost = self.lost
            r.paged = r.firing
            if r.firing:
                self.out.al_detected[self.r, k] += 1
            if not r.awake:
                r.awake = True
                r.wake.fire()

    def _alerts_close(self) -> None:
        """The incident is over: missed by the rules that did not page for it, covered by the others."""
        for k, r in enumerate(self.rules):
            if not r.paged:
                self.out.al_missed[self.r, k] += 1
            else:
                self.out.al_cov[self.r, k] += self.lost - r.open_lost
            r.paged = None   # no incident in progress

    def _alerts_rebase(self, lost: float) -> None:
        """The measured horizon starts: the loss counts from 0 again (the rings are shifted by the
        processes, which read ``self.rebased``), and so does what the rules did."""
        self.rebased += lost
        for k, r in enumerate(self.rules):
            r.open_lost -= lost
        for name in ("al_pages", "al_detected", "al_missed", "al_late", "al_ttd", "al_burn", "al_cov", "al_false"):
            getattr(self.out, name)[self.r] = 0

    def _served_now(self) -> float:
        """The entry's served fraction at this instant (DNS ramps included)."""
        if not self.varying:
            return self.vals[self.m.entry]
        point = list(self.vals)
        for v in self.varying:
            point[v] = self._compute(self.svc[v], point, self.env.now)
        return point[self.m.entry]

    def _alert_life(self, k: int):
        r, env = self.rules[k], self.env
        every = r.rule.every
        while True:
            yield r.wake.wait()
            now = env.now
            t = r.phase + every * math.ceil((now - r.phase) / every)
            if t < now:
                t += every
            ring = r.ring
            # The evaluations it slept through would each have read the loss of now (nothing was lost).
            skipped = ring.maxlen if r.last is None else min(ring.maxlen, round((t - r.last) / every) - 1)
            ring.extend([self.lost + self.rebased] * max(skipped, 0))
            r.noise.extend([self._noise_lost()] * max(skipped, 0))
            while True:
                yield self._timer(KIND_SERVICE_TIMER, t - env.now)
                lost = self.lost + self.rebased  # the loss since the start, across the warm-up's reset
                noise = self._noise_lost()
                ring.append(lost)
                r.noise.append(noise)
                r.last = t

                def ratios(n):
                    """(the loss's ratio over the last n evaluations, the noise's)."""
                    span = self._span(t - n * every, t)
                    return (lost - ring[-1 - n]) / span, (noise - r.noise[-1 - n]) / span

                # What the rule sees (the loss and the noise), and what the loss alone would show.
                real, extra = (1.0 - self._served_now(), self.noise_level) if r.n1 == 0 else ratios(r.n1)
                holds, by_loss = real + extra > r.limit, real > r.limit
                if holds and r.rule.burn_rate is not None:
                    real, extra = ratios(r.n2)
                    holds, by_loss = real + extra > r.limit, by_loss and real > r.limit
                if holds:
                    if r.pending is None:
                        r.pending = t
                    if not r.firing and t - r.pending >= r.rule.for_ - 1e-9:
                        r.firing = True
                        self.out.al_pages[self.r, k] += 1
                        if not self.in_outage:
                            if by_loss:
                                self.out.al_late[self.r, k] += 1
                            else:
                                self.out.al_false[self.r, k] += 1
                        elif not r.paged:
                            r.paged = True
                            self.out.al_detected[self.r, k] += 1
                            self.out.al_ttd[self.r, k] += t - self.o_start
                            self.out.al_burn[self.r, k] += self.lost - r.open_lost
                else:
                    r.pending, r.firing = None, False
                if r.firing:
                    self._alert_notices(k)
                # With nothing lost the loss in each window can only fall: asleep until the next
                # incident or spike (with a daily profile, once its windows hold no loss at all).
                quiet = not self.in_spike and (not self.m.day_on or (lost == ring[0] and noise == r.noise[0]))
                if not self.in_outage and not r.firing and r.pending is None and quiet:
                    r.awake = False
                    break
                t += every
