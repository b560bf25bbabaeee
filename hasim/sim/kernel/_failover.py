"""Standby and quorum pools: the failover state machine of a shard (detection, the wait for
``failover.requires``, promotion or election, manual recovery) and its timer's events.

Shard states (standby / quorum)
-------------------------------
``UP`` (standby: the active instance is available; quorum: a leader exists),
``DETECT`` and ``PROMOTE`` (failover timers), ``WAIT_REQ`` (detection done,
waiting for every ``failover.requires`` service to serve something; checked
during re-evaluation, where those services are current), ``FAILED``
(promotion failed: waiting for the manual timer or for an instance to become
available again), ``NO_STANDBY`` (no available instance: the first to become
available becomes active), ``ELECT`` (quorum election: the promotion timer),
``NO_LEADER`` (quorum without a leader and without a majority; when a
majority is regained the lowest-index available instance is elected at once)
and ``REGAINED`` (the majority is back but ``failover.requires`` do not
serve yet: elected at once when they do).  A quorum election with
``failover.requires`` goes ``DETECT -> WAIT_REQ -> ELECT -> UP`` like a standby
promotion; without, one ``ELECT`` timer of detection + promotion.  Either is
abandoned for ``NO_LEADER`` whenever the majority is lost on the way.
A leader or active instance that becomes unavailable is never reinstated
without a failover or election (no failback).
"""

from __future__ import annotations

import math

from ._codes import (DETECT, ELECT, FAILED, FALSE, KIND_TIMER, NO_LEADER, NO_STANDBY, PROMOTE, QUORUM, REGAINED,
                     STANDBY, TRUE, UP, WAIT_REQ)
from ._healthcheck import _hc_moved
from ._jit import fast, inline
from ._queue import _qremove, _qschedule
from ._replication import _rp_gained, _rp_lost, _rp_promote
from ._rng import next_double
from ._shards import (_draw, _in_failover, _lowest_available, _oc_row, _make_active, _mark_dirty, _set_state, _timer_id,
                      _update_own)


@inline
def _activate(m, w, sh, j, now):
    """Instance ``j`` becomes the active one (a replicated shard first settles what it lost)."""
    if m.svc_rp[m.sh_svc[sh]] != 0:
        _rp_promote(m, w, sh, j, now)
    _make_active(m, w, sh, j, now)


@fast
def _complete_promotion(m, w, sh, now):
    v = m.sh_svc[sh]
    success = m.svc_fo[v, 2]
    ok = True
    if success < 1.0:
        ok = next_double(w.rng[_timer_id(m, sh)]) < success
    if ok:
        j = _lowest_available(m, w, sh)
        if j >= 0:
            _activate(m, w, sh, j, now)
            _set_state(m, w, sh, UP)
        else:
            _set_state(m, w, sh, NO_STANDBY)
    else:
        _set_state(m, w, sh, FAILED)
        manual = m.svc_fo[v, 3]
        if manual < math.inf:
            if m.oc_row[0] >= 0:  # the page: the on-call engineer answers first (hasim.model.oncall)
                w.sh_resp[sh] = 1
                _qschedule(w.heap, _timer_id(m, sh), now + _draw(m, w, _oc_row(m, now), _timer_id(m, sh)), KIND_TIMER)
            else:
                _qschedule(w.heap, _timer_id(m, sh), now + manual, KIND_TIMER)
    _update_own(m, w, sh)


@fast
def _start_promotion(m, w, sh, now):
    """Every ``failover.requires`` service serves: promote a standby, or hold the election."""
    v = m.sh_svc[sh]
    quorum = m.svc_mode[v] == QUORUM
    promotion = m.svc_fo[v, 1]
    if promotion > 0.0:
        _set_state(m, w, sh, ELECT if quorum else PROMOTE)
        _qschedule(w.heap, _timer_id(m, sh), now + promotion, KIND_TIMER)
    elif quorum:
        _elect(m, w, sh)
        _update_own(m, w, sh)
    else:
        _complete_promotion(m, w, sh, now)


@fast
def _begin_failover(m, w, sh, now):
    """The active instance (leader) is lost and a standby (majority) remains: detection first,
    then the wait for ``failover.requires``, resolved while re-evaluating."""
    detection = m.svc_fo[m.sh_svc[sh], 0]
    if detection > 0.0:
        _set_state(m, w, sh, DETECT)
        _qschedule(w.heap, _timer_id(m, sh), now + detection, KIND_TIMER)
    else:
        _set_state(m, w, sh, WAIT_REQ)
        _mark_dirty(m, w, m.sh_svc[sh])


