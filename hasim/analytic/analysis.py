"""The whole analysis: the exact answer of :mod:`hasim.analytic.exact` corrected by the
first-order delay term of every mechanism (:mod:`hasim.analytic.mechanisms`), per-service
figures and the minimal cut sets.

See :mod:`hasim.analytic.exact` for what is exact and
:mod:`hasim.analytic.first_order` for what is first order (``exact: false``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from hasim.model.scenario import Scenario
from hasim.analytic.exact import TIERS, _MINUTES_PER_YEAR, _default_params, _Params, _Solver, nines, windowed_measures
from hasim.analytic.first_order import HOURS_PER_YEAR, DelayTerm, DelayTerms
from hasim.analytic.cut_sets import CutSet, _cut_sets
from hasim.analytic.load import load_table, zone_loss
from hasim.model.capacity import HOURS, at_hour, hour_classes, request_weights
from hasim.analytic.mechanisms.cache import cache_terms
from hasim.analytic.mechanisms.failover import failover_terms
from hasim.analytic.mechanisms.replication import data_loss_terms
from hasim.analytic.mechanisms.deploys import deploy_terms
from hasim.analytic.mechanisms.health_check import health_check_terms
from hasim.analytic.mechanisms.routing import routing_terms

__all__ = ["analyze", "Analysis", "bound"]

#: The mechanisms' first-order term functions (one line each), in the order their terms are produced for each service.
TERMS = (failover_terms, health_check_terms, routing_terms, cache_terms, deploy_terms)
#: The mechanisms that lose data, not service: their first-order figures stand apart (``Analysis.data_loss``).
DATA_TERMS = (data_loss_terms,)


@dataclass
class Analysis:
    """What ``hasim analyze`` reports.  ``to_dict()`` is the ``--json`` contract."""

    scenario: str
    entry: str
    slo: float | None
    request_availability: float
    time_availability: float
    down_probability: float
    exact: bool
    notes: list[str]
    structural_request_availability: float
    structural_time_availability: float
    delay_terms: list[DelayTerm]
    services: list[dict]
    optional: list[dict]
    cut_sets: list[CutSet]
    load: list[dict] = field(default_factory=list)
    zone_loss: list[dict] = field(default_factory=list)
    #: First-order data loss of the replicated standby services (:mod:`hasim.analytic.mechanisms.replication`).
    data_loss: list[dict] = field(default_factory=list)
    #: ``"point"``: the answer is the design's (exact or first order); ``"lower"`` / ``"upper"``: it leaves
    #: out mechanisms that can only help / only hurt, so the design does at least / at most this well;
    #: ``"none"``: it leaves out some of each (see :func:`bound`).
    bound: str = "point"

    @property
    def downtime_minutes_per_year(self) -> float:
        return (1.0 - self.request_availability) * _MINUTES_PER_YEAR

    @property
    def nines(self) -> float:
        return nines(self.request_availability)

    def meets(self, target: float) -> bool | None:
        """Whether the design's request availability is at least ``target`` (a fraction); None when the
        answer is a bound on the wrong side of it (or no bound at all): only a simulation decides."""
        above = self.request_availability >= target
        if self.bound == "point":
            return above
        if self.bound == "lower":
            return True if above else None
        if self.bound == "upper":
            return None if above else False
        return None

    @property
    def tiers(self) -> list[dict]:
        return [{"tier": t, "allowed_minutes_per_year": round((1 - t / 100) * _MINUTES_PER_YEAR, 4),
                 "met": self.meets(t / 100.0)} for t in TIERS]

    @property
    def slo_margin_minutes_per_year(self) -> float | None:
        """Allowed minus expected downtime per year under the SLO (negative: missed)."""
        if self.slo is None:
            return None
        return (1 - self.slo / 100) * _MINUTES_PER_YEAR - self.downtime_minutes_per_year

    # -- DataFrames for notebooks ----------------------------------------------------------
    @property
    def summary(self):
        """One row per headline figure (pandas DataFrame: metric, value)."""
        import pandas as pd

        rows = [("request_availability", self.request_availability),
                ("time_availability", self.time_availability),
                ("down_probability", self.down_probability),
                ("nines", self.nines),
                ("downtime_minutes_per_year", self.downtime_minutes_per_year),
                ("structural_request_availability", self.structural_request_availability),
                ("structural_time_availability", self.structural_time_availability)]
        if self.slo is not None:
            rows.append(("slo_margin_minutes_per_year", self.slo_margin_minutes_per_year))
        return pd.DataFrame(rows, columns=["metric", "value"])

    @property
    def delays(self):
        """The first-order delay terms as a DataFrame, with minutes per year at the entry."""
        import pandas as pd

        frame = pd.DataFrame([asdict(t) for t in self.delay_terms],
                             columns=list(DelayTerm.__dataclass_fields__))
        frame["minutes_per_year"] = frame["request_unavailability"] * _MINUTES_PER_YEAR
        return frame

    @property
    def cuts(self):
        """The minimal cut sets as a DataFrame (components joined with ' + ')."""
        import pandas as pd

        rows = [{**asdict(c), "components": " + ".join(c.components)} for c in self.cut_sets]
        return pd.DataFrame(rows, columns=list(CutSet.__dataclass_fields__))

    @property
    def utilisation(self):
        """Load and utilisation of every pool with a ``capacity`` (DataFrame, one row per service;
        see :func:`hasim.analytic.load.load_table`)."""
        import pandas as pd

        return pd.DataFrame(self.load, columns=["service", "load_rps", "capacity_rps", "replicas", "needed",
                                                "utilisation", "spare_instances", "overload_probability",
                                                "utilisation_p50", "utilisation_p99", "utilisation_p999"])

    @property
    def static_stability(self):
        """For every zone: does the entry serve everything with that zone down and all else healthy
        (DataFrame: zone, served, survives, short; see :func:`hasim.analytic.load.zone_loss`)."""
        import pandas as pd

        rows = [{"zone": z["zone"], "served": z["served"], "survives": z["survives"], "short": ", ".join(z["short"])}
                for z in self.zone_loss]
        return pd.DataFrame(rows, columns=["zone", "served", "survives", "short"])

    def __repr__(self) -> str:
        return (f"Analysis({self.scenario!r}, request_availability={self.request_availability:.8f}, "
                f"time_availability={self.time_availability:.8f}, exact={self.exact})")

    def to_dict(self) -> dict:
        return {
            "scenario": self.scenario,
            "entry": self.entry,
            "request_availability": self.request_availability,
            "time_availability": self.time_availability,
            "down_probability": self.down_probability,
            "nines": self.nines,
            "downtime_minutes_per_year": self.downtime_minutes_per_year,
            "exact": self.exact,
            "notes": self.notes,
            "slo": self.slo,
            "slo_met": None if self.slo is None else self.meets(self.slo / 100),
            "bound": self.bound,
            "slo_margin_minutes_per_year": self.slo_margin_minutes_per_year,
            "tiers": self.tiers,
            "structural": {"request_availability": self.structural_request_availability,
                           "time_availability": self.structural_time_availability},
            "delay_terms": [asdict(t) for t in self.delay_terms],
            "services": self.services,
            "optional": self.optional,
            "cut_sets": [asdict(c) for c in self.cut_sets],
            "load": {"services": [_finite(row) for row in self.load],
                     "zone_loss": [{**z, "utilisation": _finite(z["utilisation"])} for z in self.zone_loss]},
            "data_loss": self.data_loss,
        }


def _finite(row: dict) -> dict:
    """``row`` with infinite numbers as None (JSON has no infinity: no instance left, utilisation unbounded)."""
    return {k: None if isinstance(v, float) and math.isinf(v) else v for k, v in row.items()}



def _delay_terms(sc: Scenario, params: _Params, solver: _Solver) -> list[DelayTerm]:
    """Every mechanism's first-order terms, per service in ``solver.reach`` order."""
    terms = DelayTerms(sc, params, solver)
    for name in solver.reach:
        for mechanism in TERMS:
            mechanism(terms, name)
    return terms.terms


