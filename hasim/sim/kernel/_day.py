"""The hour of the day: daily load profiles change how many instances a loaded shard needs
(``sh_kt``) and how many requests an hour carries (``wt_day``, the entry's load over its daily
mean).  One auxiliary timer ticks at every hour while a profile varies; a model without a profile
has no tick, every weight is 1 and every span is plain ``b - a``.

Request measures weight each instant by the requests it carries: the loss over ``[a, b)`` inside
one hour is ``(1 - s) (b - a) w(hour)``, and a window's or the horizon's weight is the integral of
``w`` over it (:func:`_span`, in closed form from the cumulative table ``wt_cum``)."""

from __future__ import annotations

import math

from ._codes import _HOUR, _WEIGHT, KIND_AUX
from ._jit import fast, inline
from ._queue import _qschedule
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
    """Midnight at time 0: the first hour's needs and weight, and the tick at 1 h."""
    w.ctl[_HOUR] = 0
    w.fl[_WEIGHT] = m.wt_day[0]
    for sh in range(m.n_shards):
        w.sh_k[sh] = m.sh_kt[sh, 0]
    if m.day_on:
        _qschedule(w.heap, m.day_aux, 1.0, KIND_AUX)


@fast
def _hour_event(m, w, p, now):
    """The next hour begins: new needs for the shards a profile reaches, a new request weight."""
    h = (w.ctl[_HOUR] + 1) % 24
    w.ctl[_HOUR] = h
    w.fl[_WEIGHT] = m.wt_day[h]
    for x in range(len(m.day_sh)):
        sh = m.day_sh[x]
        w.sh_k[sh] = m.sh_kt[sh, h]
        _update_own(m, w, sh)
    _qschedule(w.heap, p, now + 1.0, KIND_AUX)
