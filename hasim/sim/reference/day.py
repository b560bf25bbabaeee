"""The hour of the day: daily load profiles (see :mod:`hasim.sim.kernel._day`, the same rule).

One process ticks at every hour while a profile varies anything (the kernel ticks only while a
profiled shard could serve differently at another hour: the same histories): the shards it reaches need
``needed_daily[hour]`` instances from then on, and the hour's requests weigh
``request_weights[hour]`` in every request measure.  Simulated time 0 is midnight.
"""

from __future__ import annotations

import math

from hasim.sim.reference.state import KIND_SERVICE_TIMER, Timer

__all__ = ["DayProcesses"]


class DayProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: the hourly tick and request weights."""

    def _hours(self):
        """Every hour: the next hour's needs and request weight."""
        while True:
            yield Timer(self.env, KIND_SERVICE_TIMER, 1.0, None, self._on_tick)
            self.hour = (self.hour + 1) % 24
            self.weight = float(self.m.weights[self.hour])
            for sh in self.day_shards:
                sh.base_k = float(self.m.needs[sh.service.index][self.hour])
                sh.k = self._need(sh.service, sh)
                self._touch(sh.service)
            if self.dynamic:
                self._cut_flow()

    def _on_tick(self, ev) -> None:
        """A primary event that is bookkeeping, not an event of the model: integrate, but do not count it."""
        self.event_cause = None
        self._advance(self.env.now)
        self.stage_now = None

    def _span(self, a: float, b: float) -> float:
        """Requests over [a, b] in units of a mean hour (``b - a`` without a profile)."""
        if not self.m.day_on:
            return b - a
        return self._day_integral(b) - self._day_integral(a)

    def _day_integral(self, t: float) -> float:
        days = math.floor(t / 24.0)
        x = t - 24.0 * days
        h = min(int(x), 23)
        w = self.m.weights
        return 24.0 * days + float(sum(w[:h])) + (x - h) * float(w[h])
