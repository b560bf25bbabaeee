"""Daily load profiles: how many requests an hour carries (``wt_day``, the entry's load over its
daily mean) and the hourly tick that re-evaluates the shards a profile reaches while one of them
may serve differently at another hour (:mod:`._hours` says when).  A model without a profile has
no tick, every weight is 1 and every span is plain ``b - a``.

Request measures weight each instant by the requests it carries: the loss over ``[a, b)`` at a
constant served fraction is ``(1 - s)`` times the requests of ``[a, b)``, the integral of the
weight (:func:`_span`, in closed form from the cumulative table ``wt_cum``); a varying served
fraction (a DNS ramp) is integrated hour by hour."""

from __future__ import annotations

import math

from ._breakers import _cb_flow
from ._codes import _NOPEN, _TICK
from ._jit import fast, inline
from ._hours import _wake_tick
from ._shards import _update_own


@inline
def _span(m, a, b):
    """Requests over ``[a, b]`` in units of a mean hour: ``b - a`` without a profile."""
    if not m.day_on:
        return b - a
    return _day_integral(m, b) - _day_integral(m, a)


@fast
def _day_integral(m, t):
    days = math.floor(t / 24.0)
    x = t - 24.0 * days
    h = min(int(x), 23)
    return 24.0 * days + m.wt_cum[h] + (x - h) * m.wt_day[h]


@fast
def _day_reset(m, w):
    """Midnight at time 0: the first hour's needs; the tick sleeps until a profiled shard wakes it."""
    w.ctl[_TICK] = 0
    for sh in range(m.n_shards):
        w.sh_k[sh] = m.sh_kt[sh, 0]
        w.sh_kc[sh] = w.sh_k[sh]


@fast
def _hour_event(m, w, p, now):
    """An hour begins while a profiled shard is exposed: re-evaluate them all (each refreshes its need and
    wakes the next tick if it is still exposed)."""
    w.ctl[_TICK] = 0
    for x in range(len(m.day_sh)):
        _update_own(m, w, m.day_sh[x])
    if w.ctl[_NOPEN] > 0:  # the load an open breaker cuts follows the hour
        _cb_flow(m, w, now)
        _wake_tick(m, w, now)
