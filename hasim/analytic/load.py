"""Load and capacity, solved exactly: utilisation by service and "does the design survive the loss
of this zone at its load?" (static stability).

With a constant load, a shard's utilisation is a function of how many of its instances are
available: ``u = needed / h`` (:func:`hasim.model.structure.utilisation`).  Given the zone states
the instances are independent, so ``h`` is binomial and conditioning on every zone configuration
gives the exact law of ``u`` over time, as :mod:`hasim.analytic.exact` does for the served
fraction.  Static stability needs no probabilities at all: take the zone (and every zone within
it) away with everything else healthy and evaluate the entry (the solver's deterministic
evaluation, so a router's failover to another site counts).
"""

from __future__ import annotations

import itertools
import math

from hasim.analytic.exact import _binomial, _default_params, _deterministic, _Structure
from hasim.model.scenario import Scenario
from hasim.model.structure import demand, needed, needed_daily, reach, zones_that_matter

__all__ = ["load_table", "zone_loss", "utilisation_law", "QUANTILES"]

#: The utilisation quantiles :func:`load_table` reports (of the time-weighted law).
QUANTILES = (0.5, 0.99, 0.999)


def _shard_law(sc: Scenario, st: _Structure, name: str, p_inst: float, p_zone: dict[str, float]) -> dict[int, float]:
    """Law of the available instances of one shard of ``name`` over time (exact)."""
    svc = sc.services[name]
    zones = sorted({c for z in svc.zones for c in sc.zone_chain(z)})
    law: dict[int, float] = {}
    for states in itertools.product((True, False), repeat=len(zones)):
        pz = math.prod(p_zone[z] if up else 1.0 - p_zone[z] for z, up in zip(zones, states))
        if pz == 0.0:
            continue
        zone_up = {z: True for z in sc.zones}
        zone_up.update(zip(zones, states))
        m = st.available(name, zone_up)
        for h, p in enumerate(_binomial(m, p_inst)):
            law[h] = law.get(h, 0.0) + pz * p
    return law


def _quantile(law: dict[int, float], k: float, q: float) -> float:
    """The ``q`` quantile of ``u = k / h`` under the law of ``h`` (inf where ``h = 0``)."""
    acc = 0.0
    for h in sorted(law, reverse=True):  # u ascending
        acc += law[h]
        if acc >= q - 1e-12:
            return k / h if h > 0 else math.inf
    return math.inf


def utilisation_law(sc: Scenario, name: str) -> list[tuple[float, float]]:
    """The law of one shard's utilisation over time, every hour of the day included (exact).

    Parameters
    ----------
    sc : Scenario
        The design.
    name : str
        A service with a ``capacity``.

    Returns
    -------
    list of (float, float)
        ``(utilisation, share of time)`` pairs, ascending, the shares summing to 1; ``inf`` is the
        time with no instance available.
    """
    params = _default_params(sc)
    law = _shard_law(sc, _Structure(sc, params), name, params.instance[name], params.zone)
    out: dict[float, float] = {}
    needs = needed_daily(sc, name)
    for k in needs:
        for h, p in law.items():
            u = k / h if h > 0 else math.inf
            out[u] = out.get(u, 0.0) + p / len(needs)
    return sorted(out.items())


def load_table(sc: Scenario) -> list[dict]:
    """Every service with a ``capacity`` the entry depends on, with its load and utilisation.

    Returns
    -------
    list of dict
        ``service``, ``load_rps`` (offered to the whole service), ``capacity_rps`` (one instance),
        ``replicas`` (per shard), ``needed`` (instances a shard needs: load / capacity),
        ``utilisation`` (all instances healthy), ``spare_instances`` (per shard, healthy minus
        needed: negative when the pool cannot carry its load even when healthy),
        ``overload_probability`` (share of time a shard serves less than its load: fewer than
        ``needed`` available) and ``utilisation_p50`` / ``_p99`` / ``_p999`` (of the time-weighted
        law; inf while no instance is available).  Exact for any failure and repair laws.
    """
    params = _default_params(sc)
    st = _Structure(sc, params)
    offered = demand(sc)
    used = reach(sc)
    rows = []
    for name in sc.topological_order():
        svc = sc.services[name]
        if svc.capacity is None or name not in used:
            continue
        k = needed(sc, name)
        law = _shard_law(sc, st, name, params.instance[name], params.zone)
        row = {"service": name, "load_rps": offered[name], "capacity_rps": svc.capacity, "replicas": svc.replicas,
               "needed": k, "utilisation": k / svc.replicas, "spare_instances": svc.replicas - k,
               "overload_probability": sum(p for h, p in law.items() if h < k)}
        for q in QUANTILES:
            row[f"utilisation_p{str(q)[2:].ljust(2, '0')}"] = _quantile(law, k, q)
        rows.append(row)
    return rows


def zone_loss(sc: Scenario) -> list[dict]:
    """For every zone that holds part of what the entry needs: the design with that zone down (and every
    zone within it) and everything else healthy.

    Returns
    -------
    list of dict
        ``zone``, ``served`` (the entry's served fraction), ``survives`` (it serves everything),
        ``short`` (the services that shed load or stop, ``"name (utilisation 150%)"``), and
        ``utilisation`` (by service with a capacity: offered load over what is left, inf if
        nothing is).  Exact: a deterministic evaluation, no probabilities.
    """
    st = _Structure(sc, _default_params(sc))
    used = reach(sc)
    rows = []
    for zone in [z for z in sc.zones if z in zones_that_matter(sc)]:
        zone_up = {z: z != zone for z in sc.zones}
        values: dict[str, float] = {}
        served = _deterministic(sc, st, sc.entry, zone_up, {}, record=values)
        util, short = {}, []
        for name in sc.topological_order():
            svc = sc.services[name]
            if name not in used or not svc.has_instances:
                continue
            h = st.available(name, zone_up)
            k = needed(sc, name)
            if svc.capacity is not None:
                util[name] = k / h if h > 0 else math.inf
            own_ok = h >= k
            if not own_ok:
                short.append(f"{name} (utilisation {util[name]:.0%})" if name in util and math.isfinite(util[name])
                             else f"{name} (no instance left)" if h == 0 else f"{name} ({h} of {k:g} needed)")
        rows.append({"zone": zone, "served": served, "survives": served >= 1.0 - 1e-12, "short": short,
                     "utilisation": util})
    return rows
