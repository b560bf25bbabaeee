"""Alerting: when an alert rule pages for a bad release it watches (``deploys: {alert: <rule>}``,
:mod:`hasim.model.alerts`), and so how long the release stays out before it is noticed.

First order, one incident at a time: the rule is not firing when the release goes out and its
windows hold no loss.  The entry's error ratio is ``x(t)``, the entry's first-order loss with the
service's own fraction held at ``1 - errors x e(t)``, ``e`` the exposure the rollout would reach if
never noticed (:func:`hasim.model.deploys.never_noticed`: nothing stops it before the page).  The
rule evaluates at ``u + k every`` from a phase ``u`` uniform on (0, every]; at the first evaluation
whose windows' ratio is above the threshold its condition holds, and it keeps holding (the ratio over a
window of a non-decreasing ``x`` does not fall), so it pages ``for`` later.  The page time ``T(u)``
is taken at :data:`PHASES` midpoints of the phase; the release is noticed at ``min(D, T)``, ``D``
its own ``detect`` (independent of the phase), whose law :class:`NoticeLaw` gives to
:func:`hasim.model.deploys.exposure_pieces`.
"""

from __future__ import annotations

import math

import numpy as np

from hasim.model.alerts import threshold, windows
from hasim.model.deploys import never_noticed

__all__ = ["NoticeLaw", "page_times", "notice_law", "PHASES"]

#: Midpoints of the rule's phase the page time is taken at (the law of a step is exact at any
#: number: its page time is a fixed offset plus the uniform wait for the next evaluation).
PHASES = 256


class NoticeLaw:
    """The law of ``min(D, T)``: ``D`` a law (``detect``), ``T`` equally likely ``atoms`` (hours,
    ``inf`` for a phase at which the rule never pages), independent of ``D``."""

    def __init__(self, detect, atoms: np.ndarray):
        self.detect, self.atoms = detect, np.asarray(atoms, dtype=np.float64)

    def sf(self, t: float) -> float:
        return self.detect.sf(t) * float(np.mean(self.atoms > t))

    def expected_min(self, c: float) -> float:
        # E[min(D, T, c)] = mean over the atoms of E[min(D, min(T, c))].
        return float(np.mean([self._capped(min(a, c)) for a in self.atoms]))

    @property
    def mean_hours(self) -> float:
        return self.expected_min(math.inf)

    def _capped(self, c: float) -> float:
        return self.detect.mean_hours if math.isinf(c) else self.detect.expected_min(c)


def page_times(rule, limit: float, path: list[tuple[float, float]], phases: np.ndarray) -> np.ndarray:
    """When ``rule`` (threshold ``limit`` on the error ratio) pages, hours after a step path began.

    Parameters
    ----------
    rule : AlertRule
        The rule.
    limit : float
        Its threshold on the error ratio (:func:`hasim.model.alerts.threshold`).
    path : list of (float, float)
        ``(offset, ratio)``: the entry's error ratio from each offset on (0 before the first, which
        is 0), non-decreasing.
    phases : ndarray
        Offsets in (0, every] of the rule's first evaluation after the path began.

    Returns
    -------
    ndarray
        The page time at each phase (``inf``: never).
    """
    every = rule.every
    n1, n2 = windows(rule)
    starts = np.array([o for o, _ in path])
    ratios = np.array([x for _, x in path])
    ends = np.append(starts[1:], np.inf)
    horizon = starts[-1] + max(n1, n2) * every + 2 * every  # past it the ratio stands still
    k = np.arange(int(math.ceil(horizon / every)) + 1)
    t = phases[:, None] + k[None, :] * every

    def loss_to(s):
        return (ratios * np.clip(s[..., None] - starts, 0.0, ends - starts)).sum(axis=-1)

    def over(n):
        if n == 0:
            idx = np.searchsorted(starts, t, side="right") - 1
            return np.where(idx >= 0, ratios[np.maximum(idx, 0)], 0.0)
        return (loss_to(t) - loss_to(t - n * every)) / (n * every)

    holds = over(n1) > limit
    if rule.burn_rate is not None:
        holds &= over(n2) > limit
    first = np.where(holds.any(axis=1), holds.argmax(axis=1), -1)
    return np.where(first >= 0, t[np.arange(len(phases)), np.maximum(first, 0)] + rule.for_, np.inf)


def notice_law(terms, name: str, dp, services: list[str]) -> NoticeLaw:
    """The law of the time a bad release of ``dp`` (exposing ``services``, ``name`` the first) is
    noticed: the earlier of its rule's page and its own ``detect``.

    Parameters
    ----------
    terms : DelayTerms
        The collector of the analysis (its first-order solver gives the entry's error ratio).
    name : str
        The service the release's term is at.
    dp : Deploys or ConfigPush
        The changes, with ``alert`` set.
    services : list of str
        Every service the change exposes (held together).
    """
    sc = terms.sc
    rule = sc.alerts[dp.alert]

    def ratio(e: float) -> float:
        value = 1.0 - dp.errors * e
        drop, _, _ = terms.first_order.impact(name, value, "own", None, {s: value for s in services if s != name})
        return max(0.0, drop)

    path = [(offset, ratio(e)) for offset, e in never_noticed(dp)]
    phases = (np.arange(PHASES) + 0.5) / PHASES * rule.every
    return NoticeLaw(dp.detect, page_times(rule, threshold(rule, sc.slo), path, phases))
