"""Replication: the first-order data loss of a replicated standby service (no downtime term: a
promotion loses writes, not service; :mod:`hasim.model.replication`).

Two kinds of incident, per shard of ``n`` instances of availability ``a`` (``MTTF / (MTTF + MTTR)``,
a hot standby's; warm and cold standbys fail less while idle, so this overstates their incidents):

* the active instance fails (rate ``1 / MTTF``, up: ``a``) while another is available: a promotion
  of a copy that was following, which loses the mean window of the replication (0, the mean lag,
  half the snapshot interval), at ``lambda a (1 - (1 - a)^(n - 1))``; a zone that takes the active
  and leaves a standby adds its outage rate times the share of instances it holds;
* every instance is down and one that is not the writer comes back first (probability
  ``(n - 1) / n``, at the rate ``n / MTTR`` the first one comes back): its copy stops when it went
  away, about one repair time (the mean age of a repair in progress, exact for exponential
  repairs) before the writer was lost, so it loses that much more, at ``(1 - a)^n (n - 1) / MTTR``.

With instant failover and exponential laws both rates are exact (the instances are independent);
detection and promotion delays, during which a second failure changes who is promoted, are of
second order.

A disaster-recovery copy (``replication.of``) has no term here: its incidents are the DNS failovers
that move the writes to it, whose rate depends on the whole primary stack and on the router's
detection; the simulation counts them.
"""

from __future__ import annotations

from hasim.analytic.exact import _zone_hits
from hasim.model.oncall import repair_hours
from hasim.model.replication import mean_window
from hasim.model.scenario import Scenario

__all__ = ["data_loss_terms"]

_HOURS_PER_YEAR = 8760.0


def data_loss_terms(sc: Scenario) -> list[dict]:
    """The data-loss incidents and writes lost of every replicated standby service.

    Returns
    -------
    list of dict
        Per service: ``service``, ``mode``, ``incidents_per_year``, ``window_mean_hours``,
        ``writes_lost_hours_per_year``, and the two kinds (``following`` and ``stale``:
        ``{"incidents_per_year", "window_mean_hours"}``).
    """
    out = []
    for name, svc in sc.services.items():
        rep = svc.replication
        if rep is None or rep.of is not None or not svc.has_instances:
            continue
        mttf, mttr = svc.failure.mean_hours, repair_hours(sc, svc)
        a = mttf / (mttf + mttr)
        n, shards = svc.replicas, svc.shards
        following = shards * a * (1.0 - (1.0 - a) ** (n - 1)) / mttf
        following += sum(rate * share * shards for _, share, rate in _zone_hits(sc, svc) if share < 1.0)
        stale = shards * (1.0 - a) ** n * (n - 1) / mttr
        w_follow = mean_window(rep)
        w_stale = w_follow + (0.0 if rep.mode == "snapshot" else mttr)
        total = following + stale
        lost = following * w_follow + stale * w_stale
        out.append({"service": name, "mode": rep.mode, "incidents_per_year": total * _HOURS_PER_YEAR,
                    "window_mean_hours": lost / total if total > 0 else 0.0,
                    "writes_lost_hours_per_year": lost * _HOURS_PER_YEAR,
                    "following": {"incidents_per_year": following * _HOURS_PER_YEAR, "window_mean_hours": w_follow},
                    "stale": {"incidents_per_year": stale * _HOURS_PER_YEAR, "window_mean_hours": w_stale}})
    return out
