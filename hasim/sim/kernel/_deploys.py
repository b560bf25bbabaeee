"""Changes: each service with deploys, and each config push, has one process and one timer
(:mod:`hasim.model.deploys`); a push exposes every service it reaches alike.

Good releases change nothing, so the kernel simulates only the bad ones: releases are a Poisson
stream (or a train), each bad with probability ``bad``, and a release that finds a bad one still
out is skipped, so the next bad release after a quiet moment ``t`` is ``t + Exp(gap / bad)`` away
(a train: the first release at or after ``t``, plus a geometric number of periods).  The reference
engine simulates every release; the two agree in law, which the mechanism's tests check.  A bad
release draws, in this order and from the timer's own stream, the time to notice it, the rollback
time and whether the canary analysis catches it, then sets the exposure ``e`` (the share of the
service's requests it receives) and the times at which it is noticed and takes its next step (a
rolling batch, a canary's promotion); the service serves ``1 - errors x e`` of what its instances
do (:func:`_dp_share`, in the sweep).  An alert rule the process names notices it earlier if it
fires first (:func:`_dp_alerted`, from the rule's evaluation).  Once noticed, a paged rollback
draws the on-call's response by the hour of the page (not for a canary the analysis caught: its
rollback is automated).  The timer always waits for the earliest
of those times, and after the rollback for the next bad release.
"""

from __future__ import annotations

import math

from ._codes import DP_BACK, DP_IDLE, DP_OUT, DP_WAIT, KIND_AUX, STRATEGY_CANARY, STRATEGY_ROLLING
from ._jit import fast, inline
from ._queue import _qschedule
from ._rng import exponential, next_double
from ._shards import _draw, _mark_dirty, _oc_row

# Slots of Work.dp_t.
_NEXT = 0    # the next bad release (inf while one is out)
_SEEN = 1    # when the bad release out is noticed
_BACK = 2    # when its rollback is over
_STEP = 3    # its rollout's next step (inf: none)
_EXP = 4     # the exposure now
_PHASE = 5   # a train's phase: releases at phase + k x period
_ANS = 6     # when the on-call answers the page of a paged rollback
_RB = 7      # the rollback's duration, drawn with the release
_AUTO = 8    # 1 if the canary analysis noticed it (an automated rollback: nobody is paged)


@inline
def _dp_share(m, w, v):
    """What the changes exposing ``v`` leave of its own served fraction: the product of
    ``1 - errors x exposure`` over its deploys and the config pushes that reach it."""
    x = 1.0
    for a in range(m.svc_dp_ptr[v], m.svc_dp_ptr[v + 1]):
        d = m.svc_dp[a]
        x *= 1.0 - m.dp_f[d, 3] * w.dp_t[d, _EXP]
    return x


@fast
def _dp_next_bad(m, w, d, now):
    """When the next bad release of process ``d`` comes, the process quiet from ``now`` on."""
    c = m.dp_aux[d]
    gap = m.dp_f[d, 0]
    bad = m.dp_f[d, 2]
    if bad <= 0.0:
        return math.inf
    if m.dp_f[d, 1] == 0.0:  # Poisson releases thinned to the bad ones
        return now + exponential(w.rng[c], gap / bad)
    # A train from phase t_phase: the first release at or after now, then a geometric number of periods.
    first = w.dp_t[d, _PHASE] + gap * math.ceil((now - w.dp_t[d, _PHASE]) / gap)
    if first < now:
        first += gap
    extra = 0.0
    if bad < 1.0:
        extra = math.floor(math.log(1.0 - next_double(w.rng[c])) / math.log(1.0 - bad))
    return first + gap * extra


@fast
def _dp_reset(m, w):
    """Nothing out; the first bad release of each process."""
    for d in range(len(m.dp_aux)):
        c = m.dp_aux[d]
        w.dp_ph[d] = DP_IDLE
        w.dp_t[d, _EXP] = 0.0
        w.dp_t[d, _STEP] = math.inf
        w.dp_t[d, _PHASE] = next_double(w.rng[c]) * m.dp_f[d, 0] if m.dp_f[d, 1] > 0.0 else 0.0
        w.dp_t[d, _NEXT] = _dp_next_bad(m, w, d, 0.0)
        if w.dp_t[d, _NEXT] < math.inf:
            _qschedule(w.heap, c, w.dp_t[d, _NEXT], KIND_AUX)


