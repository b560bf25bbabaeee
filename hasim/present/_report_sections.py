"""What each section of the report shows: one context builder per section, from the results, the scenario
and the analysis, for the template to lay out."""

from __future__ import annotations


import datetime as _dt
import hashlib
import math
import platform
import sys
from typing import Any

from hasim._version import __version__
from hasim.text import duration as format_duration
from hasim.text import minutes as _minutes_text
from hasim.model._types import parse_slo
from hasim.analytic.exact import TIERS
from hasim.model.mechanisms import MECHANISMS, in_use, worse_when_raised
from hasim.model.structure import reach
from hasim.present._report_format import (_MINUTES_PER_YEAR, _WIDE, _delta, _duration, _figure_height, _law, _markup,
                                          _mins, _nines, _nines_text, _pct, _pct_range, _svg)

def verdict(results, slo: float | None = None) -> dict:
    """The SLO verdict: :func:`hasim.results.estimate.slo_verdict` (the rule every output uses) in words.

    Returns ``{"status": "met" | "not-met" | "too-close" | "insufficient-evidence" | "no-slo",
    "headline", "detail"}``: ``met`` when the whole 95 % interval is at or above
    the SLO, ``not-met`` when it is all below, ``too-close`` when it straddles the
    target, ``insufficient-evidence`` when the run saw too few outages for its
    interval to mean anything (with the replicas needed to decide).
    """
    from hasim.results.estimate import slo_verdict

    ra = results.metric("request_availability")
    slo = results.slo if slo is None else parse_slo(slo)  # 0.9999 is a fraction, not 0.9999 %
    mean, (lo, hi) = ra["mean"], ra["ci95"]
    down = results.metric("downtime_minutes_per_year")
    if slo is None:
        return {"status": "no-slo", "headline": "No SLO given",
                "detail": f"The design delivers {_pct(mean)} ({_nines(mean)} nines); add 'slo:' to the scenario "
                          "to get a verdict."}
    # A Results knows its outage count and can ask the exact solver for advice; anything else that
    # only offers metric() is judged on its interval alone.
    v = results.slo_verdict(slo) if hasattr(results, "slo_verdict") else slo_verdict(slo, mean, ra["ci95"])
    target = slo / 100.0
    allowed = (1 - target) * _MINUTES_PER_YEAR
    spent = f"{_mins(down['mean'])} of downtime a year against {_mins(allowed)} allowed"
    advice = f" {v['advice'][0].upper()}{v['advice'][1:]}." if v.get("advice") else ""
    if v["status"] == "met":
        return {"status": "met", "headline": f"SLO {slo:g} % met",
                "detail": f"Even the pessimistic end of the 95 % interval ({_pct(lo)}) is above the target: "
                          f"{spent}."}
    if v["status"] == "not-met":
        return {"status": "not-met", "headline": f"SLO {slo:g} % not met",
                "detail": f"Even the optimistic end of the 95 % interval ({_pct(hi)}) is below the target: "
                          f"{spent}."}
    if v["status"] == "insufficient-evidence":
        seen = "no outage" if not v["outages"] else f"only {v['outages']} outage{'s' if v['outages'] != 1 else ''}"
        return {"status": "insufficient-evidence", "headline": f"SLO {slo:g} %: not enough evidence",
                "detail": f"The simulation saw {seen} (at least {v['min_outages']} are needed), so its estimate "
                          f"of {_pct(mean)} says nothing about the target yet.{advice}"}
    return {"status": "too-close", "headline": f"SLO {slo:g} %: too close to call",
            "detail": f"The 95 % interval [{_pct(lo)}, {_pct(hi)}] straddles the target ({spent}). "
                      "Run more replicas to decide" + (f" ({v['advice']})" if v.get("advice") else "")
                      + ", or treat the design as having no margin."}


def _metric_row(results, name: str) -> dict:
    m = results.metric(name)
    return {"mean": m["mean"], "lo": m["ci95"][0], "hi": m["ci95"][1], "one_sided": bool(m.get("one_sided"))}


def evidence(results) -> dict:
    """How much the run's intervals rest on: ``{"outages", "few", "none", "text"}``; ``text`` is the
    warning the report shows when fewer than :data:`~hasim.results.estimate.MIN_OUTAGES` outages
    were seen (None otherwise)."""
    from hasim.results.estimate import MIN_OUTAGES

    k = int(getattr(results, "total_outages", MIN_OUTAGES))
    if k >= MIN_OUTAGES:
        return {"outages": k, "few": False, "none": False, "text": None}
    if k == 0:
        text = ("No outage was observed. The intervals below are one-sided 95 % bounds (no more downtime "
                "than the rule of three allows: fewer than 3 outages over all the replica-years, each costing "
                "what the exact solver, or else the longest mean repair, says an outage costs); "
                "they say how good the design might be, not how good it is.")
    else:
        text = (f"These estimates rest on only {k} outage{'s' if k != 1 else ''} (fewer than {MIN_OUTAGES}): "
                "with so few, no interval can promise 95 % (the coverage study finds about 87-90 % with 2-5 "
                "outages expected), and misses are optimistic. Read them as indicative; run more replicas.")
    return {"outages": k, "few": True, "none": k == 0, "text": text}


