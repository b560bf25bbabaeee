"""The per-replica output arrays every engine fills, and the labels of their axes.

Both engines (the numba kernel and the SimPy reference) write into the same
:class:`SimOutput` so that one :class:`hasim.results.Results` class turns
either into DataFrames.  numpy only: importing this compiles nothing.

=============  ====================  ================================================
field          dtype[shape]          content (row r = replica first_replica + r)
=============  ====================  ================================================
ra             float64[R]            mean of the entry's s over the horizon
ta             float64[R]            fraction of time with s == 1
degraded       float64[R]            fraction of time with 0 < s < 1
down           float64[R]            fraction of time with s == 0
outages        int64[R]              maximal intervals with s < 1 (zero-length dropped)
longest        float64[R]            longest outage, hours
events         int64[R]              events processed (state changes and timers)
loss           float64[R, C, G]      lost request-hours (1 - s) dt by root cause and stage
stage_h        float64[R, C, G]      hours the entry spent below full service (s < 1), same axes
svc_ra         float64[R, S]         mean served fraction of every service
overload       float64[R, S]         fraction of the horizon its shards spend collapsed (mean over shards)
win            float64[R, Wk]        availability of the first Wk windows
breaches       int64[R]              windows with availability < threshold (all windows)
worst          float64[R]            lowest window availability
out_start      float64[R, K]         first K outages: start (hours), NaN if fewer
out_dur        float64[R, K]         duration (hours)
out_cause      int64[R, K]           root cause index, -1 if fewer
out_index      int64[R, K]           ordinal of the outage in its replica (0 = first), -1 if fewer
dl_n           int64[R, S]           data-loss incidents: promotions of a replicated standby service
                                     to an instance other than the writer (hasim.model.replication)
dl_hours       float64[R, S]         their windows summed: hours of writes lost
dl_t           float64[R, K]         a sample of K incidents per replica: time of the promotion (NaN if fewer)
dl_win         float64[R, K]         its window, hours
dl_svc         int64[R, K]           its service, -1 if fewer
dl_index       int64[R, K]           its ordinal in the replica, -1 if fewer
al_pages       int64[R, A]           alert rules (hasim.model.alerts): pages
al_detected    int64[R, A]           incidents (outages of the entry) paged for while they lasted
al_missed      int64[R, A]           incidents over before the rule fired
al_late        int64[R, A]           pages with no incident in progress
al_ttd         float64[R, A]         hours from each detected incident's start to its page, summed
al_burn        float64[R, A]         request-hours lost from its start to its page, summed
al_cov         float64[R, A]         request-hours lost in the incidents it paged for
al_false       int64[R, A]           pages with no incident in progress, on the noise alone (``alert_noise``)
=============  ====================  ================================================

Outage records (``out_*``): every outage is counted in ``outages``, but only K
per replica are kept, a uniform sample without replacement of that replica's
outages (the K smallest :func:`hasim.sim.kernel._rng.sample_key` keys, so both engines
keep the same ordinals), stored in no particular order.  A kept outage of a
replica with ``n > K`` outages stands for ``n / K`` of them: pooled statistics
must weight it so (``Results.outages`` has that ``weight`` column).

Data-loss records (``dl_*``): the same bottom-k rule over the replica's
incidents (keys from ordinal ``2**40`` on, apart from the outages'), every
incident counted and summed in ``dl_n`` / ``dl_hours``.

Causes (axis C): every service in topological order (an instance failure of
that service started the outage), then every zone in scenario order ("zone Z"),
then every service with deploys ("change X": one of its bad releases).
Stages (axis G): :data:`STAGES`, the mechanism that keeps the loss going.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["SimOutput", "new_output", "STAGES", "N_STAGES", "LOSS_KEY_BASE"]

#: Ordinals of the data-loss sample's keys start here, apart from the outages' (same bottom-k rule).
LOSS_KEY_BASE = np.int64(1) << np.int64(40)

#: Stages of lost service, in output order (fixed: part of the results contract).
STAGES = ("detection", "failover", "dns", "capacity", "repair", "zone", "stale-cache", "overload", "breaker",
          "scaling", "rollback", "response", "alerting", "maintenance")
N_STAGES = len(STAGES)
(DETECTION, FAILOVER, DNS, CAPACITY, REPAIR, ZONE, STALE_CACHE, OVERLOAD, BREAKER, SCALING, ROLLBACK,
 RESPONSE, ALERTING, MAINTENANCE) = range(N_STAGES)


class SimOutput(NamedTuple):
    """Per-replica results; see the module docstring."""

    ra: np.ndarray
    ta: np.ndarray
    degraded: np.ndarray
    down: np.ndarray
    outages: np.ndarray
    longest: np.ndarray
    events: np.ndarray
    loss: np.ndarray
    stage_h: np.ndarray
    svc_ra: np.ndarray
    win: np.ndarray
    breaches: np.ndarray
    worst: np.ndarray
    out_start: np.ndarray
    out_dur: np.ndarray
    out_cause: np.ndarray
    out_index: np.ndarray
    overload: np.ndarray
    dl_n: np.ndarray
    dl_hours: np.ndarray
    dl_t: np.ndarray
    dl_win: np.ndarray
    dl_svc: np.ndarray
    dl_index: np.ndarray
    al_pages: np.ndarray
    al_detected: np.ndarray
    al_missed: np.ndarray
    al_late: np.ndarray
    al_ttd: np.ndarray
    al_burn: np.ndarray
    al_cov: np.ndarray
    al_false: np.ndarray


def new_output(n: int, n_causes: int, n_services: int, keep_windows: int, keep_outages: int,
               n_alerts: int = 0) -> SimOutput:
    """Zeroed (NaN / -1 where "none") output arrays for ``n`` replicas."""
    return SimOutput(
        ra=np.zeros(n), ta=np.zeros(n), degraded=np.zeros(n), down=np.zeros(n),
        outages=np.zeros(n, dtype=np.int64), longest=np.zeros(n), events=np.zeros(n, dtype=np.int64),
        loss=np.zeros((n, n_causes, N_STAGES)), stage_h=np.zeros((n, n_causes, N_STAGES)), svc_ra=np.zeros((n, n_services)),
        win=np.full((n, keep_windows), np.nan), breaches=np.zeros(n, dtype=np.int64), worst=np.ones(n),
        out_start=np.full((n, keep_outages), np.nan), out_dur=np.full((n, keep_outages), np.nan),
        out_cause=np.full((n, keep_outages), -1, dtype=np.int64),
        out_index=np.full((n, keep_outages), -1, dtype=np.int64),
        overload=np.zeros((n, n_services)),
        dl_n=np.zeros((n, n_services), dtype=np.int64), dl_hours=np.zeros((n, n_services)),
        dl_t=np.full((n, keep_outages), np.nan), dl_win=np.full((n, keep_outages), np.nan),
        dl_svc=np.full((n, keep_outages), -1, dtype=np.int64), dl_index=np.full((n, keep_outages), -1, dtype=np.int64),
        al_pages=np.zeros((n, n_alerts), dtype=np.int64), al_detected=np.zeros((n, n_alerts), dtype=np.int64),
        al_missed=np.zeros((n, n_alerts), dtype=np.int64), al_late=np.zeros((n, n_alerts), dtype=np.int64),
        al_ttd=np.zeros((n, n_alerts)), al_burn=np.zeros((n, n_alerts)), al_cov=np.zeros((n, n_alerts)),
        al_false=np.zeros((n, n_alerts), dtype=np.int64),
    )


def rows(out: SimOutput, lo: int, hi: int) -> SimOutput:
    """Rows ``lo:hi`` of every array (views, written in place)."""
    return SimOutput(*(a[lo:hi] for a in out))
