"""One simulated outage, traced: the entry's served fraction s(t) and what happened when.

The report and :func:`hasim.plot.outage_timeline` draw a *representative*
outage: one of the cause that costs the most downtime, whose duration is close
to the (weighted) median of that cause's recorded outages.  The numba engine
records only start, duration and cause of each outage; to show how the served
fraction evolved through one, :func:`find_outage` simulates replicas of the
scenario with the SimPy reference engine (:mod:`hasim.sim.reference`), watching
every outage as it happens, until one of that cause lands close enough to the
target duration.  The search is deterministic (replica ``i`` is the history
:func:`hasim.sim.reference.engine.simulate_reference` computes for index ``i`` with the
scenario's seed) and bounded (``max_replicas``, ``max_seconds``); without an
exact match it returns the closest outage of that cause it saw.

The trace is exact, not a guess: served fractions are constant between events
except during DNS ramps, where they are polynomials in time (linear for one
router), and the tracer samples every piece where the entry varies (its end
points when linear, finely otherwise).  ``lost_hours`` is the engine's own
integral of ``1 - s`` over the outage.

The tracing replica is a subclass of the reference engine's replica that only
*observes* (it overrides the integration step, the outage recorder and the
event log to copy values out, always calling the engine's own code first), so
it simulates exactly the same histories.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from hasim.sim.reference import engine as _ref
from hasim.sim.kernel._output import new_output
from hasim.model.scenario import Scenario

__all__ = ["OutageTrace", "find_outage", "milestones"]

#: Points sampled on a piece where the entry's served fraction is a polynomial of degree > 1.
_FINE = 33
#: A match is accepted when its duration is within this fraction of the target (or within ``_ABS_TOL_H``).
_REL_TOL = 0.02
_ABS_TOL_H = 1.0 / 3600.0
#: After a match, the replica runs on until the root cause recovers, at most this long.
_AFTER_H = 24.0


@dataclass
class OutageTrace:
    """One outage of the entry as the SimPy reference engine simulated it.

    Attributes
    ----------
    cause : str
        Root cause label (as in ``Results.attribution``).
    replica, seed : int
        The history: :func:`hasim.sim.reference.engine.trace` ``(scenario, replica, seed)`` replays it.
    start_h, duration_h : float
        Start in the replica (hours from its beginning) and duration.
    times_h, served : ndarray
        The entry's served fraction, piecewise linear through these points, times in hours since
        the outage started; a jump is two points at the same time.  From 0 to ``duration_h``.
    lost_hours : float
        Integral of ``1 - s`` over the outage (request-hours of full service lost), by the engine.
    events : DataFrame
        The engine's event log from the outage start until the root cause recovered (or
        :data:`_AFTER_H` after the outage): ``time_h`` (since the outage started), ``component``,
        ``event``, ``served`` (right after the event).
    target_h : float
        The duration looked for; ``tried``: replicas simulated; ``exact_match``: within tolerance.
    """

    cause: str
    replica: int
    seed: int
    start_h: float
    duration_h: float
    times_h: np.ndarray
    served: np.ndarray
    lost_hours: float
    events: object
    target_h: float
    tried: int
    exact_match: bool
    dns: dict = field(default_factory=dict)

    def integral_lost_hours(self) -> float:
        """Integral of ``1 - s`` of the piecewise-linear ``(times_h, served)`` (trapezoids: exact when
        every piece is linear, which the tracer makes sure of up to its sampling)."""
        t, s = self.times_h, self.served
        return float(np.sum(np.diff(t) * (1.0 - 0.5 * (s[1:] + s[:-1]))))


class _Found(Exception):
    """Raised inside the simulation to stop it once the trace is complete."""


class _TracingReplica(_ref.Replica):
    """A reference replica that copies out the entry's s(t) and the event log of its outages."""

    def __init__(self, *args, cause: int, target_h: float, tol_h: float, best: dict, **kwargs):
        super().__init__(*args, log=[], **kwargs)
        self._want, self._target, self._tol, self._best = cause, target_h, tol_h, best
        self._points: list[tuple[float, float]] = []
        self._lost0 = 0.0
        self._was_in = False
        self._done = None            # the accepted candidate while the replica runs on to the repair
        self._until = math.inf
        self._recovers = None        # (component, events) whose log row ends the run after a match

    # --- observing hooks (the engine's code runs first, unchanged) -----------------------------------
    def _piece(self, a: float, b: float, stage: int) -> None:
        super()._piece(a, b, stage)
        if not self.in_outage or self._done is not None or b <= a:
            return
        entry = self.svc[self.m.entry]
        if not entry.varying:
            self._points += [(a, entry.val), (b, entry.val)]
            return
        n = 2 if entry.degree <= 1 else _FINE
        # The value is a polynomial on the open interval (a, b); the DNS weights are right-continuous,
        # so the end points are evaluated a hair inside (an error of 1e-9 of the piece's change).
        eps = 1e-9 * (b - a)
        for t in np.linspace(a, b, n):
            point = list(self.vals)
            at = float(min(max(t, a + eps), b - eps))
            for v in self.varying:            # topological order, as the engine's own integration
                point[v] = self._compute(self.svc[v], point, at)
            self._points.append((float(t), point[self.m.entry]))

    def _record(self) -> None:
        super()._record()
        if self.in_outage and not self._was_in and self._done is None:
            # An outage opened at this instant: keep only its rows of the log (the event that caused it
            # was logged just before this settle, at the same time).
            self._points = []
            self._lost0 = self.lost
            rows = self.log_rows
            i = len(rows)
            while i > 0 and rows[i - 1][0] >= self.o_start:
                i -= 1
            del rows[:i]
        self._was_in = self.in_outage

    def _close_outage(self, t: float) -> None:
        cause, start, lost0 = self.o_cause, self.o_start, self._lost0
        super()._close_outage(t)
        d = t - start
        if self._done is not None or cause != self._want or d <= 0.0:
            return
        err = abs(d - self._target)
        best = self._best
        if "err" in best and err >= best["err"]:
            return
        rows = [list(r) for r in self.log_rows if r[0] >= start]
        points = list(self._points)
        candidate = {"err": err, "replica": self.r_index, "start_h": start, "duration_h": d,
                     "points": points, "lost_hours": self.lost - lost0, "rows": rows}
        best.clear()
        best.update(candidate)
        if err <= self._tol:
            self._done = candidate
            self._until = t + _AFTER_H
            first = next((r for r in rows if r[2] in ("down", "failed")), None)
            self._recovers = (first[1], {"down": "up", "failed": "repaired"}[first[2]]) if first else None
            if self._recovers is None:
                raise _Found

    def _log(self, component: str, event: str) -> None:
        super()._log(component, event)
        if self._done is not None:
            if self.env.now > self._until or (self._recovers is not None and
                                              (component, event) == self._recovers):
                raise _Found

    def _on_primary(self, ev) -> None:
        if self._done is not None and not ev.cancelled and self.env.now > self._until:
            raise _Found
        super()._on_primary(ev)