def _ci_text(m: dict, fmt_range, fmt_one, higher_is_better: bool) -> str:
    """The interval of a metric row, or its one-sided bound when no outage was seen."""
    if m.get("one_sided"):
        bound = m["lo"] if higher_is_better else m["hi"]
        if bound is None or not math.isfinite(bound):
            return "no bound (no outage seen)"
        return f"{'≥' if higher_is_better else '≤'} {fmt_one(bound)} (one-sided)"
    return fmt_range(m["lo"], m["hi"])


def _verdict_context(results, scenario, analysis) -> dict:
    ra, ta = _metric_row(results, "request_availability"), _metric_row(results, "time_availability")
    down = _metric_row(results, "downtime_minutes_per_year")
    v = verdict(results)
    slo = results.slo
    allowed_year = (1 - slo / 100) * _MINUTES_PER_YEAR if slo is not None else None
    mins_range = lambda lo, hi: f"{_mins(lo)} – {_mins(hi)}"  # noqa: E731
    month = {**down, **{k: None if down[k] is None else down[k] / 12 for k in ("lo", "hi")}}
    ctx = {
        **v,
        "slo": slo,
        "evidence": evidence(results),
        "request": {"value": _pct(ra["mean"]), "ci": _ci_text(ra, _pct_range, _pct, True),
                    "nines": _nines(ra["mean"]), "nines_text": _nines_text(ra["mean"])},
        "time": {"value": _pct(ta["mean"]), "ci": _ci_text(ta, _pct_range, _pct, True),
                 "nines": _nines(ta["mean"]), "nines_text": _nines_text(ta["mean"]),
                 "down_year": _mins((1 - ta["mean"]) * _MINUTES_PER_YEAR)},
        "down_year": _mins(down["mean"]),
        "down_year_ci": _ci_text(down, mins_range, _mins, False),
        "down_month": _mins(down["mean"] / 12),
        "down_month_ci": _ci_text(month, mins_range, _mins, False),
        "allowed_year": _mins(allowed_year) if allowed_year is not None else None,
        "allowed_month": _mins(allowed_year / 12) if allowed_year is not None else None,
        "margin": None,
        "exact": None,
    }
    if allowed_year is not None:
        margin = allowed_year - down["mean"]
        ctx["margin"] = ("+" if margin >= 0 else "−") + _mins(abs(margin))
        ctx["margin_ok"] = margin >= 0
    if analysis is not None:
        ctx["exact"] = _crosscheck(down, analysis)
    return ctx


#: Share of the solver's delay terms allowed as the error of a first-order answer (a convention: the
#: solver gives no bound; on the flagship the first-order terms come out about 12 % above a 1-year simulation).
FIRST_ORDER_ALLOWANCE = 0.2


def _crosscheck(down: dict, analysis) -> dict:
    """Compare the simulated downtime (``{"mean", "lo", "hi"}`` min/year) with the solver, like with like.

    The solver's answer has two parts: the steady state of the structure without any operational delay
    (exact), and the delay terms (detection, promotion, DNS TTL...), first order when ``exact`` is false.
    The simulation includes the delays, so it is compared with the figure that includes them, with a
    tolerance of its 95 % interval plus, for a first-order answer, :data:`FIRST_ORDER_ALLOWANCE` of the
    delay terms.  ``status``: ``inside`` (the CI), ``expected`` (within the tolerance), ``beyond``.
    """
    with_delays = float(analysis.downtime_minutes_per_year)
    no_delays = (1.0 - float(analysis.structural_request_availability)) * _MINUTES_PER_YEAR
    delays = with_delays - no_delays
    first_order = not analysis.exact and bool(analysis.delay_terms)
    half = max(down["hi"] - down["mean"], down["mean"] - down["lo"])
    allowance = FIRST_ORDER_ALLOWANCE * abs(delays) if first_order else 0.0
    gap = with_delays - down["mean"]
    if down["lo"] <= with_delays <= down["hi"]:
        status = "inside"
    elif abs(gap) <= half + allowance:
        status = "expected"
    else:
        status = "beyond"
    rel = f" ({100 * abs(gap) / down['mean']:.0f} %)" if down["mean"] > 0 else ""
    return {
        "first_order": first_order,
        "label": "first order, with delays" if first_order else ("exact, with delays" if analysis.delay_terms
                                                                  else "exact"),
        "value": _pct(analysis.request_availability), "nines": _nines(analysis.request_availability),
        "down_year": _mins(with_delays),
        "no_delays": {"value": _pct(analysis.structural_request_availability), "down_year": _mins(no_delays)},
        "delays": _mins(delays), "n_delays": len(analysis.delay_terms),
        "time": _pct(analysis.time_availability),
        "status": status, "inside": status == "inside",
        "gap": f"{_mins(abs(gap))} a year {'more' if gap > 0 else 'less'} downtime than simulated{rel}",
        "half": _mins(half), "allowance": _mins(allowance), "tolerance": _mins(half + allowance),
        "allowance_share": f"{100 * FIRST_ORDER_ALLOWANCE:g} %",
        "notes": list(analysis.notes),
    }


