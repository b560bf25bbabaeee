"""Changes: a bad release fails ``errors`` of the requests it is exposed to, as the rollout strategy
exposes it, until it is noticed and rolled back (:mod:`hasim.model.deploys`).

First order: ``rate x bad`` bad releases an hour, one at a time, each holding the service's own
fraction at ``1 - errors x e`` for the expected hours it spends at each exposure ``e``
(:func:`hasim.model.deploys.exposure_pieces`, exact for any detection and rollback laws).  Left out:
a second failure during the exposure and the releases skipped while a bad one is out (both of
second order in the rates).  A change an alert rule watches is noticed at the earlier of the rule's
page and its own ``detect`` (:func:`hasim.analytic.mechanisms.alerts.notice_law`).
"""

from __future__ import annotations

from hasim.analytic.first_order import HOURS_PER_YEAR, DelayTerm, DelayTerms
from hasim.analytic.mechanisms.alerts import notice_law
from hasim.model.deploys import config_cause, exposure_pieces, releases_per_hour
from hasim.text import duration

__all__ = ["deploy_terms"]


def deploy_terms(terms: DelayTerms, name: str) -> None:
    """Add the terms of the bad releases of ``name``, and of each config push whose first service
    the entry reaches is ``name`` (once per push).

    Parameters
    ----------
    terms : DelayTerms
        The collector of the analysis; terms are appended to it.
    name : str
        The service.
    """
    sc = terms.sc
    if sc.services[name].deploys is not None:
        _terms(terms, name, sc.services[name].deploys, [name], name)
    reach = list(terms.solver.reach)
    for push_name, push in sc.config_pushes.items():
        reached = [s for s in push.services if s in reach]
        if reached and reached[0] == name:
            _terms(terms, name, push, reached, config_cause(push_name))


def _terms(terms: DelayTerms, name: str, dp, services: list[str], label: str) -> None:
    """The terms of one process of changes exposing ``services`` (``name`` the first of them)."""
    rate = releases_per_hour(dp) * dp.bad
    # One term per exposure, then merged into one row per stage: the pieces are disjoint stretches of
    # one incident, so their request-hours and hours not fully up add.
    start = len(terms.terms)
    oc = terms.sc.oncall
    detect = None if dp.alert is None else notice_law(terms, name, dp, services)
    pieces = exposure_pieces(dp, 0.0 if oc is None else oc.mean_response, detect)
    for stage, exposure, hours in pieces:
        value = 1.0 - dp.errors * exposure
        terms.add(name, stage, rate, hours, value, "", together={s: value for s in services if s != name})
    added = terms.terms[start:]
    del terms.terms[start:]
    how = f"{dp.bad:.0%} of {releases_per_hour(dp) * 168:.3g} releases a week, {dp.strategy.replace('_', ' ')}"
    reaches = "" if services == [name] else f" of {', '.join(services)}"
    for stage in ("detection", "alerting", "response", "rollback"):
        rows = [t for t in added if t.stage == stage]
        if not rows:
            continue
        hours = sum(h for s, _, h in pieces if s == stage)
        shares = sorted({round(dp.errors * e, 4) for s, e, h in pieces if s == stage and h > 0})
        fails = f"{shares[0]:.0%}" if len(shares) == 1 else f"{shares[0]:.0%} to {shares[-1]:.0%}"
        what = {"detection": "until it is noticed", "alerting": f"until alert {dp.alert} pages for it",
                "response": "while the on-call is paged",
                "rollback": "while it is rolled back"}[stage]
        terms.append(DelayTerm(
            service=label, stage=stage, events_per_year=rate * HOURS_PER_YEAR,
            hours_per_event=sum(t.hours_per_event for t in rows),
            request_unavailability=sum(t.request_unavailability for t in rows),
            time_unavailability=sum(t.time_unavailability for t in rows),
            description=f"a bad release ({how}) fails {fails} of the requests{reaches} {what}: "
                        f"{duration(hours)} on average"))
