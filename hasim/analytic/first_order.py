"""First-order delay terms: what the exact model leaves out, one short event at a time.

What is first order (``exact: false``)
--------------------------------------
The delay terms of ``product.md`` ("Ground truth"), each a rate of events
times the loss per event, mapped to the entry service through the exact
model: failover detection + promotion per active failure, promotion failure
(``(1 - success) * E[min(manual, residual repair)]``), leader elections,
load-balancer detection (E[D] = interval/2 + (unhealthy_threshold - 1) * interval
of a failed instance still receiving its share), router detection plus the
DNS TTL (``TTL/2`` of request loss per switch) and stale resolvers, and cached
dependencies (an outage shows only after the cache TTL).  Their neglected
second-order error is the product of two small unavailabilities (e.g. a second
failure during a failover) and is stated in the docs.

This module holds what every term needs (:class:`DelayTerm`, the impact of an
event on the entry, the loss seen through a router's switch, and
:class:`DelayTerms`, which collects them); each mechanism's term is in its own
module of :mod:`hasim.analytic.mechanisms`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hasim.units import HOURS_PER_YEAR
from hasim.model.scenario import Scenario
from hasim.analytic.exact import _deterministic, _Params, _Solver, _Structure

__all__ = ["DelayTerm", "DelayTerms"]


@dataclass
class DelayTerm:
    """One first-order delay contribution, already mapped to the entry service."""

    service: str
    stage: str                 # detection | failover | dns | stale-cache
    events_per_year: float
    hours_per_event: float     # request-weighted loss at the service per event
    request_unavailability: float
    time_unavailability: float
    description: str


class _FirstOrder:
    """Impacts of one short event at a service on the entry, with everything else up.

    First order means exactly this: while the event lasts, every other
    component is assumed up (the neglected error is the probability of a
    second concurrent failure).  Routers are *sticky* during the event: they
    keep sending clients to the target they were using until their health
    check notices it is down and the DNS answers expire, which
    :meth:`router_loss` models.
    """

    _QUAD = 256  # midpoints over the uniform probe phase

    def __init__(self, sc: Scenario, st: _Structure, root: str):
        self.sc, self.st, self.root = sc, st, root
        self._bases: dict[str | None, tuple[float, dict[str, float]]] = {}

    def zone_up(self, down_zone: str | None = None) -> dict[str, bool]:
        """Every zone up, except ``down_zone`` (and so everything within it)."""
        return {z: z != down_zone for z in self.sc.zones}

    def baseline(self, down_zone: str | None = None) -> tuple[float, dict[str, float]]:
        """s_entry and every service's value with everything up but ``down_zone``."""
        if down_zone not in self._bases:
            values: dict[str, float] = {}
            base = _deterministic(self.sc, self.st, self.root, self.zone_up(down_zone), {}, record=values)
            self._bases[down_zone] = (base, values)
        return self._bases[down_zone]

    def serves(self, name: str, down_zone: str | None = None) -> float:
        """The value of service ``name`` with everything up but ``down_zone``."""
        values: dict[str, float] = {}
        _deterministic(self.sc, self.st, name, self.zone_up(down_zone), {}, record=values)
        return values[name]

    def impact(self, name: str, value: float, on: str = "own", down_zone: str | None = None,
               together: dict[str, float] | None = None):
        """(drop in s_entry, drop in 1[s_entry = 1], router that would switch or None).

        ``down_zone``: the event happens while that zone is down (a common cause), so
        the baseline already has the zone's instances out.  ``together``: other services held at
        these values at the same time (a change pushed to several services at once).
        """
        base, base_values = self.baseline(down_zone)
        forced = {"own": {}, "s": {}}
        forced[on].update(together or {})
        forced[on][name] = value
        values: dict[str, float] = {}
        hit = _deterministic(self.sc, self.st, self.root, self.zone_up(down_zone), {},
                             forced_own=forced["own"], forced_s=forced["s"], sticky=base_values, record=values)
        switching = None
        for r in self.sc.topological_order():
            svc = self.sc.services[r]
            if svc.is_router and len(svc.targets) > 1 and r != name and r in values:
                down = [t for t in svc.targets if base_values.get(t, 0) > 0 and values.get(t, 1) == 0]
                alive = [t for t in svc.targets if values.get(t, 0) > 0]
                if down and alive:
                    switching = r
                    break
        return base - hit, float(base == 1.0) - float(hit == 1.0), switching

    def router_loss(self, router: str, tau: float, dns: bool = True) -> tuple[float, float]:
        """(request-equivalent hours, degraded hours) lost through ``router`` for a target outage of ``tau``.

        The router notices after D = (U + unhealthy_threshold - 1) * interval
        (U uniform: the probe phase), then the share of clients on the old
        answer falls linearly over the TTL, and ``stale_fraction`` of them stay
        for ``stale_for``.
        """
        svc = self.sc.services[router]
        hc, dns = svc.health_check, (svc.dns if dns else None)
        ttl = dns.ttl if dns else 0.0
        f = dns.stale_fraction if dns else 0.0
        stale_for = dns.stale_for if dns and f > 0 else 0.0
        span = max(ttl, stale_for)
        phases = (np.arange(self._QUAD) + 0.5) / self._QUAD
        detect = np.zeros(1) if hc is None else (phases + hc.unhealthy_threshold - 1) * hc.interval
        after = np.maximum(tau - detect, 0.0)
        held = np.minimum(after, ttl)
        ramp = held - held**2 / (2 * ttl) if ttl > 0 else np.zeros_like(after)
        req = np.minimum(tau, detect) + (1 - f) * ramp + f * np.minimum(after, stale_for)
        time = np.minimum(tau, detect + span)
        return float(req.mean()), float(time.mean())