def _points_to_arrays(points: list[tuple[float, float]], start: float, duration: float):
    """Sorted, deduplicated piecewise-linear points relative to ``start`` (jumps kept as two points)."""
    out: list[tuple[float, float]] = []
    for t, s in points:
        t = t - start
        if out and out[-1] == (t, s):
            continue
        out.append((t, s))
    if not out or out[0][0] > 0.0:
        out.insert(0, (0.0, out[0][1] if out else 0.0))
    if out[-1][0] < duration:
        out.append((duration, out[-1][1]))
    t = np.array([p[0] for p in out], dtype=float)
    s = np.clip(np.array([p[1] for p in out], dtype=float), 0.0, 1.0)
    return t, s


def find_outage(scenario: Scenario, cause: str, duration_h: float, *, seed: int | None = None,
                max_replicas: int = 2000, max_seconds: float = 30.0,
                tolerance: float = _REL_TOL) -> OutageTrace | None:
    """Simulate replicas of ``scenario`` (SimPy reference engine) until an outage of root cause
    ``cause`` lasts ``duration_h`` to within ``tolerance`` (relative; at least one second), and
    return its trace.

    Parameters
    ----------
    scenario : Scenario
        The design.
    cause : str
        A root-cause label of ``Results.attribution`` ("db", "zone eu-west-1a", ...).
    duration_h : float
        The duration looked for (e.g. the median of that cause's recorded outages).
    seed : int, optional
        Default: the scenario's seed.  Replica ``i`` uses the reference engine's stream ``i``.
    max_replicas, max_seconds : int, float
        Bounds on the effort: the search stops at whichever comes first, with the closest outage of
        ``cause`` seen so far (``exact_match`` false), or None if there was none.
    """
    _, seed, horizon, window, windows, threshold = _ref.run_settings(scenario, 1, seed, None)
    model = _ref.Model(scenario)
    if cause not in model.causes:
        raise ValueError(f"unknown cause {cause!r}; causes are {', '.join(model.causes)}")
    want = model.causes.index(cause)
    tol = max(tolerance * duration_h, _ABS_TOL_H)
    best: dict = {}
    started = time.perf_counter()
    tried = 0
    found = False
    for r in range(max_replicas):
        out = new_output(1, len(model.causes), len(model.order), 0, 0, len(model.sc.alerts))
        rep = _TracingReplica(model, _ref.replica_rng(seed, r), horizon, window, windows, threshold, out, 0,
                              cause=want, target_h=duration_h, tol_h=tol, best=best)
        rep.r_index = r
        tried += 1
        try:
            rep.run()
        except _Found:
            found = True
        if found or rep._done is not None:
            found = True
            # The log ran on after the outage, until its root cause recovered.
            best["rows"] = [list(row) for row in rep.log_rows if row[0] >= best["start_h"]]
            break
        if time.perf_counter() - started > max_seconds:
            break
    if not best:
        return None
    return _make_trace(scenario, cause, seed, duration_h, tried, found, best)