def _tiers_context(results) -> list[dict]:
    down = _metric_row(results, "downtime_minutes_per_year")
    rows = []
    for t in results.tiers:
        allowed = t["allowed_minutes_per_year"]
        rows.append({
            "tier": f"{t['tier']:g} %",
            "is_slo": results.slo is not None and math.isclose(t["tier"], results.slo),
            "allowed_year": _mins(allowed), "allowed_month": _mins(allowed / 12),
            "design": _mins(down["mean"]), "design_ci": f"{_mins(down['lo'])} – {_mins(down['hi'])}",
            "margin": ("+" if allowed - down["mean"] >= 0 else "−") + _mins(abs(allowed - down["mean"])),
            "verdict": t.get("verdict", "met" if t["met"] else "missed"),
        })
    # A tier the SLO names but TIERS lacks (e.g. 99.95 %) is shown too.
    if results.slo is not None and not any(math.isclose(results.slo, t) for t in TIERS):
        target = results.slo / 100
        allowed = (1 - target) * _MINUTES_PER_YEAR
        verdict_ = results.slo_verdict(advise=False)["verdict"]  # the one rule (hasim.results.estimate.slo_verdict)
        rows.append({"tier": f"{results.slo:g} %", "is_slo": True, "allowed_year": _mins(allowed),
                     "allowed_month": _mins(allowed / 12), "design": _mins(down["mean"]),
                     "design_ci": f"{_mins(down['lo'])} – {_mins(down['hi'])}",
                     "margin": ("+" if allowed - down["mean"] >= 0 else "−") + _mins(abs(allowed - down["mean"])),
                     "verdict": verdict_})
        rows.sort(key=lambda r: float(r["tier"].split()[0]))
    return rows


def _distribution_context(results) -> dict:
    import numpy as np

    from hasim.present import plot

    values = np.asarray(results.replicas["downtime_minutes_per_year"], dtype=float)
    breach = _metric_row(results, "p_window_breach")
    per_year = _metric_row(results, "breach_windows_per_year")
    outages = _metric_row(results, "outages_per_year")
    mean_outage = _metric_row(results, "mean_outage_minutes")
    longest = _metric_row(results, "longest_outage_minutes")
    slo_used = getattr(results, "slo_used", results.slo or 99.9)
    allowed = (1 - slo_used / 100) * _MINUTES_PER_YEAR
    window_h = results.to_dict()["window_hours"]
    q = np.percentile(values, [50, 90, 99]) if values.size else [math.nan] * 3
    return {
        "histogram": _svg(lambda ax: plot.downtime_distribution(results, ax=ax), (_WIDE, 3.4), "hist"),
        "windows": _svg(lambda ax: plot.window_breaches(results, ax=ax), (_WIDE, 3.4), "windows"),
        "window": plot.window_name(window_h),
        "slo_used": f"{slo_used:g} %",
        "slo_assumed": results.slo is None,
        "p_breach": f"{100 * breach['mean']:.2f} %",
        "p_breach_ci": f"{100 * max(breach['lo'], 0):.2f} – {100 * breach['hi']:.2f} %",
        "breaches_per_year": f"{per_year['mean']:.2f}",
        "breaches_per_year_ci": f"{max(per_year['lo'], 0):.2f} – {per_year['hi']:.2f}",
        "p_year_over": f"{100 * float((values > allowed).mean()):.1f} %" if values.size else "n/a",
        "allowed_year": _mins(allowed),
        "median": _mins(q[0]), "p90": _mins(q[1]), "p99": _mins(q[2]),
        "outages_per_year": f"{outages['mean']:.3g}",
        "mean_outage": _mins(mean_outage["mean"]),
        "longest": _mins(longest["mean"]),
        **_recovery_context(results),
        **_data_loss_context(results),
        "alerts": _alerts_rows(results),
    }


def _recovery_context(results) -> dict:
    """The recovery time per incident (RTO, measured) and, with an ``rto``, how often it is breached."""
    frame = getattr(results, "recovery", None)
    if frame is None or not len(frame) or not math.isfinite(float(frame["hours"].iloc[0])):
        return {"recovery": [], "rto": None}
    rows = []
    for r in frame.itertuples():
        if math.isfinite(r.ci_low):
            ci = f"{_duration(r.ci_low)} – {_duration(r.ci_high)}"
        elif r.exact_share > 0:
            ci = f"exactly, for {100 * r.exact_share:.0f} % of incidents"
        else:
            ci = f"not bounded: {r.incidents:.0f} incidents beyond it" if r.measure != "mean" else "–"
        rows.append({"measure": "mean" if r.measure == "mean" else f"{r.measure[1:]}th percentile",
                     "value": _duration(r.hours), "ci": ci})
    b = results.rto_breaches() if hasattr(results, "rto_breaches") else None
    rto = None
    if b is not None:
        rate = b["per_year"]
        rto = {"objective": _duration(b["rto_hours"]),
               "per_year": (f"≤ {rate['ci95'][1]:.3g}" if rate["one_sided"] else f"{rate['mean']:.3g}"),
               "ci": f"{max(rate['ci95'][0], 0):.3g} – {rate['ci95'][1]:.3g}",
               "share": f"{100 * b['share']['mean']:.2g} %" if math.isfinite(b["share"]["mean"]) else "–"}
    return {"recovery": rows, "rto": rto}


