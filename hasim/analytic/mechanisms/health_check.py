"""Health check: a failed instance keeps its share of the requests until the load
balancer's probes remove it from rotation."""

from __future__ import annotations

import numpy as np

from hasim.analytic.first_order import DelayTerms
from hasim.model.structure import needed

__all__ = ["health_check_terms"]


def health_check_terms(terms: DelayTerms, name: str) -> None:
    """Add the detection term of an active pool behind a health check.

    Parameters
    ----------
    terms : DelayTerms
        The collector of the analysis; terms are appended to it.
    name : str
        The service; nothing is added unless it is an ``active`` pool with
        instances and a ``health_check`` (not a router), at least two replicas,
        no retries, and a failure costs capacity while the instance is routed.
    """
    svc = terms.sc.services[name]
    if not (svc.health_check is not None and not svc.is_router and svc.mode == "active" and svc.has_instances):
        return
    hc = svc.health_check
    detect = hc.interval * (hc.unhealthy_threshold - 0.5)
    # The share is lost until the instance is removed or repaired, whichever is first:
    # E[min(D, R)] with D = (U + unhealthy_threshold - 1) * interval, U uniform.
    phases = (np.arange(256) + 0.5) / 256
    routed = float(np.mean([svc.repair.expected_min((u + hc.unhealthy_threshold - 1) * hc.interval)
                            for u in phases]))
    n, k = svc.replicas, needed(terms.sc, name)
    before, during = min(1.0, (n - 1) / k), (n - 1) / max(n, k)
    if not svc.retry and n >= 2 and before > during:
        rate = svc.shards * n / svc.failure.mean_hours
        terms.add(name, "detection", rate, routed, 1.0 - (before - during) / svc.shards,
                  f"a failed instance keeps its 1/{n} share for E[min(D, repair)] = {routed * 3600:.0f}s "
                  f"(E[D] = {detect * 3600:.0f}s until {hc.unhealthy_threshold} failed probes)")
