"""Cache: a cached dependency's outage shows only once the cache entries expire, so
the first ``ttl`` of each outage is masked (a negative term)."""

from __future__ import annotations

import math

from hasim.units import HOURS_PER_YEAR
from hasim.analytic.exact import _frequency, _single_instance, _Solver
from hasim.analytic.first_order import DelayTerm, DelayTerms

__all__ = ["cache_terms"]


def cache_terms(terms: DelayTerms, name: str) -> None:
    """Add one stale-cache term per cached dependency of a service.

    Parameters
    ----------
    terms : DelayTerms
        The collector of the analysis; terms are appended to it.
    name : str
        The service; nothing is added for a dependency that never has an outage.
    """
    sc, params, fo1 = terms.sc, terms.params, terms.first_order
    svc = sc.services[name]
    for cache in svc.cached:
        dep = sc.services[cache.service]
        rate = _frequency(sc, cache.service, params, "not-full")
        if rate <= 0:
            continue
        dep_ra, _, _ = _Solver(sc, params, cache.service).measures()
        loss_per_outage = (1.0 - dep_ra) / rate
        if _single_instance(dep):
            masked = dep.repair.expected_min(cache.ttl)
        else:  # outages of a composite service taken as exponential with the right mean
            masked = loss_per_outage * (1.0 - math.exp(-cache.ttl / loss_per_outage))
        d_req, d_time, _ = fo1.impact(cache.service, 0.0, "s")
        terms.append(DelayTerm(
            service=name, stage="stale-cache", events_per_year=rate * HOURS_PER_YEAR,
            hours_per_event=-masked,
            request_unavailability=-rate * masked * d_req,
            time_unavailability=-rate * masked * d_time,
            description=f"a cache masks the first {cache.ttl * 60:.3g} min of each outage of {cache.service}"))
