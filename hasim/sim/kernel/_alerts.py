"""Alert rules on the entry's error ratio (:mod:`hasim.model.alerts`), evaluated as Prometheus does.

Each rule has one timer on a grid (``every``, from a phase drawn from its own stream) and a ring of
the entry's lost request-hours at its last evaluations, each with its grid index: the error ratio
over a window of ``W`` evaluations is the loss between the grid index ``W`` back (the last
evaluation at or before it, found by binary search) and now over the requests in between.
A rule sleeps while nothing can change its answer (no incident, its condition false: with nothing
lost the loss in each window can only fall) and wakes at the first grid point of the next incident
(or noise spike) without writing the evaluations it slept through: each would have read what its
last one did, which the search answers for them, so a wake costs nothing however long the sleep.
The event loop tells it when an incident
of the entry begins (:func:`_al_open`) and ends (:func:`_al_close`), and hands it the loss so far at
each evaluation (:func:`_al_event`), which counts as no event of the model; a rule that fires
notices the bad releases it watches (:func:`hasim.sim.kernel._deploys._dp_alerted`).  The noise
(``alert_noise``) has one timer of its own (:func:`_nz_event`), a spike's start or end: it wakes
the rules, and each ring keeps beside the loss the spikes' request-hours (``Work.al_nring``), so a
rule tells a page the simulated loss alone would give from one the noise gave (a false page).
Spikes are bookkeeping of the measurement too: no event of the model.
"""

from __future__ import annotations

import math

import numpy as np

from ._codes import KIND_AUX
from ._day import _span
from ._deploys import _dp_alerted
from ._jit import fast
from ._queue import _qschedule
from ._rng import exponential, next_double
from ._shards import _draw

# Slots of Work.al_st.
_AWAKE = 0
_FIRING = 1
_PAGED = 2   # paged for the incident in progress (2: no incident in progress)
_POS = 3     # the ring's newest slot
_CNT = 4     # the slots in use
# Slots of Work.al_t.
_PENDING = 0  # since when the condition holds (-1: it does not)
_OPEN = 1     # the loss when the incident in progress began
_PHASE = 2

#: The grid index of the ring's first slot: before every evaluation (the loss and noise were 0).
_BEFORE = -(1 << 62)


@fast
def _al_reset(m, w):
    """Every rule asleep, not pending, on a grid from a phase of its own; the first noise spike."""
    for a in range(m.n_alerts):
        w.al_t[a, _PHASE] = next_double(w.rng[m.al_aux[a]]) * m.al_f[a, 2]
        w.al_t[a, _PENDING] = -1.0
        w.al_t[a, _OPEN] = 0.0
        for k in range(5):
            w.al_st[a, k] = 0
        p0 = m.al_ring_ptr[a]
        w.al_st[a, _CNT] = 1
        w.al_gring[p0] = _BEFORE
        w.al_ring[p0] = 0.0
        w.al_nring[p0] = 0.0
    for k in range(4):
        w.nz[k] = 0.0
    if m.nz_aux >= 0:
        _qschedule(w.heap, m.nz_aux, exponential(w.rng[m.nz_aux], m.nz_f[0]), KIND_AUX)


@fast
def _nz_lost(m, w, now):
    """The noise's request-hours up to ``now``."""
    return w.nz[1] + w.nz[0] * _span(m, w.nz[2], now)


@fast
def _al_wake(m, w, a, now):
    """Rule ``a`` wakes at ``now``: its next evaluation is the first grid point from now.  The
    evaluations it slept through are not written: each would have read what its last one did
    (nothing was lost, no spike came), which its ring answers for them (:func:`_al_at`)."""
    w.al_st[a, _AWAKE] = 1
    every = m.al_f[a, 2]
    phase = w.al_t[a, _PHASE]
    g = phase + every * math.ceil((now - phase) / every)
    if g < now:
        g += every
    _qschedule(w.heap, m.al_aux[a], g, KIND_AUX)


@fast
def _al_push(w, a, p0, size, k, lost, noise):
    """Rule ``a``'s ring gets its evaluation of grid index ``k`` (the oldest slot goes when full)."""
    pos = (w.al_st[a, _POS] + 1) % size
    w.al_st[a, _POS] = pos
    w.al_st[a, _CNT] = min(w.al_st[a, _CNT] + 1, size)
    w.al_gring[p0 + pos] = k
    w.al_ring[p0 + pos] = lost
    w.al_nring[p0 + pos] = noise


@fast
def _al_at(w, a, p0, size, q):
    """(loss, noise) at grid index ``q``: those of the rule's last evaluation at or before it (a
    binary search: the slots' indices rise from the oldest, ``pos - cnt + 1``, to the newest)."""
    cnt = w.al_st[a, _CNT]
    first = w.al_st[a, _POS] - cnt + 1
    lo, hi = 0, cnt - 1  # the answer's logical slot, in [lo, hi]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if w.al_gring[p0 + (first + mid) % size] <= q:
            lo = mid
        else:
            hi = mid - 1
    x = p0 + (first + lo) % size
    return w.al_ring[x], w.al_nring[x]


