"""Overload: a shard whose offered utilisation stays above its threshold for the grace period
collapses and serves only its goodput, until the offered utilisation -- client retries included --
falls below the recovery threshold (:mod:`hasim.model.overload`).

Offered utilisation of a shard with ``h`` carrying instances needing ``k``: ``r(f) k / h``, where
``f = 1 - own`` is the share of requests it fails and ``r`` the clients' attempts per request
(:func:`hasim.model.overload.retry_factor`).  It is re-evaluated whenever the shard's own served
fraction is (:func:`._shards._update_own`: an instance, zone or probe event, or a new hour), which
starts or cancels the grace timer, and recovers a collapsed shard."""

from __future__ import annotations

from ._codes import _NOW, _WARM, KIND_AUX
from ._jit import fast, inline
from ._queue import _qremove, _qschedule


@inline
def _retry_factor(m, v, f):
    """Attempts per request while a share ``f`` of requests fails (``hasim.model.overload.retry_factor``,
    the same sum in the same order: both engines decide a recovery on the same bits)."""
    if f <= 0.0:
        return 1.0
    r = 1.0
    x = 1.0
    for _ in range(int(m.svc_rt[v, 0]) - 1):  # a few terms: cheaper than pow, on the path of every hour of a collapse
        x *= f
        r += x
    return min(r, m.svc_rt[v, 1])


@inline
def _offered(m, v, h, k, own):
    """Offered utilisation (0 when nothing is available or nothing is asked: no trigger then)."""
    if h <= 0 or k <= 0.0:
        return 0.0
    return _retry_factor(m, v, 1.0 - own) * k / h


@fast
def _overload_own(m, w, sh, v, h, own):
    """What shard ``sh`` serves given ``own``, what it would serve without overload; moves its
    collapse state and grace timer as its offered utilisation says.  An admission limiter
    (``svc_ov[v, 4]``, inf without one) lets in at most that utilisation and rejects the rest."""
    k = w.sh_k[sh]
    admit = m.svc_ov[v, 4]
    if admit * h < k:  # k > 0 and the limiter binds (never with admit = inf)
        own = min(own, admit * h / k)
    if w.sh_col[sh]:
        good = m.svc_ov[v, 3] * h
        cap = 1.0 if good >= k else good / k
        collapsed = min(own, cap)
        if h > 0 and min(_offered(m, v, h, k, collapsed), admit) < m.svc_ov[v, 2]:
            w.sh_col[sh] = 0  # recovered: judged below as a pool that is not collapsed
            w.sh_tcol[sh] += max(0.0, w.fl[_NOW] - max(w.sh_tc0[sh], w.fl[_WARM]))
        else:
            return collapsed
    if min(_offered(m, v, h, k, own), admit) > m.svc_ov[v, 0]:
        if not w.sh_ovp[sh]:
            w.sh_ovp[sh] = 1
            _qschedule(w.heap, m.sh_ov_aux[sh], w.fl[_NOW] + m.svc_ov[v, 1], KIND_AUX)
    elif w.sh_ovp[sh]:
        w.sh_ovp[sh] = 0
        _qremove(w.heap, m.sh_ov_aux[sh])
    return own


@fast
def _collapse_event(m, w, sh):
    """The grace period of shard ``sh`` is over and it is still overloaded: it collapses."""
    w.sh_ovp[sh] = 0
    w.sh_col[sh] = 1
    w.sh_tc0[sh] = w.fl[_NOW]