def _alerts_rows(results) -> list[dict]:
    """What each alert rule caught, one row per rule (empty without rules)."""
    frame = getattr(results, "alerts", None)
    if frame is None or frame.empty:
        return []

    def cell(r, percent=False):
        if not math.isfinite(r.value):
            return "–"
        show = (lambda x: f"{100 * x:.3g} %") if percent else (lambda x: f"{x:.3g}")
        ci = f" ({show(max(r.ci_low, 0.0))} – {show(r.ci_high)})" if math.isfinite(r.ci_low) else ""
        return show(r.value) + ci

    rows = []
    for name, g in frame.groupby("rule", sort=False):
        g = g.set_index("measure")
        rows.append({"rule": name, "pages": cell(g.loc["pages/year"]),
                     "share": cell(g.loc["detected share"], True), "cover": cell(g.loc["downtime share paged"], True),
                     "ttd": cell(g.loc["minutes to detect"]), "burn": cell(g.loc["budget minutes before page"]),
                     "missed": cell(g.loc["missed/year"]), "late": cell(g.loc["late pages/year"]),
                     "false": cell(g.loc["false pages/year"])})
    return rows


def _data_loss_context(results) -> dict:
    """The writes lost by the promotions of replicated services (RPO, measured) and the ``rpo``'s breaches."""
    frame = getattr(results, "data_loss", None)
    if frame is None or frame.empty:
        return {"data_loss": [], "rpo": None}
    rows = []
    for r in frame.itertuples():
        per_year = r.measure == "incidents/year"
        show = (lambda x: f"{x:.3g}") if per_year else _duration
        if math.isfinite(r.ci_low) and math.isfinite(r.ci_high):
            ci = f"{show(max(r.ci_low, 0.0))} – {show(r.ci_high)}"
        elif r.exact_share > 0:
            ci = f"exactly, for {100 * r.exact_share:.0f} % of incidents"
        else:
            ci = "–"
        value = show(r.value) if math.isfinite(r.value) else "–"
        rows.append({"service": r.service, "mode": f"{r.mode} copy of {r.copy_of}" if isinstance(r.copy_of, str) else r.mode,
                     "measure": r.measure, "value": value, "ci": ci})
    b = results.rpo_breaches()
    rpo = None
    if b is not None:
        rate = b["per_year"]
        rpo = {"objective": _duration(b["rpo_hours"]) if b["rpo_hours"] > 0 else "0 (any loss)",
               "per_year": (f"≤ {rate['ci95'][1]:.3g}" if rate["one_sided"] else f"{rate['mean']:.3g}"),
               "ci": f"{max(rate['ci95'][0], 0):.3g} – {rate['ci95'][1]:.3g}",
               "share": f"{100 * b['share']['mean']:.2g} %" if math.isfinite(b["share"]["mean"]) else "–"}
    return {"data_loss": rows, "rpo": rpo}


def _drivers_context(results) -> dict:
    from hasim.present import plot

    att = results.attribution
    total = float(att["downtime_minutes_per_year"].sum()) if len(att) else 0.0
    rows = [{"cause": r.cause, "kind": r.kind, "stage": getattr(r, "stage", None),
             "mean": _mins(r.downtime_minutes_per_year),
             "ci": f"{_mins(max(r.ci_low, 0))} – {_mins(r.ci_high)}",
             "share": f"{100 * r.share:.1f} %" if math.isfinite(r.share) else "–",
             "share_value": float(r.share) if math.isfinite(r.share) else 0.0}
            for r in att.head(15).itertuples()]
    stages = getattr(results, "stages", None)
    stage_rows, unseen = None, []
    if stages is not None and len(stages):
        unseen = [s for s, v in zip(stages.stage, stages.downtime_minutes_per_year) if not v > 0]
        stages = stages[stages.downtime_minutes_per_year > 0]
        stage_rows = [{"stage": r.stage, "mean": _mins(r.downtime_minutes_per_year),
                       "ci": f"{_mins(max(r.ci_low, 0))} – {_mins(r.ci_high)}",
                       "share": f"{100 * r.share:.1f} %" if math.isfinite(r.share) else "–",
                       "share_value": float(r.share) if math.isfinite(r.share) else 0.0}
                      for r in stages.sort_values("downtime_minutes_per_year", ascending=False).itertuples()]
    n_cause = min(len(att), 10)
    top = rows[0] if rows else None
    return {
        "causes_chart": _svg(lambda ax: plot.attribution(results, ax=ax, by="cause"),
                             (7.4, _figure_height(n_cause)), "causes"),
        "stages_chart": _svg(lambda ax: plot.attribution(results, ax=ax, by="stage"),
                             (7.4, _figure_height(len(stage_rows) if stage_rows else 3)), "stages"),
        "rows": rows, "more": max(0, len(att) - len(rows)),
        "stage_rows": stage_rows,
        "unseen_stages": unseen,
        "has_stage_column": "stage" in att.columns,
        "total": _mins(total),
        "top": top,
    }


