"""What a shard reached by a daily load profile needs at the current hour, and when the hourly
tick must run: only while some such shard could serve differently at another hour.

A shard is *comfortable* at an hour when its carrying instances cover ``sh_ke`` (that hour's need
over the lowest of its overload threshold, admission limit and scaling target, when below 1) and it
has no failed instance still routed, no collapse, grace period or scaling in progress: it then serves
everything and does nothing at that hour.  A shard comfortable now and at the next hours does not
need the clock until the first hour at which it is not; a shard not comfortable now needs it at the
next boundary where a need changes (hours of equal needs are one tick).  So the tick sleeps while
every profiled shard is comfortable at every hour (fewer than ``sh_kx``, the day's largest, is the
quick test) and each evaluation of a profiled shard makes it run no later than that shard's next
relevant boundary; its need is read from the time whenever it is evaluated.  Request weights never
need the tick: they are integrated in closed form (:func:`hasim.sim.kernel._day._span`)."""

from __future__ import annotations

import math

from ._codes import _NOW, _TICK, KIND_AUX
from ._jit import fast, inline
from ._queue import _qschedule, _qtime


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
def _tick_by(m, w, t):
    """Make the hourly tick run at ``t`` unless it already runs no later."""
    if w.ctl[_TICK] == 0 or _qtime(w.heap, m.day_aux) > t:
        w.ctl[_TICK] = 1
        _qschedule(w.heap, m.day_aux, t, KIND_AUX)


@inline
def _wake_tick(m, w, now):
    """Make the hourly tick run at the next boundary where a need changes (or earlier, as it was)."""
    _tick_by(m, w, _next_tick(m, now))


@inline
def _need_now(m, w, sh):
    """Refresh the need of a profiled shard from the time of the event being processed."""
    w.sh_k[sh] = m.sh_kt[sh, _hour_of(w.fl[_NOW])]
    w.sh_kc[sh] = w.sh_k[sh]


@inline
def _watch(m, w, sh, h, scale):
    """Make the hourly tick run no later than the next boundary at which profiled shard ``sh`` (``h``
    carrying instances, its need scaled by ``scale`` by timeouts and breakers) may serve differently.
    (The quick test only: this is inlined wherever a shard is evaluated.)"""
    busy = w.sh_rd[sh] > 0 or w.sh_col[sh] or w.sh_ovp[sh] or w.sh_ext[sh] > 0 or w.sh_scd[sh] != 0
    if busy or h < m.sh_kx[sh] * scale:  # otherwise comfortable at every hour
        _watch_hours(m, w, sh, h, scale, busy)


@fast
def _watch_hours(m, w, sh, h, scale, busy):
    now = w.fl[_NOW]
    nxt = _next_tick(m, now)
    if w.ctl[_TICK] != 0 and _qtime(w.heap, m.day_aux) <= nxt:
        return  # no boundary comes earlier
    x0 = _hour_of(now)
    if busy or h < m.sh_ke[sh, x0] * scale:
        _tick_by(m, w, nxt)
        return
    for d in range(1, 24):  # comfortable now: the first hour at which it is not
        if h < m.sh_ke[sh, (x0 + d) % 24] * scale:
            _tick_by(m, w, math.floor(now) + d)
            return
