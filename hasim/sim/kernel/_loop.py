"""The event loop: one replica (:func:`_run_replica`) and the parallel entry point
(:func:`simulate_replicas`, ``prange`` over blocks of replicas).  See the package docstring
(:mod:`hasim.sim.kernel`) for the semantics and where each mechanism lives."""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from ._breakers import _cb_reset
from ._accounting import _close_window, _record_outage, _stage, _store_replica
from ._codes import (_DLN, _EVC, _LO, _MAXDEG, _NOW, _NVAR, _VARCHG, _WARM, _WEIGHT, ACTIVE, AUX_ALERT, AUX_PROBE_INST,
                     AUX_PROBE_TGT, FRESH, KIND_AUX, KIND_INST,
                     KIND_TIMER, KIND_ZONE, NO_ROUTE, ST_FULL, ST_ZERO, UP)
from ._day import _day_reset, _span
from ._alerts import _al_close, _al_event, _al_open, _al_rebase, _al_reset, _nz_event
from ._deploys import _dp_reset
from ._maintenance import _mt_reset
from ._hours import _hour_of
from ._dns import _answer_for
from ._events import _aux_event, _instance_event
from ._failover import _timer_event
from ._healthcheck import _probe_interval
from ._jit import fast, njit, njit_parallel, unlinked_call
from ._queue import _qclear, _qpop, _qschedule, _qtop
from ._replication import _record_losses, _rp_reset
from ._refs import keep_alive, ref
from ._rng import next_double, seed_state
from ._shards import _aux_base, _draw, _life_speed, _set_speed, _update_own
from ._sweep import _integrate_varying, _list_varying, _sweep
from ._work import _new_work
from ._zones import _zone_event

__all__ = ["BLOCK", "simulate_replicas"]

#: Replicas per parallel block (each block allocates its scratch once).
BLOCK = 16


@fast
def _reset(m, w, seed, stream):
    # One stream per component (event source) of the replica, so a component's draws do not
    # depend on anything else: changing one parameter leaves every other history unchanged.
    seed_state(seed, stream, w.seedbuf)
    for c in range(m.n_sources):
        seed_state(w.seedbuf[0], np.uint64(m.src_key[c]), w.rng[c])
    _qclear(w.heap)
    w.fl[_NOW] = 0.0
    w.fl[_WEIGHT] = 1.0
    w.ctl[_LO] = 0
    w.ctl[_NVAR] = 0
    w.ctl[_VARCHG] = 0
    w.ctl[_EVC] = -1
    w.ctl[_MAXDEG] = 0
    for v in range(m.n_services):
        w.svc_s[v] = -1.0  # forces the first evaluation to record every service
        w.svc_st[v] = -1
        w.svc_var[v] = 0
        w.svc_deg[v] = 0
        w.svc_own[v] = 1.0
        w.svc_ep[v] = m.svc_cause[v]
        w.svc_dirty[v] = 1
        w.svc_nwait[v] = 0
        w.svc_acc[v] = 0.0
        w.svc_t[v] = 0.0
        w.rt_t0[v] = 0.0
        w.rt_mixing[v] = 0
        w.rt_endk[v] = 0
    for a in range(len(m.svc_tgt)):
        w.tg_seen[a] = 1
        w.tg_mix[a] = 0.0
    for v in range(m.n_services):
        if m.svc_route[v] != NO_ROUTE:
            _answer_for(m, w, v)
            for a in range(m.svc_tgt_ptr[v], m.svc_tgt_ptr[v + 1]):
                w.tg_ans[a] = w.tg_des[a]
    for c in range(len(m.cache_owner)):
        w.cache_st[c] = FRESH
    for sh in range(m.n_shards):
        v = m.sh_svc[sh]
        w.sh_h[sh] = m.sh_inst_ptr[sh + 1] - m.sh_inst_ptr[sh]
        w.sh_ru[sh] = w.sh_h[sh]
        w.sh_rd[sh] = 0
        w.sh_state[sh] = UP
        w.sh_active[sh] = m.sh_inst_ptr[sh] if m.svc_mode[v] != ACTIVE else -1
        w.sh_own[sh] = -1.0
        w.sh_col[sh] = 0
        w.sh_ovp[sh] = 0
        w.sh_ext[sh] = 0.0
        w.sh_scd[sh] = 0
        w.sh_tc0[sh] = 0.0
        w.sh_tcol[sh] = 0.0
        w.sh_resp[sh] = 0
    _day_reset(m, w)  # the needs of the first hour, before any shard is evaluated
    _cb_reset(m, w)
    for z in range(m.n_zones):
        w.zone_up[z] = 1
        w.zone_down[z] = 0
        _qschedule(w.heap, m.n_instances + z, _draw(m, w, m.zone_fail[z], m.n_instances + z), KIND_ZONE)
    for i in range(m.n_instances):
        w.inst_up[i] = 1
        w.inst_routed[i] = 1
        w.inst_speed[i] = 0.0
        w.inst_rem[i] = _draw(m, w, m.inst_fail[i], i)
        w.inst_ans[i] = 0.0
        _set_speed(m, w, i, _life_speed(m, w, i), 0.0)
    _mt_reset(m, w)  # after the instances: a window in progress at time 0 takes some out
    # Probe phases are drawn last, so a scenario without health checks draws what it always did.
    for a in range(len(m.aux_kind)):
        if m.aux_kind[a] == AUX_PROBE_INST or m.aux_kind[a] == AUX_PROBE_TGT:
            w.pr_phase[a] = next_double(w.rng[_aux_base(m) + a]) * _probe_interval(m, a)
            w.pr_run0[a] = -1
            w.pr_end[a] = -1
    _rp_reset(m, w)
    _dp_reset(m, w)
    _al_reset(m, w)
    for sh in range(m.n_shards):
        _update_own(m, w, sh)