def _make_trace(scenario, cause, seed, target, tried, found, best) -> OutageTrace:
    import pandas as pd

    start, d = best["start_h"], best["duration_h"]
    t, s = _points_to_arrays(best["points"], start, d)
    frame = pd.DataFrame(best["rows"], columns=["time_h", "component", "event", "served"])
    frame["time_h"] = frame["time_h"] - start
    frame["served"] = frame["served"].ffill()
    dns = {}
    for name, svc in scenario.services.items():
        if svc.is_router and svc.dns is not None:
            dns[name] = {"ttl": svc.dns.ttl, "stale_fraction": svc.dns.stale_fraction,
                         "stale_for": svc.dns.stale_for}
    return OutageTrace(cause=cause, replica=int(best["replica"]), seed=int(seed), start_h=float(start),
                       duration_h=float(d), times_h=t, served=s, lost_hours=float(best["lost_hours"]),
                       events=frame, target_h=float(target), tried=tried, exact_match=found, dns=dns)


# --- milestones in words ---------------------------------------------------------------------------------


def _service_of(component: str) -> str:
    """'sessions/shard2' -> 'sessions'; 'api[0]' -> 'api'; 'zone a' stays."""
    if component.startswith("zone "):
        return component
    return component.split("/")[0].split("[")[0]