def analyze(scenario: Scenario, *, cut_sets: bool = True) -> Analysis:
    """Steady-state availability of ``scenario.entry``, computed exactly where possible.

    Parameters
    ----------
    scenario : Scenario
        The design.
    cut_sets : bool
        Also enumerate minimal cut sets of order 1 and 2.

    Returns
    -------
    Analysis
        Request and time availability, tiers, per-service figures, delay terms
        (first order) and cut sets.  ``exact`` is False when any delay term or
        approximation enters; ``notes`` says which.  With a daily load profile the
        design is solved at every hour of the day (instances fail and are repaired
        whatever the hour, so the state seen at each hour is the stationary one) and
        the hours are averaged, weighted by the requests they carry
        (:func:`hasim.model.capacity.request_weights`); cut sets and the load table are
        those of the peak hour.
    """
    classes = hour_classes(scenario)
    if len(classes) == 1:
        return _analyze(scenario, cut_sets=cut_sets)
    weights = request_weights(scenario)
    peak = max(classes, key=lambda c: float(weights[c[0]]))[0]
    parts = [(_analyze(at_hour(scenario, h), cut_sets=cut_sets and h == peak), hours) for h, hours in classes]
    return _combine(scenario, parts, weights, peak)


def _combine(sc: Scenario, parts: list, weights, peak: int) -> Analysis:
    """One analysis from analyses at hours of the day: means weighted by requests (request measures) or
    by time (time measures, event rates)."""
    def mean(get, by_requests: bool) -> float:
        return sum(get(a) * sum(float(weights[h]) if by_requests else 1.0 for h in hours)
                   for a, hours in parts) / HOURS

    terms: dict = {}
    for a, hours in parts:
        w_req = sum(float(weights[h]) for h in hours) / HOURS
        w_time = len(hours) / HOURS
        for t in a.delay_terms:
            key = (t.service, t.stage, t.description)
            cur = terms.get(key)
            scaled = DelayTerm(t.service, t.stage, t.events_per_year * w_time, t.hours_per_event,
                               t.request_unavailability * w_req, t.time_unavailability * w_time, t.description)
            if cur is None:
                terms[key] = scaled
            else:
                events = cur.events_per_year + scaled.events_per_year
                terms[key] = DelayTerm(t.service, t.stage, events,
                                       (cur.hours_per_event * cur.events_per_year
                                        + t.hours_per_event * scaled.events_per_year) / events if events else 0.0,
                                       cur.request_unavailability + scaled.request_unavailability,
                                       cur.time_unavailability + scaled.time_unavailability, t.description)
    at_peak = next(a for a, hours in parts if peak in hours)
    notes = list(dict.fromkeys(n for a, _ in parts for n in a.notes))
    notes.append("daily load profile: solved at each hour of the day and averaged, weighted by the requests each "
                 "hour carries; cut sets and the load table are the peak hour's")
    return Analysis(
        scenario=sc.name, entry=sc.entry, slo=sc.slo,
        request_availability=mean(lambda a: a.request_availability, True),
        time_availability=mean(lambda a: a.time_availability, False),
        down_probability=mean(lambda a: a.down_probability, False),
        exact=all(a.exact for a, _ in parts), notes=notes,
        structural_request_availability=mean(lambda a: a.structural_request_availability, True),
        structural_time_availability=mean(lambda a: a.structural_time_availability, False),
        delay_terms=list(terms.values()),
        services=_mean_rows(parts, weights, lambda a: a.services, lambda r: r["service"]),
        optional=_mean_rows(parts, weights, lambda a: a.optional, lambda r: (r["service"], r["used_by"])),
        cut_sets=at_peak.cut_sets, load=at_peak.load, zone_loss=at_peak.zone_loss, bound=bound(sc),
        data_loss=data_loss_terms(sc),
    )


