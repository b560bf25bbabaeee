"""What a shard reached by a daily load profile needs at the current hour, and when the hourly
tick must run: only while some such shard could serve differently at another hour.

A shard's share changes with the hour only while it has fewer carrying instances than
``sh_kx`` (its largest need over the day, over the overload threshold when that is below 1),
failed instances still routed, a collapse or a grace period: otherwise it serves everything at
every hour and nothing needs to look at the clock.  So the tick sleeps while every profiled shard
is comfortable and is woken (at the next hour boundary where a need changes: hours of equal needs
are one tick) by the first that is not; its need is
read from the time whenever it is evaluated.  Request weights never need the tick: they are
integrated in closed form (:func:`hasim.sim.kernel._day._span`)."""

from __future__ import annotations

import math

from ._codes import _NOW, _TICK, KIND_AUX
from ._jit import inline
from ._queue import _qschedule


@inline
def _hour_of(t):
    """The hour of the day at time ``t`` (hours; 0 is midnight)."""
    x = t - 24.0 * math.floor(t / 24.0)
    return min(int(x), 23)


@inline
def _next_tick(m, now):
    """The next hour boundary at which a need changes (``day_next``: a plateau of equal hours is one tick)."""
    return math.floor(now) + m.day_next[_hour_of(now)]


@inline
def _wake_tick(m, w, now):
    """Schedule the hourly tick (at the next boundary where a need changes) unless it already is."""
    if w.ctl[_TICK] == 0:
        w.ctl[_TICK] = 1
        _qschedule(w.heap, m.day_aux, _next_tick(m, now), KIND_AUX)


@inline
def _need_now(m, w, sh):
    """Refresh the need of a profiled shard from the time of the event being processed."""
    w.sh_k[sh] = m.sh_kt[sh, _hour_of(w.fl[_NOW])]
    w.sh_kc[sh] = w.sh_k[sh]


@inline
def _watch(m, w, sh, h, scale):
    """Wake the hourly tick if profiled shard ``sh`` (``h`` carrying instances, its need scaled by ``scale``
    by timeouts and breakers) may serve differently at another hour."""
    if w.ctl[_TICK] == 0 and (h < m.sh_kx[sh] * scale or w.sh_rd[sh] > 0 or w.sh_col[sh] or w.sh_ovp[sh]
                              or w.sh_ext[sh] > 0 or w.sh_scd[sh] != 0):
        _wake_tick(m, w, w.fl[_NOW])