#: The stages load can cause, in the order the report's load section lists them.
LOAD_STAGES = ("capacity", "overload", "breaker", "scaling")


def _load_context(results, scenario, analysis) -> dict:
    """Utilisation of every pool with a capacity, the loss of each zone (static stability), and the downtime
    charged to the stages load can cause (:data:`LOAD_STAGES`), the time each pool that can collapse spent
    collapsed, and which pools scale and which edges have a breaker (what the static tables leave out)."""
    from hasim.present import plot

    loaded = [n for n, s in scenario.services.items() if s.capacity is not None]
    pools = []
    for row in (analysis.load if analysis is not None else []):
        u999 = row["utilisation_p999"]
        pools.append({"service": row["service"], "load": f"{row['load_rps']:,.0f}", "capacity": f"{row['capacity_rps']:,.0f}",
                      "needed": f"{row['needed']:.2f} of {row['replicas']}", "utilisation": f"{row['utilisation']:.0%}",
                      "p999": "no instance left" if math.isinf(u999) else f"{u999:.0%}",
                      "short": _duration(row["overload_probability"] * 8760.0),
                      "no_headroom": row["spare_instances"] < 1.0})
    zones = [{"zone": z["zone"], "survives": z["survives"], "served": _pct(z["served"]),
              "short": ", ".join(z["short"]) or "–"} for z in (analysis.zone_loss if analysis is not None else [])]
    stages = getattr(results, "stages", None)
    stage_rows = []
    if stages is not None and len(stages):
        for r in stages.itertuples():
            if r.stage in LOAD_STAGES:
                stage_rows.append({"stage": r.stage, "mean": _mins(r.downtime_minutes_per_year),
                                   "ci": f"{_mins(max(r.ci_low, 0))} – {_mins(r.ci_high) if math.isfinite(r.ci_high) else '–'}"})
    collapsing = [n for n, s in scenario.services.items() if s.overload is not None]
    frame = getattr(results, "services", None)
    collapsed = []
    if frame is not None and collapsing:
        for r in frame.itertuples():
            if r.service in collapsing:
                collapsed.append({"service": r.service, "mean": _duration(r.overload_hours_per_year),
                                  "ci": f"{_duration(max(r.overload_ci_low, 0.0))} – "
                                        + (_duration(r.overload_ci_high) if math.isfinite(r.overload_ci_high) else "–")})
    scaled = [n for n, s in scenario.services.items() if s.autoscaling is not None and n in loaded]
    guarded = [f"{n} → {d}" for n, s in scenario.services.items() for d in (s.breakers or {})]
    return {
        "has_load": bool(loaded), "pools": pools, "zones": zones, "stage_rows": stage_rows,
        "collapsed": collapsed, "scaled": scaled, "guarded": guarded,
        "collapsing": collapsing, "failing_zones": [z["zone"] for z in zones if not z["survives"]],
        "chart": _svg(lambda ax: plot.utilisation(scenario, ax=ax), (7.4, 3.3), "utilisation") if pools else "",
    }


def _sensitivity_context(results, scenario, sensitivity, compute: bool, replicas: int | None,
                         engine: str) -> dict:
    from hasim.present import plot

    ctx: dict[str, Any] = {"status": "off", "note": None}
    frame = sensitivity
    if frame is None and compute:
        from hasim.studies.sensitivity import default_replicas
        from hasim.studies.sensitivity import sensitivity as run

        n = default_replicas(scenario, replicas)
        frame = run(scenario, replicas=n, seed=results.seed, horizon=results.horizon, engine=engine)
    if frame is None:
        ctx["note"] = "not computed for this report (hasim report --no-sensitivity)."
        return ctx
    attrs = frame.attrs

    def side(delta, half, value, unit):
        if not math.isfinite(delta):
            return {"text": "–", "cls": "", "value": None}
        sig = math.isfinite(half) and abs(delta) > half
        text = _delta(delta) + (f" ± {_delta(half)[1:]}" if math.isfinite(half) else "")
        cls = ("worse" if delta > 0 else "better") if sig else "ns"
        return {"text": text, "cls": cls, "value": plot._value_text(value, unit)}

    rows = []
    for r in frame.head(12).itertuples():
        rows.append({"parameter": r.parameter, "base": plot._value_text(r.base_value, r.unit),
                     "low": side(r.downtime_delta_low, r.downtime_delta_low_ci, r.low_value, r.unit),
                     "high": side(r.downtime_delta_high, r.downtime_delta_high_ci, r.high_value, r.unit),
                     "note": r.note})
    skipped = [r.parameter + ": " + r.note for r in frame.itertuples() if r.note]
    surprises = _surprises(frame.head(12), scenario)
    n_rows = min(len(frame[frame["effect"].notna()]), 12)
    ctx.update(
        status="ok",
        chart=_svg(lambda ax: plot.tornado(frame, ax=ax), (_WIDE, _figure_height(n_rows, 1.3, 0.42)), "tornado"),
        rows=rows, skipped=skipped, n_parameters=len(frame), surprises=surprises,
        replicas=attrs.get("replicas"), seed=attrs.get("seed"),
        main_replicas=results.n_replicas if hasattr(results, "n_replicas") else results.to_dict()["replicas"],
        baseline=_mins(attrs.get("baseline_downtime", math.nan)),
        factors=attrs.get("factors", (0.5, 2.0)),
    )
    return ctx


