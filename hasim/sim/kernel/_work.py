"""The scratch state of one replica (:class:`Work`): allocated once per parallel block, reset per
replica by :func:`hasim.sim.kernel._loop._reset`.  Arrays are indexed by instance (N), zone (Z),
shard (H), service (S), router target slot (T), cache (C), auxiliary timer (A) and watched
dependency edge (B) of the model.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._codes import N_CTL, N_FL
from ._jit import njit
from ._queue import Queue, _queue_new

__all__ = ["Work"]


class Work(NamedTuple):
    """Scratch state of one replica (allocated once per block, reset per replica)."""

    heap: Queue
    rng: np.ndarray         # uint64[E, 4]: the random stream of every component (event source)
    seedbuf: np.ndarray     # uint64[4]: the replica's stream, from which the components' are seeded
    inst_up: np.ndarray     # uint8[N]
    inst_speed: np.ndarray  # float64[N]
    inst_rem: np.ndarray    # float64[N]
    inst_routed: np.ndarray  # uint8[N]: in the load balancer's rotation
    zone_up: np.ndarray     # uint8[Z]
    zone_down: np.ndarray   # int64[Z]: down zones in the chain of each zone
    sh_h: np.ndarray        # int64[H]: available instances
    sh_ru: np.ndarray       # int64[H]: available and routed (health-checked pools)
    sh_rd: np.ndarray       # int64[H]: unavailable but still routed
    sh_state: np.ndarray    # int64[H]
    sh_active: np.ndarray   # int64[H]: active instance / leader, -1 if none
    sh_own: np.ndarray      # float64[H]
    svc_s: np.ndarray       # float64[S]: served fraction (varying services: at the last event)
    svc_st: np.ndarray      # int64[S]: status
    svc_var: np.ndarray     # uint8[S]: varies between events
    svc_deg: np.ndarray     # int64[S]: polynomial degree in time while varying
    svc_own: np.ndarray     # float64[S]: mean over shards of the shards' own fractions
    svc_ep: np.ndarray      # int64[S]: root cause of the current episode (status not FULL)
    svc_dirty: np.ndarray   # uint8[S]
    svc_nwait: np.ndarray   # int64[S]: shards in WAIT_REQ
    svc_acc: np.ndarray     # float64[S]: integral of s up to svc_t
    svc_t: np.ndarray       # float64[S]
    rt_t0: np.ndarray       # float64[S]: routers: time of the current DNS answer
    rt_mixing: np.ndarray   # uint8[S]: routers: clients still partly on the previous mixture
    rt_endk: np.ndarray     # int64[S]: routers: ramp ends already passed
    tg_seen: np.ndarray     # uint8[T]: the router sees the target up
    tg_ans: np.ndarray      # float64[T]: raw weight in the DNS answer (0: not in it)
    tg_mix: np.ndarray      # float64[T]: normalised mixture when the answer changed
    tg_des: np.ndarray      # float64[T]: scratch: the answer the router wants
    cache_st: np.ndarray    # int64[C]
    pr_phase: np.ndarray    # float64[A]: health probes: first probe time
    pr_run0: np.ndarray     # int64[A]: first probe of the current run of disagreeing probes
    pr_end: np.ndarray      # int64[A]: the probe that ends a run interrupted without a flip (-1: none)
    var: np.ndarray         # int64[S]: the varying services, topological order
    q_acc: np.ndarray       # float64[S]: quadrature accumulator
    buf: np.ndarray         # int64[N]: instances touched by a zone event
    ctl: np.ndarray         # int64[N_CTL]: see _LO ...
    fl: np.ndarray          # float64[N_FL]: see _NOW, _WEIGHT, _WARM
    sh_k: np.ndarray        # float64[H]: instances the shard needs now (sh_kc x hold)
    sh_col: np.ndarray      # uint8[H]: collapsed under overload
    sh_ovp: np.ndarray      # uint8[H]: its overload grace period is running
    cb_st: np.ndarray       # int64[B]: circuit breaker state (CB_CLOSED, CB_OPEN, CB_HALF)
    cb_pend: np.ndarray     # uint8[B]: its timer is running (closed, half-open: to open; open: to half-open)
    cb_t0: np.ndarray       # float64[B]: when it last opened (or found its dependency still failing)
    svc_lf: np.ndarray      # float64[S]: load factor: the share of its load that open breakers leave
    svc_hold: np.ndarray    # float64[S]: worker time per request over its latency (timeouts)
    svc_d: np.ndarray       # float64[S]: scratch: offered load with the open edges cut
    sh_kc: np.ndarray       # float64[H]: instances the shard needs for its load at the current hour
    sh_ext: np.ndarray      # float64[H]: instances an autoscaler added (a count)
    sh_scd: np.ndarray      # int64[H]: its scaling timer: +1 out, -1 in, 0 none
    sh_tc0: np.ndarray      # float64[H]: when its current collapse began
    sh_tcol: np.ndarray     # float64[H]: hours collapsed within the measured horizon, collapses ended
    inst_cur: np.ndarray    # float64[N]: replicated standbys: time up to which it holds the writer's data (inf: follows)
    sh_wr: np.ndarray       # int64[H]: the writer: the instance that took the writes last (-1: not standby)
    sh_tl: np.ndarray       # float64[H]: when the writer was lost (the writes stopped)
    sh_ph: np.ndarray       # float64[H]: snapshot phase (snapshots at sh_ph + k x interval)
    dl_t: np.ndarray        # float64[H + T]: data-loss incidents waiting to be recorded: time, window, service
    dl_w: np.ndarray        # float64[H + T]
    dl_v: np.ndarray        # int64[H + T]
    rp_rng: np.ndarray      # uint64[H, 4]: replicated shards: the stream of their lags and snapshot phase
    sh_resp: np.ndarray     # uint8[H]: a failed promotion waiting for the on-call engineer (hasim.model.oncall)
    al_st: np.ndarray       # int64[A, 5]: alert rules: awake, firing, paged in this incident, ring position,
                            # the ring's slots in use
    al_t: np.ndarray        # float64[A, 3]: pending since (-1: not), the loss when the incident began, phase
    al_ring: np.ndarray     # float64[*]: each rule's loss at its last evaluations (m.al_ring_ptr)
    al_nring: np.ndarray    # float64[*]: and the noise it saw by then (request-hours of the spikes)
    al_gring: np.ndarray    # int64[*]: and the grid index of each of those evaluations
    nz: np.ndarray          # float64[4]: the noise: the spike's errors now (0: none), its request-hours
                            # up to the last change, the time of that change, 1 during a spike
    inst_ans: np.ndarray    # float64[N]: when the on-call answers a failed instance's paged repair (0: not waiting)
    mt_on: np.ndarray       # uint8[S]: a maintenance window of the service is in progress
    dp_ph: np.ndarray       # int64[D]: deploy processes: DP_IDLE, DP_OUT (a bad release out), DP_BACK (rolling back)
    dp_t: np.ndarray        # float64[D, 9]: next bad release, noticed at, rolled back at, next step, exposure, phase,
                            # the on-call answers at, the rollback's duration, 1 if the canary analysis caught it


@njit
def _new_work(m):
    S, H, N, T = m.n_services, m.n_shards, m.n_instances, len(m.svc_tgt)
    A = max(m.n_sources - (m.n_instances + m.n_zones + m.n_shards), 0)
    return Work(
        _queue_new(max(m.n_sources, 1), m.scan_queue),
        np.zeros((max(m.n_sources, 1), 4), dtype=np.uint64),
        np.zeros(4, dtype=np.uint64),
        np.zeros(N, dtype=np.uint8), np.zeros(N, dtype=np.float64), np.zeros(N, dtype=np.float64),
        np.zeros(N, dtype=np.uint8),
        np.zeros(m.n_zones, dtype=np.uint8), np.zeros(m.n_zones, dtype=np.int64),
        np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.int64),
        np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.float64),
        np.zeros(S, dtype=np.float64), np.zeros(S, dtype=np.int64), np.zeros(S, dtype=np.uint8),
        np.zeros(S, dtype=np.int64), np.zeros(S, dtype=np.float64), np.zeros(S, dtype=np.int64),
        np.zeros(S, dtype=np.uint8), np.zeros(S, dtype=np.int64), np.zeros(S, dtype=np.float64),
        np.zeros(S, dtype=np.float64),
        np.zeros(S, dtype=np.float64), np.zeros(S, dtype=np.uint8), np.zeros(S, dtype=np.int64),
        np.zeros(T, dtype=np.uint8), np.zeros(T, dtype=np.float64), np.zeros(T, dtype=np.float64),
        np.zeros(T, dtype=np.float64),
        np.zeros(len(m.cache_owner), dtype=np.int64),
        np.zeros(A, dtype=np.float64), np.zeros(A, dtype=np.int64), np.zeros(A, dtype=np.int64),
        np.zeros(S, dtype=np.int64), np.zeros(S, dtype=np.float64),
        np.zeros(max(N, 1), dtype=np.int64),
        np.zeros(N_CTL, dtype=np.int64),
        np.zeros(N_FL, dtype=np.float64),
        np.zeros(H, dtype=np.float64), np.zeros(H, dtype=np.uint8), np.zeros(H, dtype=np.uint8),
        np.zeros(len(m.cb_dep), dtype=np.int64), np.zeros(len(m.cb_dep), dtype=np.uint8),
        np.zeros(len(m.cb_dep), dtype=np.float64),
        np.ones(S, dtype=np.float64), np.ones(S, dtype=np.float64), np.zeros(S, dtype=np.float64),
        np.zeros(H, dtype=np.float64), np.zeros(H, dtype=np.float64), np.zeros(H, dtype=np.int64),
        np.zeros(H, dtype=np.float64), np.zeros(H, dtype=np.float64),
        np.zeros(N, dtype=np.float64), np.zeros(H, dtype=np.int64), np.zeros(H, dtype=np.float64),
        np.zeros(H, dtype=np.float64),
        np.zeros(H + T, dtype=np.float64), np.zeros(H + T, dtype=np.float64), np.zeros(H + T, dtype=np.int64),
        np.zeros((H, 4), dtype=np.uint64),
        np.zeros(H, dtype=np.uint8),
        np.zeros((m.n_alerts, 5), dtype=np.int64), np.zeros((m.n_alerts, 3), dtype=np.float64),
        np.zeros(max(m.al_ring_ptr[-1], 1), dtype=np.float64), np.zeros(max(m.al_ring_ptr[-1], 1), dtype=np.float64),
        np.zeros(max(m.al_ring_ptr[-1], 1), dtype=np.int64),
        np.zeros(4, dtype=np.float64), np.zeros(N, dtype=np.float64), np.zeros(S, dtype=np.uint8),
        np.zeros(len(m.dp_aux), dtype=np.int64), np.zeros((len(m.dp_aux), 9), dtype=np.float64),
    )
