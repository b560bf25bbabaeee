"""Replication: how far behind its active instance a standby's copy of the data is, and what a
failover therefore loses (the data-loss window of each incident: its RPO).

A ``mode: standby`` service holds state: its active instance takes the writes.  ``replication``
says how its other instances keep a copy:

* ``sync``: every write is on a standby before it is acknowledged (PostgreSQL
  ``synchronous_commit = on`` with a synchronous standby, RDS Multi-AZ): a promotion loses nothing.
* ``async``: a standby applies the writes ``lag`` behind the active instance (streaming
  replication, MySQL async replicas, cross-region read replicas); a promotion loses the writes of
  the last ``lag`` (a duration, or a distribution drawn at each promotion).
* ``snapshot``: the copy is the latest snapshot, taken every ``interval`` (a daily backup shipped
  to another zone or region); a promotion restores it and loses everything written since.  The
  snapshots run at a phase drawn per history, so a failure time independent of the schedule finds
  a loss window uniform on ``[0, interval)``.  The time the restore takes is the failover's
  ``promotion``.

The window of one incident is measured from the last write the new active instance holds to the
moment the old one was lost (nothing is written while no instance is active).  A standby that
was itself unavailable when the writer was lost holds only what it had when it went away, so
the window grows by the time it was away; a standby that comes back while an instance is
active catches up at once (its repair time includes the rebuild).  When the lost writer itself
comes back first and takes the writes again, nothing is lost.  A quorum service commits to a
majority and so replicates synchronously by construction: ``replication`` applies to standby
services only.

A *disaster-recovery copy* is another service holding the data of the primary one: ``of: db`` on
the DR region's database, with ``mode: snapshot`` (the daily snapshots shipped to the secondary
region) on a service of any mode.  Its incidents are the DNS failovers that move the writes to it:
each time a ``route: failover`` router's answer moves from a target that does not reach the copy
to one that does, the writes since the copy's last snapshot are lost (the window is measured up
to the switch: the primary took none after it failed, so this overstates it by the detection
time, seconds against hours).  Failing back is taken to carry the DR writes home (a planned
switch-over): it is no incident.  The copy's restore time is part of its own failure and repair
laws, as for any service.

Replication changes no served fraction: it adds no stage to the attribution, only the
data-loss measures (:mod:`hasim.results.data_loss`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, model_validator

from hasim.model._types import HasimModel, PositiveDuration, _positive_duration, inconsistent
from hasim.model.distributions import Distribution
from hasim.model.mechanism import Mechanism
from hasim.text import duration

__all__ = ["Replication", "MECHANISM", "mean_window"]


def _lag(value: Any) -> Any:
    """``lag: 2s`` is the fixed law of 2 s; a mapping is any distribution."""
    if isinstance(value, dict) or hasattr(value, "dist"):
        return value
    return {"dist": "fixed", "value": _positive_duration(value)}  # its error names 'lag', not 'lag.fixed.value'



class Replication(HasimModel):
    """How a standby service's copies follow its active instance (see the module docstring).

    ``mode``: ``sync``, ``async`` (with ``lag``) or ``snapshot`` (with ``interval``); ``of``: the
    service whose data this one holds, for a disaster-recovery copy (``mode: snapshot``).
    """

    mode: Literal["sync", "async", "snapshot"]
    lag: Annotated[Distribution, BeforeValidator(_lag)] | None = None
    interval: PositiveDuration | None = None
    of: str | None = None

    @model_validator(mode="after")
    def _keys_of_the_mode(self):
        if self.mode == "async" and self.lag is None:
            inconsistent("lag", "mode: async needs 'lag' (how far behind a standby applies the writes, e.g. 200ms or "
                        "{d})", d="{dist: lognormal, median: 1s, sigma: 1}")
        if self.mode == "snapshot" and self.interval is None:
            inconsistent("interval", "mode: snapshot needs 'interval' (how often a snapshot is taken, e.g. 24h)")
        if self.lag is not None and self.mode != "async":
            inconsistent("lag", "'lag' applies to mode: async (this replication is mode: {m})", m=self.mode)
        if self.interval is not None and self.mode != "snapshot":
            inconsistent("interval", "'interval' applies to mode: snapshot (this replication is mode: {m})", m=self.mode)
        if self.of is not None and self.mode != "snapshot":
            inconsistent("of", "a disaster-recovery copy ('of') is restored from snapshots: give mode: snapshot with an "
                       "interval (this replication is mode: {m})", m=self.mode)
        return self


def mean_window(rep: Replication) -> float:
    """The mean loss window (hours) of a promotion whose standby was following: 0 for ``sync``,
    the mean lag for ``async``, half the interval for ``snapshot``."""
    if rep.mode == "sync":
        return 0.0
    if rep.mode == "async":
        return rep.lag.mean_hours
    return rep.interval / 2.0


def _describe(svc) -> list[str]:
    rep = svc.replication
    if rep is None:
        return []
    if rep.mode == "sync":
        return ["sync replication"]
    if rep.mode == "async":
        return [f"async replication, lag {duration(rep.lag.mean_hours)} mean"]
    if rep.of is not None:
        return [f"a copy of {rep.of} from snapshots every {duration(rep.interval)}"]
    return [f"snapshots every {duration(rep.interval)}"]


def _badge(svc) -> str | None:
    rep = svc.replication
    if rep is None:
        return None
    return {"sync": "sync", "async": "async", "snapshot": f"snapshot {duration(rep.interval or 0.0)}"}[rep.mode]


MECHANISM = Mechanism(
    name="replication", stage="",  # it keeps no loss of service going: no stage of its own
    summary="A standby's copy is synchronous, an asynchronous lag behind or the last snapshot: a promotion loses "
            "the writes in between (each incident's RPO).",
    declares=("replication",),
    # Data, not downtime: a longer lag or interval loses more writes and no availability, so it has no
    # knob for the sensitivity study of downtime (a sweep over replication.lag shows the writes lost).
    describe=_describe, column="failover", badge=_badge,
    used_by=lambda sc: [n for n, s in sc.services.items() if s.replication is not None],
    parts={"kernel": "hasim.sim.kernel._replication", "reference": "hasim.sim.reference.replication",
           "analytic": "hasim.analytic.mechanisms.replication", "tests": "tests/mechanisms/test_replication.py"},
)