@fast
def _dp_release(m, w, d, now):
    """A bad release of process ``d`` at ``now`` (none is out): its draws, its exposure and times."""
    c = m.dp_aux[d]
    seen = _draw(m, w, m.dp_i[d, 1], c)
    back = _draw(m, w, m.dp_i[d, 2], c)
    caught = next_double(w.rng[c]) < m.dp_f[d, 6]
    strategy = m.dp_i[d, 0]
    auto = 0.0
    e = 1.0
    step = math.inf
    if strategy == STRATEGY_ROLLING:
        e = min(1.0, m.dp_f[d, 4])
        if e < 1.0:
            step = now + m.dp_f[d, 5]
    elif strategy == STRATEGY_CANARY:
        e = m.dp_f[d, 4]
        bake = m.dp_f[d, 5]
        if seen >= bake:
            if caught:  # the canary analysis at the end of the bake
                seen = bake
                auto = 1.0
            elif e < 1.0:
                step = now + bake  # promoted to every instance
    w.dp_ph[d] = DP_OUT
    w.dp_t[d, _EXP] = e
    w.dp_t[d, _SEEN] = now + seen
    w.dp_t[d, _RB] = back
    w.dp_t[d, _AUTO] = auto
    w.dp_t[d, _STEP] = step
    w.dp_t[d, _NEXT] = math.inf  # releases while it is out are skipped


@fast
def _dp_event(m, w, d, now):
    """Process ``d``'s timer: a rollback over, a bad release noticed, a rollout's step, a bad release
    (in this order at one instant); then the timer waits for the next of them."""
    e0 = w.dp_t[d, _EXP]
    if w.dp_ph[d] == DP_BACK and now >= w.dp_t[d, _BACK]:
        w.dp_ph[d] = DP_IDLE
        w.dp_t[d, _EXP] = 0.0
        w.dp_t[d, _NEXT] = _dp_next_bad(m, w, d, now)
    if w.dp_ph[d] == DP_WAIT and now >= w.dp_t[d, _ANS]:
        w.dp_ph[d] = DP_BACK
    if w.dp_ph[d] == DP_OUT and now >= w.dp_t[d, _SEEN]:
        # The rollout stops where it is; a paged rollback first waits for the engineer, answering at
        # the pace of the page's hour.
        answer = _draw(m, w, _oc_row(m, now), m.dp_aux[d]) if m.dp_i[d, 3] and w.dp_t[d, _AUTO] == 0.0 else 0.0
        w.dp_t[d, _ANS] = now + answer
        w.dp_t[d, _BACK] = now + answer + w.dp_t[d, _RB]
        w.dp_ph[d] = DP_WAIT if answer > 0.0 else DP_BACK
        w.dp_t[d, _STEP] = math.inf
    if w.dp_ph[d] == DP_OUT and now >= w.dp_t[d, _STEP]:
        if m.dp_i[d, 0] == STRATEGY_ROLLING:
            e = min(1.0, w.dp_t[d, _EXP] + m.dp_f[d, 4])
            w.dp_t[d, _EXP] = e
            w.dp_t[d, _STEP] = now + m.dp_f[d, 5] if e < 1.0 else math.inf
        else:  # a canary the analysis missed, promoted
            w.dp_t[d, _EXP] = 1.0
            w.dp_t[d, _STEP] = math.inf
    if w.dp_ph[d] == DP_IDLE and now >= w.dp_t[d, _NEXT]:
        _dp_release(m, w, d, now)
    nxt = w.dp_t[d, _NEXT]
    if w.dp_ph[d] == DP_OUT:
        nxt = min(w.dp_t[d, _SEEN], w.dp_t[d, _STEP])
    elif w.dp_ph[d] == DP_WAIT:
        nxt = w.dp_t[d, _ANS]
    elif w.dp_ph[d] == DP_BACK:
        nxt = w.dp_t[d, _BACK]
    if nxt < math.inf:
        _qschedule(w.heap, m.dp_aux[d], nxt, KIND_AUX)
    if w.dp_t[d, _EXP] != e0:
        for a in range(m.dp_svc_ptr[d], m.dp_svc_ptr[d + 1]):
            _mark_dirty(m, w, m.dp_svc[a])


@fast
def _dp_alerted(m, w, a, now):
    """Rule ``a`` fires at ``now``: the bad releases out that it watches are noticed now."""
    for d in range(len(m.dp_aux)):
        if m.dp_i[d, 4] == a and w.dp_ph[d] == DP_OUT and w.dp_t[d, _SEEN] > now:
            w.dp_t[d, _SEEN] = now
            w.dp_t[d, _AUTO] = 0.0  # a person noticed it first
            _qschedule(w.heap, m.dp_aux[d], now, KIND_AUX)


@inline
def _dp_stage(m, w, phase, watched):
    """Whether a reachable process has a bad release failing requests in ``phase`` (for ``DP_OUT``,
    ``watched`` picks the ones an alert rule watches, 1, or the others, 0; -1 any)."""
    for x in range(len(m.st_dp)):
        d = m.st_dp[x]
        if w.dp_ph[d] == phase and w.dp_t[d, _EXP] * m.dp_f[d, 3] > 0.0:
            if watched < 0 or (m.dp_i[d, 4] >= 0) == (watched == 1):
                return True
    return False
