"""Replication of standby shards: how far behind the writer each instance's copy is, and the
data-loss window of a promotion (:mod:`hasim.model.replication` states the rule).

Per shard, ``sh_wr`` is the *writer*: the instance that took the writes last (the active one,
or the one that was active when the shard lost it), and ``sh_tl`` the time it was lost (writes
stop then: nothing is written while no instance is active).  Per instance, ``inst_cur`` is the
time up to which it holds the writer's data, ``inf`` while it follows the writer.

A promotion of an instance other than the writer is an incident: its window is
``sh_tl - min(inst_cur, sh_tl)`` (what it missed while away) plus a lag drawn from the
service's law (``async``), or the time since the last snapshot (``snapshot``, at a phase drawn
per history).  Those draws come from a stream of the shard's own, so a scenario draws every other
duration exactly as it would without replication.  Incidents wait in ``Work.dl_*`` until the event loop records them
(:func:`_record_losses`): a promotion happens inside an event or a sweep, which do not see the
output.  A shard makes at most one promotion per event and a router one answer, so ``H + T``
slots suffice.

A disaster-recovery copy (``replication.of``, a snapshot-replicated service of any mode) loses the
writes since its last snapshot when a failover router's answer moves to a target that reaches it
from one that did not (:func:`_rp_switch`, called by :func:`hasim.sim.kernel._dns._router_react`);
its phase is drawn from its first shard's stream like a standby's.
"""

from __future__ import annotations

import math

import numpy as np

from ._codes import _DLN, REPL_ASYNC, REPL_SNAPSHOT, STANDBY
from ._jit import fast, inline
from ._output import LOSS_KEY_BASE
from ._rng import next_double, sample, sample_key, seed_state
from ._shards import _available, _timer_id

#: Salt of the replication streams: one per shard, apart from every component's, so that declaring
#: replication changes no other draw (availability is bit-identical with or without it).
_RP_SALT = np.uint64(0x5EED_DA7A_0000_0000)


@inline
def _rp_reset(m, w):
    """Every copy current, the first instance the writer, each replicated shard's own stream (lags
    and the snapshot phase are drawn from it) and its snapshot phase."""
    for i in range(m.n_instances):
        w.inst_cur[i] = math.inf
    for sh in range(m.n_shards):
        v = m.sh_svc[sh]
        w.sh_wr[sh] = m.sh_inst_ptr[sh] if m.svc_mode[v] == STANDBY else -1
        w.sh_tl[sh] = 0.0
        w.sh_ph[sh] = 0.0
        if m.svc_rp[v] != 0:
            seed_state(w.seedbuf[0], np.uint64(m.src_key[_timer_id(m, sh)]) ^ _RP_SALT, w.rp_rng[sh])
            if m.svc_rp[v] == REPL_SNAPSHOT:
                w.sh_ph[sh] = next_double(w.rp_rng[sh]) * m.svc_rp_t[v]
    w.ctl[_DLN] = 0


@inline
def _rp_lost(m, w, i, now):
    """Instance ``i`` of a replicated standby shard becomes unavailable (before its role changes)."""
    sh = m.inst_shard[i]
    if w.sh_active[sh] == i:
        w.sh_tl[sh] = now  # the writes stop; should another take them, this copy ends here
        w.inst_cur[i] = now
    elif w.inst_cur[i] == math.inf:
        w.inst_cur[i] = now  # it stops following (if it was: min with sh_tl bounds it anyway)


@inline
def _rp_gained(m, w, i):
    """Instance ``i`` becomes available (after its role is settled): it catches up from an active
    writer; without one it keeps what it had."""
    a = w.sh_active[m.inst_shard[i]]
    if a >= 0 and a != i:
        w.inst_cur[i] = math.inf


@fast
def _rp_promote(m, w, sh, j, now):
    """Instance ``j`` becomes active: if it is not the writer, the writes it lacks are lost."""
    if j != w.sh_wr[sh]:
        v = m.sh_svc[sh]
        tl = w.sh_tl[sh]
        mode = m.svc_rp[v]
        if mode == REPL_SNAPSHOT:
            x = tl - w.sh_ph[sh]
            window = x - m.svc_rp_t[v] * math.floor(x / m.svc_rp_t[v])
        else:
            window = tl - min(w.inst_cur[j], tl)
            if mode == REPL_ASYNC:
                row = m.svc_rp_lag[v]
                window += sample(w.rp_rng[sh], m.dist_code[row], m.dist[row, 1], m.dist[row, 2], m.dist[row, 3],
                                 m.samples)
        n = w.ctl[_DLN]
        if n < len(w.dl_t):
            w.dl_t[n] = now
            w.dl_w[n] = window
            w.dl_v[n] = v
            w.ctl[_DLN] = n + 1
        w.sh_wr[sh] = j
    # Every copy that is available follows the writer from now (one that held more than a new
    # writer is rebuilt from it, one that came back while no instance was active catches up);
    # the others keep what they had.
    for k in range(m.sh_inst_ptr[sh], m.sh_inst_ptr[sh + 1]):
        if k == j or _available(m, w, k):
            w.inst_cur[k] = math.inf


@fast
def _rp_switch(m, w, v, now):
    """Failover router ``v`` answers ``tg_des`` instead of ``tg_ans``: if the writes move to a
    disaster-recovery copy the old target did not reach, the copy's window since its last snapshot
    is an incident of the copy."""
    old = -1
    new = -1
    for a in range(m.svc_tgt_ptr[v], m.svc_tgt_ptr[v + 1]):
        if w.tg_ans[a] > 0.0:
            old = m.tgt_copy[a]
        if w.tg_des[a] > 0.0:
            new = m.tgt_copy[a]
    if new >= 0 and new != old:
        x = now - w.sh_ph[m.svc_shard_ptr[new]]
        t = m.svc_rp_t[new]
        n = w.ctl[_DLN]
        if n < len(w.dl_t):
            w.dl_t[n] = now
            w.dl_w[n] = x - t * math.floor(x / t)
            w.dl_v[n] = new
            w.ctl[_DLN] = n + 1


@fast
def _record_losses(w, out, r, n_dl, warmup, seed, stream):
    """Record the incidents waiting in ``w`` (those of the warm-up are forgotten) into row ``r``:
    counts and windows by service, and the bottom-k sample of ``out.dl_*`` (keys
    :func:`sample_key` from :data:`LOSS_KEY_BASE`); return the replica's new incident count."""
    keep = out.dl_t.shape[1]
    for p in range(w.ctl[_DLN]):
        t = w.dl_t[p]
        if t < warmup:
            continue
        v = w.dl_v[p]
        d = w.dl_w[p]
        out.dl_n[r, v] += 1
        out.dl_hours[r, v] += d
        slot = n_dl
        if n_dl >= keep:
            slot = -1
            key = sample_key(seed, stream, LOSS_KEY_BASE + n_dl)
            for x in range(keep):
                kx = sample_key(seed, stream, LOSS_KEY_BASE + out.dl_index[r, x])
                if kx > key:
                    key = kx
                    slot = x
        if slot >= 0:
            out.dl_t[r, slot] = t
            out.dl_win[r, slot] = d
            out.dl_svc[r, slot] = v
            out.dl_index[r, slot] = n_dl
        n_dl += 1
    w.ctl[_DLN] = 0
    return n_dl