#: Which way a parameter should move the downtime: +1 when raising it should make things worse
#: (each mechanism says so for its own parameters).
_WORSE_WHEN_RAISED = worse_when_raised()


def _quorum_why(scenario, name: str, n: int) -> str | None:
    """Why a quorum of ``n`` can be worse than the scenario's: more zones whose loss breaks the majority."""
    svc = scenario.services.get(name)
    if svc is None or svc.mode != "quorum" or not svc.zones:
        return None

    def breaking(count: int) -> tuple[int, list[str]]:
        need = count // 2 + 1
        placed = [svc.zones[i % len(svc.zones)] for i in range(count)]
        zones = list(dict.fromkeys(svc.zones))     # (a parent zone takes every instance, whatever the count)
        return need, [z for z in zones if count - sum(z in scenario.zone_chain(p) for p in placed) < need]

    need, bad = breaking(n)
    _, bad0 = breaking(svc.replicas)
    if len(bad) <= len(bad0):
        return None
    return (f"{name} is a quorum: {need} of {n} must be up. Spread round-robin over {', '.join(svc.zones)}, "
            f"losing {' or '.join(bad)} leaves it without a majority with {n}, against "
            f"{' or '.join(bad0) if bad0 else 'no single zone'} with {svc.replicas}.")


def _surprises(frame, scenario) -> list[str]:
    """Notes on sensitivity rows where a change that should cost availability gains some (beyond its CI),
    naming the mechanism when the design has one: a failover router reacts to full outages only."""
    notes = []
    routers = [(n, s) for n, s in scenario.services.items() if s.is_router and s.route == "failover"
               and len(s.targets) > 1]
    for r in frame.itertuples():
        sign = _WORSE_WHEN_RAISED.get(r.kind)
        if sign is None:
            continue
        for side, delta, half, value in (("low", r.downtime_delta_low, r.downtime_delta_low_ci, r.low_value),
                                         ("high", r.downtime_delta_high, r.downtime_delta_high_ci, r.high_value)):
            direction = -1 if side == "low" else 1
            if not (math.isfinite(delta) and math.isfinite(half) and abs(delta) > half):
                continue
            if (delta > 0) == (direction * sign > 0):   # moved the expected way
                continue
            from hasim.present import plot

            change = f"{r.parameter} {plot._value_text(r.base_value, r.unit)} → {plot._value_text(value, r.unit)}"
            if r.kind == "replicas":
                although = "removes redundancy" if side == "low" else "adds redundancy"
            else:
                although = "should cost availability" if delta < 0 else "should help"
            head = (f"<strong>{change}</strong> {'saves' if delta < 0 else 'costs'} {abs(delta):.3g} ± {half:.2g} "
                    f"min/year although it {although}.")
            parts = r.path.split(".")
            touched: set[str] = set()
            if parts[0] == "services" and len(parts) > 1:
                touched = {parts[1]}
            elif parts[0] == "zones" and len(parts) > 1:
                touched = {n for n, s in scenario.services.items()
                           if any(parts[1] in scenario.zone_chain(z) for z in s.zones)}
            why = None
            if r.kind == "replicas" and len(touched) == 1:
                why = _quorum_why(scenario, next(iter(touched)), int(value))
            for name, router in routers if why is None else []:
                for i, target in enumerate(router.targets[:-1]):
                    if touched & reach(scenario, start=target):
                        why = (f"{name} (<code>route: failover</code>) leaves {target} only when it serves nothing "
                               f"at all. The change turns some partial outages of {target}, which {name} rides "
                               f"out at reduced service until the repair, into full ones, which it moves to "
                               f"{router.targets[i + 1]} within its health check and DNS TTL: a full outage "
                               f"triggers a failover that a partial one does not.")
                        break
                if why:
                    break
            if why is None:
                why = ("No router of this design explains it: look for a mechanism that reacts only to a "
                       "complete loss (a standby promotion, a cache serving stale).")
            notes.append(_markup(head + " " + why))
    return notes