@fast
def _nz_event(m, w, now, lost):
    """The noise's timer at ``now``: a spike begins (the rules wake to see it) or ends."""
    c = m.nz_aux
    w.nz[1] = _nz_lost(m, w, now)
    w.nz[2] = now
    if w.nz[3] == 0.0:
        w.nz[3] = 1.0
        w.nz[0] = m.nz_f[1]
        for a in range(m.n_alerts):
            if w.al_st[a, _AWAKE] == 0:
                _al_wake(m, w, a, now)
        _qschedule(w.heap, c, now + _draw(m, w, m.nz_row, c), KIND_AUX)
    else:
        w.nz[3] = 0.0
        w.nz[0] = 0.0
        _qschedule(w.heap, c, now + exponential(w.rng[c], m.nz_f[0]), KIND_AUX)


@fast
def _al_open(m, w, out, r, now, lost):
    """An incident of the entry begins at ``now`` with ``lost`` request-hours lost so far (a rule
    still firing from the last one has paged for this one at once)."""
    for a in range(m.n_alerts):
        w.al_t[a, _OPEN] = lost
        w.al_st[a, _PAGED] = w.al_st[a, _FIRING]
        if w.al_st[a, _FIRING]:
            out.al_detected[r, a] += 1
        if w.al_st[a, _AWAKE] == 0:
            _al_wake(m, w, a, now)


@fast
def _al_close(m, w, out, r, lost):
    """The incident in progress is over, ``lost`` request-hours lost so far: a rule that did not page
    for it missed it; one that did covered its loss."""
    for a in range(m.n_alerts):
        if w.al_st[a, _PAGED] == 0:
            out.al_missed[r, a] += 1
        else:
            out.al_cov[r, a] += lost - w.al_t[a, _OPEN]
        w.al_st[a, _PAGED] = 2  # nothing more to miss, or to cover, until the next one


@fast
def _al_rebase(m, w, out, r, lost):
    """The measured horizon starts: the loss is counted from 0 again, and so is what the rules did."""
    for a in range(m.n_alerts):
        for x in range(m.al_ring_ptr[a], m.al_ring_ptr[a + 1]):
            w.al_ring[x] -= lost
        w.al_t[a, _OPEN] -= lost
        out.al_pages[r, a] = 0
        out.al_detected[r, a] = 0
        out.al_missed[r, a] = 0
        out.al_late[r, a] = 0
        out.al_ttd[r, a] = 0.0
        out.al_burn[r, a] = 0.0
        out.al_cov[r, a] = 0.0
        out.al_false[r, a] = 0


@fast
def _al_event(m, w, out, r, a, now, lost, in_outage, o_start, served):
    """Rule ``a``'s evaluation at ``now``: the entry has lost ``lost`` request-hours and serves
    ``served``; an incident is in progress since ``o_start`` if ``in_outage``."""
    p0 = m.al_ring_ptr[a]
    size = m.al_ring_ptr[a + 1] - p0
    noise = _nz_lost(m, w, now)
    every = m.al_f[a, 2]
    k = np.int64(round((now - w.al_t[a, _PHASE]) / every))  # its grid index
    _al_push(w, a, p0, size, k, lost, noise)
    limit = m.al_f[a, 0]
    n1 = m.al_w[a, 0]
    # What the rule sees (the simulated loss and the noise), and what the loss alone would show.
    if n1 == 0:
        real = 1.0 - served
        seen = real + w.nz[0]
    else:
        bl, bn = _al_at(w, a, p0, size, k - n1)
        span = _span(m, now - n1 * every, now)
        real = (lost - bl) / span
        seen = real + (noise - bn) / span
    holds = seen > limit
    by_loss = real > limit
    if holds and m.al_f[a, 3] > 0.0:  # a burn-rate rule: the short window too
        bl, bn = _al_at(w, a, p0, size, k - m.al_w[a, 1])
        span = _span(m, now - m.al_w[a, 1] * every, now)
        real = (lost - bl) / span
        holds = real + (noise - bn) / span > limit
        by_loss = by_loss and real > limit
    if holds:
        if w.al_t[a, _PENDING] < 0.0:
            w.al_t[a, _PENDING] = now
        if w.al_st[a, _FIRING] == 0 and now - w.al_t[a, _PENDING] >= m.al_f[a, 1] - 1e-9:
            w.al_st[a, _FIRING] = 1
            out.al_pages[r, a] += 1
            if not in_outage:
                if by_loss:
                    out.al_late[r, a] += 1
                else:
                    out.al_false[r, a] += 1
            elif w.al_st[a, _PAGED] == 0:
                w.al_st[a, _PAGED] = 1
                out.al_detected[r, a] += 1
                out.al_ttd[r, a] += now - o_start
                out.al_burn[r, a] += lost - w.al_t[a, _OPEN]
    else:
        w.al_t[a, _PENDING] = -1.0
        w.al_st[a, _FIRING] = 0
    if w.al_st[a, _FIRING] and len(m.dp_aux):
        _dp_alerted(m, w, a, now)
    # Asleep until the next incident or spike once its condition is false outside both: with nothing
    # lost, the loss in each window can only fall, so it stays false (with a daily profile the
    # requests in a window change too: it then waits for its windows to hold no loss at all).
    quiet = w.nz[3] == 0.0
    if quiet and m.day_on:
        ol, on = _al_at(w, a, p0, size, k - max(n1, m.al_w[a, 1]))
        quiet = lost == ol and noise == on
    if not in_outage and w.al_st[a, _FIRING] == 0 and w.al_t[a, _PENDING] < 0.0 and quiet:
        w.al_st[a, _AWAKE] = 0
    else:
        _qschedule(w.heap, m.al_aux[a], now + every, KIND_AUX)