def _mean_rows(parts, weights, get, key) -> list[dict]:
    """Rows of per-hour analyses averaged field by field: request measures weighted by requests, the others
    by time."""
    out: dict = {}
    for a, hours in parts:
        share_req = sum(float(weights[h]) for h in hours) / HOURS
        share_time = len(hours) / HOURS
        for row in get(a):
            acc = out.setdefault(key(row), {k: (0.0 if isinstance(v, float) else v) for k, v in row.items()})
            for k, v in row.items():
                if isinstance(v, float):
                    acc[k] += v * (share_req if k.startswith("request") else share_time)
    return list(out.values())


def _analyze(scenario: Scenario, *, cut_sets: bool = True) -> Analysis:
    """:func:`analyze` of a design whose load is the same at every hour."""
    sc = scenario
    params = _default_params(sc)
    solver = _Solver(sc, params, sc.entry)
    ra, ta, down = solver.measures()
    notes: list[str] = []
    for name in solver.reach:
        svc = sc.services[name]
        if svc.mode == "standby" and svc.standby != "hot" and svc.has_instances:
            if not (svc.failure.dist == "exponential" and svc.repair.dist == "exponential"):
                notes.append(f"{name}: {svc.standby} standby solved as a Markov chain with the means of "
                             f"non-exponential laws (approximation)")
            if svc.zones:
                notes.append(f"{name}: zone outages of a {svc.standby} standby group are approximated")
        if svc.overload is not None:
            notes.append(f"{name}: a collapse under overload (and the client retries that prolong it) has no closed "
                         "form: this answer is for a pool that sheds the excess instead, an upper bound; simulate it")
        if svc.autoscaling is not None:
            notes.append(f"{name}: autoscaling has no closed form: this answer is for its {svc.replicas} replicas "
                         "alone, a lower bound; simulate it")
        if svc.timeouts or svc.breakers:
            notes.append(f"{name}: timeouts (workers held by a failing dependency) and circuit breakers have no "
                         "closed form: this answer leaves them out; simulate it")
        if svc.health_check is not None and not svc.is_router and svc.mode == "active":
            notes.append(f"{name}: re-adding a repaired instance after {svc.health_check.healthy_threshold} "
                         "good probes counted as extra repair time (first order)")
    terms = _delay_terms(sc, params, solver)
    if terms:
        notes.append("delay terms are first order: a second failure during a delay is neglected")
    if any(s.maintenance is not None for s in sc.services.values()):
        w_ra, w_ta, down = windowed_measures(sc, params, sc.entry, (ra, ta, down))
        terms.append(_window_term(sc, ra - w_ra, ta - w_ta))
    d_req = sum(t.request_unavailability for t in terms)
    d_time = sum(t.time_unavailability for t in terms)
    total_ra = min(1.0, max(0.0, ra - d_req))
    total_ta = min(1.0, max(0.0, ta - d_time))
    services = []
    for name in sc.topological_order():
        if name not in solver.reach:
            continue
        s_ra, s_ta, s_down = windowed_measures(sc, params, name)
        services.append({"service": name, "request_availability": s_ra, "time_availability": s_ta,
                         "down_probability": s_down})
    optional = []
    for name in solver.reach:
        for opt in sc.services[name].optional:
            o_ra, o_ta, _ = _Solver(sc, params, opt).measures()
            optional.append({"service": opt, "used_by": name, "request_availability": o_ra,
                             "time_availability": o_ta})
    cuts = _cut_sets(sc, params, solver, 1.0 - total_ra) if cut_sets else []
    return Analysis(
        scenario=sc.name, entry=sc.entry, slo=sc.slo,
        request_availability=total_ra, time_availability=total_ta, down_probability=down,
        exact=not notes, notes=notes,
        structural_request_availability=ra, structural_time_availability=ta,
        delay_terms=terms, services=services, optional=optional, cut_sets=cuts,
        load=load_table(sc), zone_loss=zone_loss(sc), bound=bound(sc),
        data_loss=data_loss_terms(sc),
    )