def milestones(tr: OutageTrace, scenario: Scenario | None = None, *, limit: int = 12) -> list[tuple[float, str]]:
    """What happened during the outage, in words: ``[(hours since start, text), ...]`` in time order.

    Kept: the root-cause event, failovers and elections of the services that lost their active
    instance, router health-check verdicts and DNS answers, the moments the DNS TTL and the stale
    resolvers run out, any other event that changed the served fraction, and the end.  Events at
    the same instant are merged into one line.
    """
    ev = tr.events
    d = tr.duration_h
    items: list[tuple[float, int, str]] = []        # (time, priority, text); priority orders same-time lines
    prev = None
    # Shard states per service at one instant are merged ("sessions (3 shards): ...").
    for row in ev.itertuples(index=False):
        t, comp, what, served = float(row.time_h), str(row.component), str(row.event), float(row.served)
        if t > d + 1e-12:
            break
        changed = prev is not None and served != prev
        prev = served
        svc = _service_of(comp)
        text = None
        pri = 5
        if comp.startswith("zone "):
            text, pri = (f"{comp} goes down" if what == "down" else f"{comp} is back"), 0
        elif what in ("failed", "repaired"):
            if t == 0.0 or changed:
                text, pri = f"{comp} {'fails' if what == 'failed' else 'is repaired'}", 0
        elif what.startswith("sees "):
            target, state = what[5:].rsplit(" ", 1)
            text, pri = f"{comp}: health check finds {target} {state}", 1
        elif what.startswith("answers "):
            ttl = tr.dns.get(comp, {}).get("ttl", 0.0)
            tail = f" (clients follow as their {_short(ttl)} TTL expires)" if ttl > 0 else ""
            text, pri = f"{comp}: DNS answers {what[8:]}{tail}", 2
        elif what == "wait-requires":
            text = f"{svc}: failure detected"
            nxt = ev[(ev.time_h == row.time_h) & (ev.component == comp) & (ev.event == "promote")]
            if not len(nxt):
                fo = scenario.services[svc].failover if scenario is not None and svc in scenario.services else None
                needs = ", ".join(fo.requires) if fo is not None and fo.requires else "its requirements"
                text += f"; promotion waits for {needs}"
        elif what == "promote":
            prior = ev[(ev.time_h == row.time_h) & (ev.component == comp) & (ev.event == "wait-requires")]
            text = f"{svc}: promoting the standby" if not len(prior) else None
        elif what.endswith(" active"):
            fo_svc = scenario.services.get(svc) if scenario is not None else None
            verb = "leader elected" if fo_svc is not None and fo_svc.mode == "quorum" else "standby promoted"
            text = f"{svc}: {verb}"
        elif what == "promotion-failed":
            text = f"{svc}: promotion failed, waiting for a human or a repair"
        elif what == "no-standby":
            text = f"{svc}: no standby left, waiting for a repair"
        elif what == "no-leader":
            text = f"{svc}: no majority, no leader"
        elif what == "elect":
            text = f"{svc}: election starts"
        elif what in ("serving-stale", "expired", "fresh"):
            text = {"serving-stale": f"{comp}: serves stale", "expired": f"{comp}: cache TTL over, outage shows",
                    "fresh": f"{comp}: fresh again"}[what]
        elif changed and what in ("removed from rotation", "re-added"):
            text = f"{comp} {what} by the health check"
        if text is not None:
            if changed and pri > 0:
                text += f" → {_pct(served)} served"
            items.append((t, pri, text))
    # The DNS ramps: the last answer's TTL and stale resolvers running out, inside the outage.
    for router, dns in tr.dns.items():
        answers = ev[(ev.component == router) & ev.event.str.startswith("answers ")]
        for row in answers.itertuples(index=False):
            t0 = float(row.time_h)
            later = answers[answers.time_h > t0]
            stop = float(later.time_h.iloc[0]) if len(later) else math.inf
            f = dns["stale_fraction"]
            if dns["ttl"] > 0 and t0 + dns["ttl"] < min(stop, d):
                share = f"{100 * (1 - f):g} % of clients" if f else "all clients"
                items.append((t0 + dns["ttl"], 3, f"{router}: TTL over, {share} on {row.event[8:]}"))
            if f and dns["stale_for"] > 0 and t0 + dns["stale_for"] <= min(stop, d) + 1e-12:
                items.append((t0 + dns["stale_for"], 3, f"{router}: the {100 * f:g} % on resolvers that ignore "
                                                        f"the TTL move too"))
    items.sort(key=lambda x: (x[0], x[1]))
    merged: list[list] = []
    for t, pri, text in items:
        if merged and math.isclose(merged[-1][0], t, abs_tol=1e-9):
            if text not in merged[-1][1]:
                merged[-1][1].append(text)
        else:
            merged.append([t, [text]])
    # Collapse shards: 'sessions: failure detected; ...' repeated once per shard.
    out = []
    for t, texts in merged:
        seen: dict[str, int] = {}
        for x in texts:
            seen[x] = seen.get(x, 0) + 1
        out.append((t, "; ".join(seen)))
    # Too many: drop, latest first, the lines that neither changed the served fraction nor come from a
    # router, keeping the first and the last.
    while len(out) > max(limit, 2):
        drop = next((i for i in range(len(out) - 2, 0, -1) if "→" not in out[i][1] and
                     not any(out[i][1].startswith(r + ":") for r in tr.dns)), None)
        if drop is None:
            drop = len(out) - 2
        del out[drop]
    return out


def _short(hours: float) -> str:
    s = hours * 3600.0
    return f"{s:.0f} s" if s < 99.5 else (f"{s / 60:.3g} min" if s < 7200 else f"{hours:.3g} h")


def _pct(x: float) -> str:
    return f"{100 * x:.3g} %"