@fast
def _elect(m, w, sh):
    w.sh_active[sh] = _lowest_available(m, w, sh)
    _set_state(m, w, sh, UP)


@fast
def _lost(m, w, i, now):
    """Instance ``i`` just became unavailable (its shard's count is already updated)."""
    sh = m.inst_shard[i]
    v = m.sh_svc[sh]
    mode = m.svc_mode[v]
    if mode == STANDBY:
        if m.svc_rp[v] != 0:
            _rp_lost(m, w, i, now)
        if w.sh_active[sh] == i:
            w.sh_active[sh] = -1
            if w.sh_h[sh] >= 1:
                _begin_failover(m, w, sh, now)
            else:
                _set_state(m, w, sh, NO_STANDBY)
    elif mode == QUORUM:
        k = m.svc_k[v]
        if w.sh_active[sh] == i:
            w.sh_active[sh] = -1
            if w.sh_h[sh] >= k:
                if m.svc_req_ptr[v + 1] > m.svc_req_ptr[v]:
                    _begin_failover(m, w, sh, now)  # an election: detection, requires, promotion
                else:
                    # Nothing to wait for between detection and promotion: one timer.
                    delay = m.svc_fo[v, 0] + m.svc_fo[v, 1]
                    if delay > 0.0:
                        _set_state(m, w, sh, ELECT)
                        _qschedule(w.heap, _timer_id(m, sh), now + delay, KIND_TIMER)
                    else:
                        _elect(m, w, sh)
            else:
                _set_state(m, w, sh, NO_LEADER)
        elif w.sh_h[sh] < k and _in_failover(w.sh_state[sh]):
            # The majority is lost mid-election: it is abandoned (no-op if no timer is pending).
            _qremove(w.heap, _timer_id(m, sh))
            _set_state(m, w, sh, NO_LEADER)
    elif m.svc_hc_on[v]:
        _hc_moved(m, w, i, FALSE, now)
    _update_own(m, w, sh)


@fast
def _gained(m, w, i, now):
    """Instance ``i`` just became available (its shard's count is already updated)."""
    sh = m.inst_shard[i]
    v = m.sh_svc[sh]
    mode = m.svc_mode[v]
    if mode == STANDBY:
        st = w.sh_state[sh]
        if st == NO_STANDBY or st == FAILED:
            if st == FAILED:
                _qremove(w.heap, _timer_id(m, sh))
                w.sh_resp[sh] = 0
            _activate(m, w, sh, i, now)
            _set_state(m, w, sh, UP)
        if m.svc_rp[v] != 0:
            _rp_gained(m, w, i)
    elif mode == QUORUM:
        if w.sh_state[sh] == NO_LEADER and w.sh_h[sh] >= m.svc_k[v]:
            if m.svc_req_ptr[v + 1] > m.svc_req_ptr[v]:
                # A regained majority elects at once, but only once failover.requires serve:
                # resolved while re-evaluating, where those services are current.
                _set_state(m, w, sh, REGAINED)
                _mark_dirty(m, w, v)
            else:
                _elect(m, w, sh)
    elif m.svc_hc_on[v]:
        _hc_moved(m, w, i, TRUE, now)
    _update_own(m, w, sh)


@fast
def _timer_event(m, w, sh, now):
    st = w.sh_state[sh]
    v = m.sh_svc[sh]
    if st == DETECT:
        _set_state(m, w, sh, WAIT_REQ)
        _mark_dirty(m, w, v)
    elif st == PROMOTE:
        _complete_promotion(m, w, sh, now)
    elif st == FAILED and w.sh_resp[sh]:  # the engineer answers the page: the manual action starts
        w.sh_resp[sh] = 0
        _qschedule(w.heap, _timer_id(m, sh), now + m.svc_fo[v, 3], KIND_TIMER)
    elif st == FAILED:  # manual intervention
        j = _lowest_available(m, w, sh)
        if j >= 0:
            _activate(m, w, sh, j, now)
            _set_state(m, w, sh, UP)
        else:
            _set_state(m, w, sh, NO_STANDBY)
        _update_own(m, w, sh)
    elif st == ELECT:
        if w.sh_h[sh] >= m.svc_k[v]:
            _elect(m, w, sh)
        else:
            _set_state(m, w, sh, NO_LEADER)
        _update_own(m, w, sh)