@fast
def _clear_outages(out, r):
    """Forget the outages row ``r`` recorded (those of a warm-up)."""
    for x in range(out.out_start.shape[1]):
        out.out_start[r, x] = np.nan
        out.out_dur[r, x] = np.nan
        out.out_cause[r, x] = -1
        out.out_index[r, x] = -1


@fast
def _run_replica(m, w, out, r, seed, stream, horizon, window, n_windows, threshold, warmup):
    # Measured: [warmup, warmup + horizon].  A warm-up runs the replica from new for ``warmup`` hours
    # and then forgets what it measured, so that the horizon starts from the state the warm-up left.
    _reset(m, w, seed, stream)
    w.fl[_WARM] = warmup  # what the time collapsed under overload is measured from
    end = warmup + horizon
    measuring = not warmup > 0.0
    stop = end if measuring else warmup  # the next time the loop must stop at: one test per event
    entry = m.entry
    keep_w = out.win.shape[1]
    keep_o = out.out_start.shape[1]
    loss = out.loss[r]
    held = out.stage_h[r]  # hours below full service, by cause and stage (the time beside the loss)
    h = w.heap

    s = 1.0      # the entry's served fraction (at the last event if it varies)
    est = ST_FULL  # its status: the initial evaluation opens an outage if it starts below 1
    stage = -1   # stage of the current loss, computed when first needed after an event
    t = 0.0
    t_last = 0.0
    lost = 0.0  # integral of 1 - s
    t_full = 0.0
    t_down = 0.0
    n_events = 0
    # outages
    in_outage = False
    o_start = 0.0
    o_cause = m.svc_cause[entry]
    n_out = np.int64(0)
    longest = 0.0
    n_dl = np.int64(0)  # data-loss incidents measured
    # windows
    k_win = 0
    win_start = 0.0
    win_end = warmup if not measuring else (end if n_windows <= 1 else window)
    win_lost = 0.0
    breaches = 0
    worst = 1.0

    evc = -1     # root cause carried by the last event (-1: a timer's, inherited)
    while True:
        # -- re-evaluate what the last event changed; outage bookkeeping (most events of a
        # -- redundant pool change no service: nothing is dirty, the entry's state stands) ----
        if w.ctl[_LO] < m.n_services:
            w.ctl[_EVC] = evc
            _sweep(m, w, t)
            if w.ctl[_DLN] > 0:  # promotions that lost writes, in the last event or this sweep
                n_dl = _record_losses(w, out, r, n_dl, warmup, seed, stream)
            if w.ctl[_VARCHG]:
                _list_varying(m, w)
            st = w.svc_st[entry]
            if st != est:
                if st != ST_FULL and not in_outage:
                    in_outage = True
                    o_start = t
                    o_cause = w.svc_ep[entry]
                    if m.n_alerts:
                        _al_open(m, w, out, r, t, lost)
                elif st == ST_FULL and in_outage:
                    in_outage = False
                    n_out, longest = _record_outage(out, r, keep_o, n_out, longest, o_start, t - o_start, o_cause,
                                                    seed, stream)
                    if m.n_alerts:
                        _al_close(m, w, out, r, lost)
                est = st
            s = w.svc_s[entry]
        stage = -1
        # -- the next event: peek (instance and zone events reschedule in place) -------------
        stopped = False
        src, t, kind = _qtop(h)
        if src < 0 or t >= stop:
            # the horizon, or the end of the warm-up: integrate up to it, forget the warm-up, go on
            t = stop
            stopped = True
        # -- integrate [t_last, t) with the state as it stands ------------------------------
        if w.ctl[_NVAR] == 0 and t <= win_end:
            # The common case: every served fraction constant, inside one window.
            if est != ST_FULL:
                dt = t - t_last
                q = (1.0 - s) * _span(m, t_last, t)
                lost += q
                win_lost += q
                if est == ST_ZERO:
                    t_down += dt
                stage = _stage(m, w, t_last)
                loss[o_cause, stage] += q
                held[o_cause, stage] += dt
            else:
                t_full += t - t_last
        else:
            a0 = t_last
            while True:
                b0 = min(t, win_end)
                by_hour = m.day_on and w.ctl[_NVAR] > 0  # a varying fraction is weighted hour by hour
                if by_hour:
                    b0 = min(b0, math.floor(a0) + 1.0)
                if b0 > a0:
                    if by_hour:
                        w.fl[_WEIGHT] = m.wt_day[_hour_of(a0)]
                    ent = _integrate_varying(m, w, a0, b0) if w.ctl[_NVAR] > 0 else 0.0
                    piece = b0 - a0
                    if est == ST_FULL:
                        t_full += piece
                    else:
                        if w.svc_var[entry]:
                            q = (piece - ent) * w.fl[_WEIGHT]
                        else:
                            q = (1.0 - s) * _span(m, a0, b0)
                        lost += q
                        win_lost += q
                        if est == ST_ZERO:
                            t_down += piece
                        if stage < 0:
                            stage = _stage(m, w, a0)
                        loss[o_cause, stage] += q
                        held[o_cause, stage] += piece
                if b0 >= t:
                    break
                if b0 < win_end:  # an hour boundary inside the window
                    a0 = b0
                    continue
                a = _close_window(out, r, k_win, win_lost, _span(m, win_start, win_end), keep_w)
                if a < threshold:
                    breaches += 1
                worst = min(worst, a)
                k_win += 1
                a0 = win_end
                win_start = win_end
                win_end = end if k_win >= n_windows - 1 else warmup + (k_win + 1) * window
                win_lost = 0.0
        t_last = t
        if stopped and not measuring:
            measuring = True
            stop = end
            if m.n_alerts:
                _al_rebase(m, w, out, r, lost)
            lost = t_full = t_down = win_lost = 0.0
            for c in range(loss.shape[0]):
                for g in range(loss.shape[1]):
                    loss[c, g] = 0.0
                    held[c, g] = 0.0
            for v in range(m.n_services):
                w.svc_acc[v] = 0.0
                w.svc_t[v] = warmup
            _clear_outages(out, r)
            n_out = np.int64(0)
            longest = 0.0
            o_start = warmup  # an outage in progress is measured from here
            win_start = warmup
            win_end = end if n_windows <= 1 else warmup + window
            continue
        if stopped:
            a = _close_window(out, r, k_win, win_lost, _span(m, win_start, end), keep_w)
            if a < threshold:
                breaches += 1
            worst = min(worst, a)
            break
        # -- the event ----------------------------------------------------------------------
        alert = kind == KIND_AUX and (m.aux_kind[src - _aux_base(m)] == AUX_ALERT or src == m.nz_aux)
        if src != m.day_aux and not alert:  # the hourly tick, the rules' evaluations and noise are bookkeeping
            n_events += 1
        w.fl[_NOW] = t
        if kind == KIND_INST:
            evc = m.src_cause[src]
            _instance_event(m, w, src, t)
        elif kind == KIND_ZONE:
            evc = m.src_cause[src]
            _zone_event(m, w, src - m.n_instances, t)
        elif kind == KIND_TIMER:
            evc = -1
            _qpop(h, src)
            _timer_event(m, w, src - m.n_instances - m.n_zones, t)
        elif alert:
            evc = -1
            _qpop(h, src)
            if src == m.nz_aux:
                _nz_event(m, w, t, lost)
            else:
                _al_event(m, w, out, r, m.aux_obj[src - _aux_base(m)], t, lost, in_outage, o_start, w.svc_s[entry])
        else:
            evc = m.src_cause[src]  # -1 but for a release's timer, whose bad release is a cause of its own
            _qpop(h, src)
            _aux_event(m, w, src, t)
    if in_outage:  # truncated by the horizon
        n_out, longest = _record_outage(out, r, keep_o, n_out, longest, o_start, end - o_start, o_cause,
                                        seed, stream)
    _store_replica(m, w, out, r, horizon, end, lost, t_full, t_down, n_out, longest, n_events, breaches, worst)