class DelayTerms:
    """The delay terms of one analysis, in the order the mechanisms produce them.

    One collector per analysis: the mechanism term functions of
    :mod:`hasim.analytic.mechanisms` read the scenario, the primitive
    availabilities and the exact solver of the entry from it, and append their
    terms with :meth:`add` (an event holding a service at a value) or
    :meth:`append` (a term they computed themselves).

    Parameters
    ----------
    sc : Scenario
        The design.
    params : _Params
        The primitive availabilities of the exact model.
    solver : _Solver
        The exact solver of the entry service.
    """

    def __init__(self, sc: Scenario, params: _Params, solver: _Solver):
        self.sc, self.params, self.solver = sc, params, solver
        # One for the whole analysis: it caches the baselines (everything up, or one zone down).
        self.first_order = _FirstOrder(sc, solver.st, solver.root)
        self.terms: list[DelayTerm] = []

    def add(self, name: str, stage: str, rate: float, tau: float, value: float, description: str,
            on: str = "own", down_zone: str | None = None, together: dict[str, float] | None = None) -> None:
        """``rate`` events per hour, each holding ``name`` at ``value`` for ``tau`` hours.

        Parameters
        ----------
        name : str
            The service the event happens at.
        stage : str
            The :attr:`DelayTerm.stage` of the term.
        rate : float
            Events per hour (nothing is added unless positive).
        tau : float
            Hours each event lasts (nothing is added unless positive).
        value : float
            The service's own (``on="own"``) or total (``on="s"``) served fraction meanwhile.
        description : str
            What the term is, for people; a router's switch it is seen through is appended.
        on : str
            ``"own"`` or ``"s"``, as in :meth:`_FirstOrder.impact`.
        down_zone : str or None
            The event happens while that zone is down (a common cause).
        together : dict or None
            Other services held at these values meanwhile (as in :meth:`_FirstOrder.impact`).
        """
        if rate <= 0 or tau <= 0:
            return
        fo1 = self.first_order
        d_req, d_time, router = fo1.impact(name, value, on, down_zone, together)
        req_h, time_h = fo1.router_loss(router, tau) if router else (tau, tau)
        self.terms.append(DelayTerm(
            service=name, stage=stage, events_per_year=rate * HOURS_PER_YEAR,
            hours_per_event=req_h * d_req, request_unavailability=rate * req_h * d_req,
            time_unavailability=rate * time_h * d_time,
            description=description + (f" (seen through {router}'s switch)" if router else "")))

    def append(self, term: DelayTerm) -> None:
        """Add a term a mechanism computed itself (its loss is not one held value for a time)."""
        self.terms.append(term)
