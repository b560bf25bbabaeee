"""Routing: when a router's target fails, clients are lost until the router's health
check notices (detection) and then until their DNS answers expire (the TTL ramp and the
stale resolvers that ignore it)."""

from __future__ import annotations

import math

from hasim.units import HOURS_PER_YEAR
from hasim.analytic.exact import _frequency
from hasim.analytic.first_order import DelayTerm, DelayTerms

__all__ = ["routing_terms"]


def routing_terms(terms: DelayTerms, name: str) -> None:
    """Add the detection and DNS terms of a router with more than one target.

    Parameters
    ----------
    terms : DelayTerms
        The collector of the analysis; terms are appended to it.
    name : str
        The service; nothing is added unless it is a router with several
        targets.  A ``failover`` router watches its first target, a
        ``weighted`` one every target (each losing its weight's share).
    """
    sc, params, fo1 = terms.sc, terms.params, terms.first_order
    svc = sc.services[name]
    if not (svc.is_router and len(svc.targets) > 1):
        return
    weights = svc.weights or [1.0] * len(svc.targets)
    watched = svc.targets[:1] if svc.route == "failover" else svc.targets
    for t in watched:
        share = 1.0 if svc.route == "failover" else weights[svc.targets.index(t)] / sum(weights)
        rate = _frequency(sc, t, params, "down")
        d_req, d_time, _ = fo1.impact(name, 1.0 - share, "s")
        detect_req, detect_time = fo1.router_loss(name, math.inf, dns=False)
        full_req, full_time = fo1.router_loss(name, math.inf)
        hc = svc.health_check
        stages = [("detection", detect_req, detect_time,
                   f"{t} down: the router notices after E[D] = "
                   f"{hc.interval * (hc.unhealthy_threshold - 0.5) * 3600:.0f}s" if hc else "")]
        if svc.dns is not None:
            stages.append(("dns", full_req - detect_req, full_time - detect_time,
                           f"{t} down: clients keep the old answer, TTL {svc.dns.ttl * 3600:.0f}s "
                           f"(TTL/2 lost)" + (f", {svc.dns.stale_fraction:.0%} for "
                                              f"{svc.dns.stale_for * 60:.0f} min" if
                                              svc.dns.stale_fraction else "")))
        for stage, req_h, time_h, text in stages:
            if req_h <= 0:
                continue
            terms.append(DelayTerm(
                service=name, stage=stage, events_per_year=rate * HOURS_PER_YEAR,
                hours_per_event=req_h * share, request_unavailability=rate * req_h * d_req,
                time_unavailability=rate * time_h * d_time, description=text))