def _window_term(sc: Scenario, d_req: float, d_time: float) -> DelayTerm:
    """What the maintenance windows cost (exact: :func:`hasim.analytic.exact.windowed_measures`), as a
    ``maintenance`` term beside the delays: the design solved without its windows, less with them
    (``d_req``, ``d_time``)."""
    names = [n for n in sc.topological_order() if sc.services[n].maintenance is not None]
    per_year = sum(HOURS_PER_YEAR / sc.services[n].maintenance.every for n in names)
    d_req, d_time = max(d_req, 0.0), max(d_time, 0.0)
    return DelayTerm(service=", ".join(names), stage="maintenance", events_per_year=per_year,
                     hours_per_event=d_req * HOURS_PER_YEAR / per_year, request_unavailability=d_req,
                     time_unavailability=d_time,
                     description="maintenance windows take instances out (exact: the design solved with and "
                                 "without each window, weighted by the share of the time it is on)")


def bound(sc: Scenario) -> str:
    """Which way :func:`analyze` errs on the mechanisms it has no closed form for (each says so in the notes):
    autoscaling only adds instances (the answer is a lower bound); a collapse under overload, timeouts that
    hold workers and a breaker that fails fast only lose more (an upper bound); a breaker whose fallback
    serves a hard dependency's requests can do better than the dependency itself.  ``"point"`` when none
    is used, ``"none"`` when both sides are."""
    sides = set()
    for svc in sc.services.values():
        if svc.autoscaling is not None:
            sides.add("lower")
        if svc.overload is not None or svc.timeouts:
            sides.add("upper")
        for dep, b in svc.breakers.items():
            sides.add("lower" if b.fallback == "serve" and dep in svc.dependencies else "upper")
    return "point" if not sides else sides.pop() if len(sides) == 1 else "none"