def _architecture_context(results, scenario, analysis) -> dict:
    from hasim.present import plot

    services = results.services
    avail = dict(zip(services["service"], services["request_availability"].astype(float)))
    exact = {s["service"]: s["request_availability"] for s in analysis.services} if analysis is not None else {}
    rows = []
    order = {name: i for i, name in enumerate(scenario.services)}
    services = services.sort_values("service", key=lambda col: col.map(lambda n: order.get(n, len(order))))
    for r in services.itertuples():
        rows.append({"service": r.service, "role": r.role, "value": _pct(r.request_availability),
                     "ci": _pct_range(r.ci_low, r.ci_high),
                     "exact": _pct(exact[r.service]) if r.service in exact else "–",
                     "description": scenario.services[r.service].description
                     if r.service in scenario.services else ""})
    figsize = plot.architecture_size(scenario)
    return {"chart": _svg(lambda ax: plot.architecture(scenario, ax=ax, availability=avail), figsize, "arch"),
            "rows": rows, "has_exact": bool(exact)}


def _timeline_context(results, scenario) -> dict:
    from hasim.present import plot

    rep = plot.representative_outage(results)
    trace = plot._find_trace(scenario, rep) if rep is not None else None
    size = plot.outage_timeline_size(trace, _WIDE)
    ctx = {"chart": _svg(lambda ax: plot.outage_timeline(results, scenario, ax=ax, outage=rep, trace=trace),
                         size, "timeline"), "outage": None, "trace": None}
    if rep is not None:
        weighted = not math.isclose(rep["outages"], rep["count"])
        ctx["outage"] = {"cause": rep["cause"], "median": _duration(float(rep["median_duration_h"])),
                         "q1": _duration(float(rep["q1_h"])), "q3": _duration(float(rep["q3_h"])),
                         "count": rep["count"], "outages": f"{rep['outages']:,.0f}" if weighted else None,
                         "is_top": bool(rep.get("is_top"))}
    if trace is not None:
        from hasim.sim.trace import _ABS_TOL_H, _REL_TOL

        scale, unit = plot._time_unit(trace.duration_h)
        ctx["trace"] = {"replica": trace.replica, "seed": trace.seed, "duration": _duration(trace.duration_h),
                        "lost": f"{trace.lost_hours * scale:.3g} request-{unit}",
                        "unit": unit[:-1], "exact_match": trace.exact_match, "tried": trace.tried,
                        "tolerance": _duration(max(_REL_TOL * trace.target_h, _ABS_TOL_H))}
    return ctx


def _service_rows(scenario) -> list[dict]:
    rows = []
    for name, svc in scenario.services.items():
        if svc.is_router:
            role = f"router ({svc.route})"
            if svc.weights:
                role += " weights " + "/".join(f"{w:g}" for w in svc.weights)
        elif svc.mode == "active":
            role = "active" + (f", min_healthy {svc.min_healthy}" if svc.min_healthy > 1 else "")
        elif svc.mode == "standby":
            role = f"standby ({svc.standby}" + (f", warm ×{svc.warm_factor:g}" if svc.standby == "warm" else "") + ")"
        else:
            role = "quorum"
        if name == scenario.entry:
            role += " · entry"
        count = f"{svc.replicas}" + (f" × {svc.shards} shards" if svc.shards > 1 else "")
        if svc.is_router and not svc.has_instances:
            count = "–"
        said = {column: [phrase for m in MECHANISMS if m.column == column for phrase in m.describe(svc)]
                for column in ("failover", "routing", "deps")}
        failover = ", ".join(said["failover"]) or "–"
        routing = said["routing"]
        deps = []
        if svc.targets:
            deps.append("targets " + " → ".join(svc.targets))
        if svc.requires:
            deps.append("requires " + ", ".join(svc.requires))
        deps += said["deps"]
        if svc.optional:
            deps.append("optional " + ", ".join(svc.optional))
        rows.append({"name": name, "description": svc.description, "role": role, "count": count,
                     "zones": ", ".join(svc.zones) or "–", "failure": _law(svc.failure), "repair": _law(svc.repair),
                     "failover": failover, "routing": "; ".join(routing) or "–", "deps": "; ".join(deps) or "–"})
    return rows