#: _run_replica, called by symbol from the prange body, linked into simulate_replicas only.
_run_replica_unlinked, _link_run_replica = unlinked_call(_run_replica, 11)


@njit(inline="always", cache=False, no_cpython_wrapper=True, no_cfunc_wrapper=True)
def _run_block(mr, outr, b, seed, first_replica, n_replicas, horizon, window, n_windows, threshold, warmup):
    """Replicas ``b * BLOCK ..`` (at most ``BLOCK``) of model ``mr`` into output ``outr`` (references,
    :func:`._refs.ref`), with one scratch allocated for the block.

    Inlined by numba into the ``prange`` body: a library of its own would be one more copy of the
    whole kernel for LLVM to optimise and compile."""
    w = _new_work(mr)
    wr = ref(w)
    lo = b * BLOCK
    hi = min(lo + BLOCK, n_replicas)
    for r in range(lo, hi):
        stream = np.uint64(first_replica) + np.uint64(r)
        _run_replica_unlinked(mr, wr, outr, r, seed, stream, horizon, window, n_windows, threshold, warmup)
    keep_alive(w)  # wr borrows w's arrays: numba must not free them before the block is done


@njit_parallel(no_cfunc_wrapper=True)
def simulate_replicas(m, seed, first_replica, n_replicas, horizon, window, n_windows, threshold, warmup, out):
    """Run replicas ``first_replica .. first_replica + n_replicas - 1`` of ``m``.

    Parameters
    ----------
    m : CompiledModel
        From :func:`hasim.compile.compile_scenario`.
    seed : uint64
        The scenario seed.
    first_replica : int64
        Global index of the first replica (its random stream number).
    n_replicas : int64
        Number of replicas; row ``r`` of ``out`` receives replica ``first_replica + r``.
    horizon, window : float64
        Hours simulated per replica; SLO window length in hours.
    n_windows : int64
        Windows per replica: ``ceil(horizon / window)`` (the last may be partial).
    threshold : float64
        A window whose availability is below this counts as a breach.
    warmup : float64
        Hours simulated before the measured ``horizon`` starts (0: measure from new).  Outage
        starts and window boundaries are then ``warmup`` hours later.
    out : KernelOut
        Output arrays with at least ``n_replicas`` rows (see :func:`new_output`).
    """
    if out.al_pages.shape[1] < m.n_alerts:  # the rules write their columns unchecked
        raise ValueError("the output has fewer alert columns than the model has rules: new_output(..., n_alerts)")
    # References, not the tuples: numba's prange would pass every array of a tuple its body uses to
    # the parallel gufunc as one argument (~96 of them).  They point into this frame, which lives
    # until every block is done.
    mr = ref(m)
    outr = ref(out)
    n_blocks = (n_replicas + BLOCK - 1) // BLOCK
    for b in prange(n_blocks):
        _run_block(mr, outr, np.int64(b), seed, first_replica, n_replicas, horizon, window, n_windows, threshold,
                   warmup)
    # After the loop, so after the gufunc's libraries: LLVM's linker copies a linkonce_odr function
    # only if the module it is linked into already refers to it.
    _link_run_replica()
