"""Failover: standby promotion (with zone hits and failed promotions), quorum leader
election, and the wait for the services a failover requires (``failover.requires``)."""

from __future__ import annotations

import math

from hasim.model.scenario import Service
from hasim.model.structure import needed
from hasim.analytic.exact import _binomial, _frequency, _Solver, _zone_hits, _zone_loss_rate
from hasim.analytic.first_order import DelayTerms

__all__ = ["failover_terms"]


def failover_terms(terms: DelayTerms, name: str) -> None:
    """Add the failover delay terms of a standby or quorum service with a failover.

    Parameters
    ----------
    terms : DelayTerms
        The collector of the analysis; terms are appended to it.
    name : str
        The service; nothing is added unless it is a ``standby`` or ``quorum``
        pool with instances and a ``failover`` block.
    """
    svc = terms.sc.services[name]
    if not (svc.mode in ("standby", "quorum") and svc.failover is not None and svc.has_instances):
        return
    if svc.mode == "standby":
        rate = _standby(terms, name, svc)
    else:
        rate = _quorum(terms, name, svc)
    _requires_wait(terms, name, svc, rate)


def _standby(terms: DelayTerms, name: str, svc: Service) -> float:
    """Promotion terms of a standby group; returns the rate of promotions (per hour)."""
    sc, fo = terms.sc, svc.failover
    a = terms.params.instance[name]
    shard_down = 1.0 - 1.0 / svc.shards
    # The active fails (it is up: a) while a healthy standby exists.
    S, n = svc.shards, svc.replicas
    rate = S / svc.failure.mean_hours * a * (1.0 - (1.0 - a) ** (n - 1))
    delay = fo.detection + fo.promotion
    terms.add(name, "failover", rate, delay, shard_down,
              f"detection {fo.detection * 3600:.0f}s + promotion {fo.promotion * 3600:.0f}s per failure "
              f"of the active instance")
    # A zone outage takes the active of every shard that has it there, all at once;
    # if it also silences a service the promotion requires (a Sentinel quorum in
    # the same zone), the failover waits for the zone to come back.
    for z, share, zone_rate in _zone_hits(sc, svc):
        if share >= 1.0:
            continue  # no standby outside the zone: the exact model counts it
        blocked = [r for r in fo.requires if terms.first_order.serves(r, z) <= 0.0]
        tau = sc.zones[z].repair.mean_hours + fo.promotion if blocked else delay
        for k in range(1, S + 1):
            weight = math.comb(S, k) * share**k * (1.0 - share) ** (S - k)
            text = (f"zone {z} takes the active of {k} of {S} shard(s)" if S > 1 else
                    f"zone {z} takes the active instance")
            text += (f"; the promotion waits for {', '.join(blocked)} (down with the zone)"
                     if blocked else ": detection + promotion")
            terms.add(name, "failover", zone_rate * weight, tau, 1.0 - k / S, text, down_zone=z)
        if not blocked:
            rate += zone_rate * share * S
    if fo.success < 1.0:
        # Down from the failed promotion until manual intervention or the repair
        # of the failed instance (its residual repair time after the delay).
        pe = svc.repair.partial_expectation
        oc = sc.oncall
        laws = [] if oc is None else oc.laws
        if svc.repair_paged and oc is not None:
            # The failed instance's repair starts once its own page is answered: E[(A + R - c)+]
            # over the response A (independent of the failover's page).
            repair_pe = pe
            pe = lambda c: sum(w * _expect(law, lambda a: repair_pe(c - a), 64) for w, law in laws)  # noqa: E731
        if fo.manual is not None and oc is not None:
            # The on-call answers first (a law by the hour of the page, pages uniform over the day),
            # then the manual action: E[min(residual, x)] waiting, then the action unless repaired.
            answer = sum(w * _expect(law, lambda x: pe(delay) - pe(delay + x)) for w, law in laws)
            wait = sum(w * _expect(law, lambda x: pe(delay + x) - pe(delay + x + fo.manual)) for w, law in laws)
            terms.add(name, "response", rate * (1.0 - fo.success), answer, shard_down,
                      f"promotion fails with probability {1 - fo.success:.3g}: down until the on-call answers "
                      f"(or the repair)")
        else:
            wait = pe(delay)
            if fo.manual is not None:
                wait -= pe(delay + fo.manual)
        terms.add(name, "failover", rate * (1.0 - fo.success), wait, shard_down,
                  f"promotion fails with probability {1 - fo.success:.3g}: down until manual "
                  f"intervention or repair")
    return rate


def _expect(law, fn, n: int = 256) -> float:
    """E[fn(X)] for X of ``law``: exact for a fixed or an empirical law, else the midpoint rule over
    ``n`` quantiles."""
    if law.dist == "fixed":
        return fn(law.value)
    if law.dist == "empirical":
        return sum(fn(x) for x in law.samples) / len(law.samples)
    ppf = law.to_scipy().ppf
    return sum(fn(float(ppf((k + 0.5) / n))) for k in range(n)) / n


def _quorum(terms: DelayTerms, name: str, svc: Service) -> float:
    """Leader-election terms of a quorum; returns the rate of elections not held up by a zone."""
    sc, fo = terms.sc, svc.failover
    lam = 1.0 / svc.failure.mean_hours + _zone_loss_rate(sc, svc)
    a = terms.params.instance[name]
    shard_down = 1.0 - 1.0 / svc.shards
    n, need = svc.replicas, needed(sc, name)
    # The leader (up: a) is lost while the others still hold a majority.
    keep = a * sum(_binomial(n - 1, a)[need:])
    rate = svc.shards * lam * keep
    # A zone outage that takes the leader and silences a service the election
    # requires (a KRaft controller quorum in the same zone) makes it wait for the zone.
    for z, share, zone_rate in _zone_hits(sc, svc):
        blocked = [r for r in fo.requires if terms.first_order.serves(r, z) <= 0.0]
        if not blocked or n - round(share * n) < need:
            continue  # no wait, or no majority left (the exact model counts it)
        hit = svc.shards * zone_rate * share * keep
        rate -= hit
        terms.add(name, "failover", hit, sc.zones[z].repair.mean_hours + fo.promotion, shard_down,
                  f"zone {z} takes the leader; the election waits for {', '.join(blocked)} "
                  f"(down with the zone)", down_zone=z)
    terms.add(name, "failover", rate, fo.detection + fo.promotion, shard_down,
              "leader election (detection + promotion) per loss of the leader")
    return rate


def _requires_wait(terms: DelayTerms, name: str, svc: Service, rate: float) -> None:
    """The wait of ``rate`` failovers per hour for a required service that serves nothing."""
    sc, params, fo = terms.sc, terms.params, svc.failover
    shard_down = 1.0 - 1.0 / svc.shards
    # Either mode: a failover whose detection ends while a required service serves
    # nothing waits for it.  That service is down with probability U and, taking its
    # outages as exponential with the mean D = U / frequency, the wait beyond the
    # detection already counted is E[(residual - detection)+] = D exp(-detection / D).
    for r in fo.requires:
        down = _Solver(sc, params, r).measures()[2]
        freq = _frequency(sc, r, params, "down")
        if down <= 0 or freq <= 0:
            continue
        mean = down / freq
        wait = down * mean * math.exp(-fo.detection / mean)
        terms.add(name, "failover", rate, wait, shard_down,
                  f"the {'promotion' if svc.mode == 'standby' else 'election'} waits for {r} when it is "
                  f"down ({down:.3g} of the time, outages of {mean * 60:.3g} min on average)")
