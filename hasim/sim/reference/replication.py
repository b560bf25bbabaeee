"""Replication of standby shards: each copy's freshness and the writes a promotion loses
(:mod:`hasim.model.replication`; the kernel's rule is :mod:`hasim.sim.kernel._replication`).

Written from the model's rule, not from the kernel: a shard remembers its *writer* (the instance
that took the writes last) and when it was lost; every instance how far its copy goes
(``cur``: ``inf`` while it follows).  Availability changes reach :meth:`_copies_changed` from the
one place the engine changes them (:meth:`InstanceProcesses._shard_changed`), promotions reach
:meth:`_promoted` from :meth:`FailoverProcesses._make_active`.
"""

from __future__ import annotations

import math

import numpy as np

from hasim.sim.kernel._rng import sample_key
from hasim.sim.kernel._output import LOSS_KEY_BASE

__all__ = ["ReplicationProcesses"]


class ReplicationProcesses:
    """Mixin of :class:`~hasim.sim.reference.engine.Replica`: the data-loss window of promotions."""

    def _init_replication(self) -> None:
        """Every copy current, the first instance the writer; snapshot phases uniform over the interval."""
        self.n_dl = 0
        # Its own stream (the kernel's rule too): declaring replication changes no other draw.
        self.rp_rng = np.random.default_rng(np.random.SeedSequence([int(x) for x in self.sample] + [0x5EEDDA7A]))
        for s in self.svc:
            rep = s.spec.replication
            for sh in s.shards:
                sh.copies = rep if s.spec.mode == "standby" else None  # a DR copy has no roles to follow
                sh.writer = sh.instances[0] if sh.instances else None
                sh.t_lost = 0.0
                sh.phase = self.rp_rng.random() * rep.interval if rep is not None and rep.mode == "snapshot" else 0.0

    def _copies_changed(self, sh, lost: list, gained: list) -> None:
        """Instances of a replicated shard lost or regained availability (roles not yet settled)."""
        now = self.env.now
        for inst in lost:
            if inst is sh.active:
                sh.t_lost = inst.cur = now  # the writes stop; should another take them, this copy ends here
            elif inst.cur == math.inf:
                inst.cur = now             # it stops following
        for inst in gained:
            if sh.active is not None and sh.active is not inst:
                inst.cur = math.inf        # it catches up from the active writer

    def _promoted(self, sh, new) -> None:
        """``new`` becomes active: the writes it lacks, if it is not the writer, are an incident."""
        if new is not sh.writer:
            rep = sh.copies
            if rep.mode == "snapshot":
                window = (sh.t_lost - sh.phase) % rep.interval
            else:
                window = sh.t_lost - min(new.cur, sh.t_lost)
                if rep.mode == "async":
                    window += rep.lag.sample(self.rp_rng)
            sh.writer = new
            if self.env.now >= self.start:
                self._record_loss(self.env.now, sh.service.index, float(window))
        for inst in sh.instances:         # the available copies follow the writer (again) from now
            if inst is new or inst.available:
                inst.cur = math.inf

    def _answer_moved(self, s, old: list, new: list) -> None:
        """Failover router ``s`` answers ``new`` instead of ``old``: writes moving to a
        disaster-recovery copy the old target did not reach lose everything since its last snapshot."""
        copies = self.m.dr_copies.get(s.name)
        if not copies or old is None:
            return
        was = next((c for c, x in zip(copies, old) if x > 0), None)
        now_c = next((c for c, x in zip(copies, new) if x > 0), None)
        if now_c is not None and now_c != was:
            copy = self.svc[self.m.index[now_c]]
            window = (self.env.now - copy.shards[0].phase) % copy.spec.replication.interval
            if self.env.now >= self.start:
                self._record_loss(self.env.now, copy.index, float(window))

    def _record_loss(self, t: float, v: int, window: float) -> None:
        o, r, n = self.out, self.r, self.n_dl
        o.dl_n[r, v] += 1
        o.dl_hours[r, v] += window
        keep = o.dl_t.shape[1]
        if n < keep:
            slot = n
        else:   # bottom-k, as the outages (keys from LOSS_KEY_BASE on)
            key = lambda j: int(sample_key(*self.sample, np.uint64(int(LOSS_KEY_BASE) + int(j))))  # noqa: E731
            slot = max(range(keep), key=lambda x: key(o.dl_index[r, x]), default=None)
            if slot is not None and key(o.dl_index[r, slot]) <= key(n):
                slot = None
        if slot is not None:
            o.dl_t[r, slot] = t
            o.dl_win[r, slot] = window
            o.dl_svc[r, slot] = v
            o.dl_index[r, slot] = n
        self.n_dl += 1