def _assumptions_context(results, scenario, source_text: str | None) -> dict:
    from hasim.present import plot
    from hasim.model.io import dump

    zones = []
    for name, z in scenario.zones.items():
        placed = [s for s, svc in scenario.services.items() if any(name in scenario.zone_chain(x) for x in svc.zones)]
        zones.append({"name": name, "within": z.within or "–", "failure": _law(z.failure), "repair": _law(z.repair),
                      "services": ", ".join(placed) or "–"})
    settings = [("entry", scenario.entry), ("slo", f"{scenario.slo:g} %" if scenario.slo is not None else "none"),
                ("horizon", format_duration(scenario.horizon)), ("replicas", str(scenario.replicas)),
                ("seed", str(scenario.seed)),
                ("SLO window", f"{format_duration(scenario.window)} (a {plot.window_name(scenario.window)})"
                 if " " not in plot.window_name(scenario.window) else format_duration(scenario.window))]
    services = _service_rows(scenario)
    columns = {key: any(r[key] != "–" for r in services) for key in ("failover", "routing", "deps")}
    routers = [{"name": n, "targets": list(s.targets), "hc": s.health_check is not None}
               for n, s in scenario.services.items() if s.is_router and s.route == "failover" and s.targets]
    mechanisms = [{"name": m.name.replace("_", " "), "stage": m.stage, "summary": m.summary, "used_by": ", ".join(users)}
                  for m, users in in_use(scenario)]
    return {"services": services, "columns": columns, "zones": zones, "settings": settings, "routers": routers,
            "mechanisms": mechanisms,
            "text": source_text if source_text is not None else dump(scenario),
            "text_kind": "scenario file" if source_text is not None else "scenario (hasim.dump)"}


def _reproducibility_context(results, scenario, command: str | None, text: str, sensitivity_ctx: dict) -> list:
    from hasim.present import plot

    info = results.to_dict()
    versions = [f"Python {platform.python_version()}"]
    for mod in ("numpy", "numba", "pandas", "matplotlib"):
        m = sys.modules.get(mod)
        if m is not None and getattr(m, "__version__", None):
            versions.append(f"{mod} {m.__version__}")
    rows = [
        ("hasim", __version__),
        ("engine", str(info.get("engine"))),
        ("seed", str(info.get("seed"))),
        ("replicas", f"{info.get('replicas')} independent histories"),
        ("horizon", f"{format_duration(info['horizon_hours'])} per history"),
        ("SLO window", f"{format_duration(info['window_hours'])} ({plot.window_name(info['window_hours'])})"),
        ("events simulated", f"{info.get('events', 0):,}"),
        ("run time", f"{info.get('elapsed_seconds', 0):.2f} s"),
        ("scenario SHA-256", hashlib.sha256(text.encode()).hexdigest()[:16] + "…"),
        ("command", command or "not recorded (built from Python)"),
        ("generated", _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("software", ", ".join(versions)),
    ]
    if sensitivity_ctx.get("status") == "ok":
        rows.insert(4, ("sensitivity runs", f"{sensitivity_ctx['replicas']} replicas per variant, seed "
                                            f"{sensitivity_ctx['seed']}"))
    return rows


def _experiments_context(experiments) -> dict:
    """The fault experiments run with the report (:func:`hasim.chaos` results), each with its chart,
    measures and expectations as the command line words them."""
    from hasim.present import plot

    items = []
    for r in experiments or ():
        m = r.measures()
        rows = []
        for key in ("time_to_detect", "time_to_recover", "time_to_full_health", "lost", "writes_lost", "min_served"):
            row = m.loc[key]
            share = row["unit"] == "share"
            fmt = (lambda x: f"{x:.1%}") if share else _chaos_hours
            if row["unrecovered"]:
                mean, ci = "n/a", f"{int(row['unrecovered'])} of {r.replicas} still out at the end"
            else:
                mean = fmt(row["mean"])
                ci = "exact (every replica)" if row["exact"] else f"{fmt(row['ci_low'])} – {fmt(row['ci_high'])}"
            rows.append({"label": row["label"], "mean": mean, "ci": ci, "p95": fmt(row["p95"]),
                         "worst": fmt(row["worst"])})
        expectations = []
        for e in r.expectations().itertuples():
            share = e.expectation.endswith("min_served")
            fmt = (lambda x: f"{x:.1%}") if share else _chaos_hours
            expectations.append({"key": e.expectation, "stated": fmt(e.stated), "worst": fmt(e.measured),
                                 "missed": f"{e.missed:.1%} [{e.missed_ci_low:.1%}, {e.missed_ci_high:.1%}]",
                                 "passed": bool(e.passed)})
        stages = ", ".join(f"{s.stage} {s.share:.0%}" for s in r.lost_by_stage().itertuples())
        items.append({"name": r.experiment.name, "description": r.experiment.description.strip(),
                      "passed": r.passed, "faults": [f.label for f in r.plan.faults],
                      "replicas": r.replicas, "engine": r.engine, "background": r.experiment.background,
                      "rows": rows, "expectations": expectations, "stages": stages,
                      "chart": _svg(lambda ax, r=r: plot.chaos_timeline(r, ax=ax), (_WIDE, 3.4),
                                    f"chaos-{r.experiment.name}")})
    return {"items": items, "passed": sum(1 for i in items if i["passed"] is True),
            "failed": sum(1 for i in items if i["passed"] is False)}


def _chaos_hours(h: float) -> str:
    """As ``hasim chaos`` words a time: three figures between 1 and 100 minutes."""
    if math.isinf(h):
        return "not recovered"
    m = h * 60.0
    return f"{m:.3g} min" if 1.0 <= m < 100.0 else _minutes_text(m)
