"""Text and JSON output shared by the commands: tables, intervals, run times, verdicts, ``hasim run``'s summary."""

from __future__ import annotations

import math

from hasim.text import interval_digits, minutes, nines_text, percent
from hasim.text import plural as _plural
from hasim.text import rate as _rate
from hasim.units import format_duration  # noqa: F401 - the CLI's number formats, one import away (tests)
from hasim.results.estimate import MIN_OUTAGES


def table(rows: list[list[str]], header: list[str], indent: str = "  ") -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned (numbers).

    Parameters
    ----------
    rows : list of list of str
        The cells, one list per row.
    header : list of str
        Column titles, underlined with dashes.
    indent : str
        Prefix of every line.

    Returns
    -------
    str
        The lines joined by newlines, trailing blanks stripped.
    """
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = lambda r: indent + "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)  # noqa: E731
                                       for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return "\n".join([fmt(header), indent + "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows])


def _interval(metric: dict, fmt, higher_is_better: bool = False) -> str:
    """``[lo, hi]`` of a metric's 95 % CI; for an estimate that saw no outage the one-sided bound
    (``>= lo`` for an availability, ``<= hi`` for a loss), which is all such a run can claim."""
    lo, hi = metric["ci95"]
    if metric.get("one_sided"):
        if higher_is_better:
            return "(no bound)" if lo is None else f"(>= {fmt(lo)}, one-sided 95 %)"
        return "(no bound)" if hi is None else f"(<= {fmt(hi)}, one-sided 95 %)"
    if lo is None or hi is None:
        return "(no interval)"
    if lo == hi:
        return "(no spread between replicas: no interval)"
    return f"[{fmt(lo)}, {fmt(hi)}]"


def _seconds(t: float) -> str:
    if t < 10:
        return f"{t:.2f} s"
    if t < 120:
        return f"{t:.0f} s"
    return f"{int(t // 60)} min {int(t % 60):02d} s"


def run_time(result) -> str:
    """``simulated in 0.61 s`` and, when the kernel had to be compiled or loaded, that time apart."""
    text = f"simulated in {_seconds(result.elapsed_seconds)}"
    compile_s = getattr(result, "compile_seconds", math.nan)
    if compile_s is None or not math.isfinite(compile_s):
        return text
    # Loading from the cache takes about a second; tens of seconds mean numba compiled after all
    # (a cache written for another CPU or numba), whatever the cache index promised.
    if getattr(result, "kernel_compiled", False) or compile_s >= 20.0:
        return text + f" (+ {_seconds(compile_s)} compiling the numba kernel, once per machine)"
    if compile_s >= 1.0:
        return text + f" (+ {_seconds(compile_s)} loading the numba kernel)"
    return text


def _on(where: str | None) -> str:
    return f" on {where}" if where else ""


def _describe_client(client) -> str | None:
    """``Dask tcp://10.0.0.5:8786, 4 workers, 8 threads`` for a run header (None without Dask)."""
    if client is None:
        return None
    try:
        address = client.scheduler.address
        threads = client.nthreads()
    except Exception:  # noqa: BLE001 - a header must not fail a run that worked
        return "Dask"
    return (f"Dask {address}, {_plural(len(threads), 'worker')}, "
            f"{_plural(sum(threads.values()), 'thread')}")


def verdict_text(v: dict, replicas: int | None = None, years: float | None = None) -> tuple[str, str]:
    """(the verdict in words, a second line of advice or "") of :func:`hasim.results.estimate.slo_verdict`."""
    status, advice = v["status"], v.get("advice") or ""
    if status == "met":
        return "met", ""
    if status == "not-met":
        return "NOT met", ""
    if status == "too-close":
        return "too close to call (the CI straddles the target)", advice
    where = f" in {_plural(replicas, 'replica')} x {years:g} y" if replicas is not None and years is not None else ""
    outages = v.get("outages")
    if outages is None or replicas is not None and replicas < 2:
        seen = v["reason"]
    else:
        seen = ("no outage" if not outages else _plural(outages, "outage")) + \
            f" observed{where}, at least {v['min_outages']} needed"
    return f"insufficient evidence ({seen})", advice


def precision_sentence(info: dict, replicas: int) -> str:
    """One line on a ``--precision`` run: whether the target was reached, and why it stopped."""
    rel = info.get("relative_half_width")
    achieved = f"{100 * rel:.3g} %" if rel is not None else "undefined"
    head = f"precision target {100 * info['target']:g} %"
    if info.get("reached"):
        return f"{head}: reached with {replicas} replicas (CI half-width {achieved} of the unavailability)"
    if info.get("stop_reason") == "max_replicas":
        return (f"{head}: NOT reached, stopped at the --max-replicas cap of {info.get('max_replicas')} "
                f"(CI half-width {achieved} of the unavailability)")
    if info.get("stop_reason") == "zero_unavailability":
        return (f"{head}: NOT reached, no downtime in {replicas} replicas (the --max-replicas cap): "
                "the unavailability is only bounded above")
    return f"{head}: NOT reached ({info.get('stop_reason')}, {replicas} replicas, half-width {achieved})"


def _recovery_lines(r, seen: int) -> list[str]:
    """The recovery time of the incidents (quantiles, with intervals where the run saw enough beyond
    them) and, with an ``rto``, how often an incident outlasts it."""
    if not hasattr(r, "recovery"):
        return []
    lines = []
    if seen:
        parts = []
        for row in r.recovery.itertuples():
            if row.measure == "mean":
                continue
            if math.isfinite(row.ci_low):
                ci = f" [{minutes(60 * row.ci_low)}, {minutes(60 * row.ci_high)}]"
            elif row.exact_share > 0:
                ci = f" (exactly, for {100 * row.exact_share:.0f} % of incidents)"
            else:
                ci = ""
            parts.append(f"{row.measure} {minutes(60 * row.hours)}{ci}")
        lines.append(f"  recovery (RTO)        {', '.join(parts)}  (first lost request to full service)")
    b = r.rto_breaches()
    if b is not None:
        rate, share = b["per_year"], b["share"]["mean"]
        lo, hi = rate["ci95"]
        figure = f"<= {_rate(hi)}" if rate["one_sided"] else f"{_rate(rate['mean'])}  [{_rate(lo)}, {_rate(hi)}]"
        lines.append(f"  {'RTO ' + format_duration(b['rto_hours']):<20}  {figure} incidents/year take longer"
                     + (f" ({100 * share:.2g} % of incidents)" if math.isfinite(share) else ""))
    return lines


def _data_loss_lines(r) -> list[str]:
    """Per replicated service: incidents a year, the window's quantiles and the writes lost a year;
    with an ``rpo``, how often an incident loses more."""
    frame = getattr(r, "data_loss", None)
    if frame is None or frame.empty:
        return []
    lines = []
    label = "data loss (RPO)"
    for (name, mode), rows in frame.groupby(["service", "mode"], sort=False):
        copy_of = rows.copy_of.iloc[0]
        rows = rows.set_index("measure")
        per_year, lost = rows.loc["incidents/year"], rows.loc["writes lost/year"]
        parts = [f"{_rate(per_year.value)} incidents/year"]
        for measure in ("window p50", "window p99"):
            row = rows.loc[measure]
            if not math.isfinite(row.value):
                continue
            if math.isfinite(row.ci_low):
                ci = f" [{minutes(60 * row.ci_low)}, {minutes(60 * row.ci_high)}]"
            elif row.exact_share > 0:
                ci = f" (exactly, for {100 * row.exact_share:.0f} %)"
            else:
                ci = ""
            parts.append(f"{measure.split()[1]} {minutes(60 * row.value)}{ci}")
        hi = lost.ci_high
        parts.append(f"{minutes(60 * lost.value)}" + (f" [{minutes(60 * lost.ci_low)}, {minutes(60 * hi)}]"
                                                    if math.isfinite(hi) else "") + " of writes lost/year")
        what = f"{mode} copy of {copy_of}" if isinstance(copy_of, str) else mode  # pandas holds None as NaN
        lines.append(f"  {label:<20}  {name} ({what}): {', '.join(parts)}")
        label = ""
    b = r.rpo_breaches()
    if b is not None:
        rate, share = b["per_year"], b["share"]["mean"]
        lo, hi = rate["ci95"]
        figure = f"<= {_rate(hi)}" if rate["one_sided"] else f"{_rate(rate['mean'])}  [{_rate(lo)}, {_rate(hi)}]"
        lines.append(f"  {'RPO ' + format_duration(b['rpo_hours']):<20}  {figure} incidents/year lose more writes"
                     + (f" ({100 * share:.2g} % of incidents)" if math.isfinite(share) else ""))
    return lines


def _alert_lines(r) -> list[str]:
    """Per alert rule: pages a year, the share of incidents it paged for, how fast, what it missed."""
    frame = getattr(r, "alerts", None)
    if frame is None or frame.empty:
        return []
    lines = []
    label = "alerts"
    for name, rows in frame.groupby("rule", sort=False):
        rows = rows.set_index("measure")
        share, ttd = rows.loc["detected share"], rows.loc["minutes to detect"]
        parts = [f"{_rate(rows.loc['pages/year'].value)} pages/year"]
        if math.isfinite(share.value):
            cover = rows.loc["downtime share paged"].value
            parts.append(f"pages for {100 * share.value:.3g} % of incidents"
                         + (f" ({100 * cover:.3g} % of the downtime)" if math.isfinite(cover) else ""))
        if math.isfinite(ttd.value):
            if math.isfinite(ttd.ci_low):
                k = 2  # digits enough for the interval's ends to differ: an interval, not a certainty
                while k < 6 and f"{ttd.ci_low:.{k}g}" == f"{ttd.ci_high:.{k}g}":
                    k += 1
                parts.append(f"after {ttd.value:.{k}g} min [{ttd.ci_low:.{k}g}, {ttd.ci_high:.{k}g}]")
            else:
                parts.append(f"after {minutes(ttd.value)}")
        parts.append(f"misses {_rate(rows.loc['missed/year'].value)}/year")
        if r.labels.scenario.alert_noise is not None:
            parts.append(f"{_rate(rows.loc['false pages/year'].value)} false pages/year")
        lines.append(f"  {label:<20}  {name}: {', '.join(parts)}")
        label = ""
    return lines


def format_results(result, quiet: bool = False, where: str | None = None) -> str:
    """The text summary of ``hasim run``.

    Parameters
    ----------
    result : Results
        One simulation.
    quiet : bool
        Only the headline figures (no SLA tiers, stages or causes tables).
    where : str, optional
        The Dask cluster it ran on, for the header (:func:`_describe_client`).

    Returns
    -------
    str
        The lines, without a trailing newline.
    """
    r = result
    ra, ta = r.metric("request_availability"), r.metric("time_availability")
    down = r.metric("downtime_minutes_per_year")
    years = r.horizon / 8760.0
    start = f" after a {getattr(r, 'warmup', 0.0) / 8760.0:g} y warm-up" if getattr(r, "warmup", 0.0) > 0 else ""
    lines = [f"{r.scenario}: {_plural(r.n_replicas, 'replica')} x {years:g} y{start}, seed {r.seed}, {r.engine} engine"
             f"{_on(where)}, {run_time(r)} ({r.events / 1e6:.3g} M events)", ""]
    seen = r.total_outages
    if seen == 0:
        # Every replica is at 100 %: a point would look certain. All the run shows is a bound.
        lines.append(f"  request availability  no outage observed in {_plural(r.n_replicas, 'replica')} x "
                     f"{years:g} y: {_interval(ra, percent, True)}")
        lines.append(f"  time availability     {_interval(ta, percent, True)}")
        lines.append(f"  downtime              {_interval(down, lambda x: minutes(max(x, 0)))} per year")
    else:
        for label, m, tail in (("request availability", ra, f"  {nines_text(ra['mean'])}"),
                               ("time availability   ", ta, "")):
            digits = interval_digits(m["mean"], *m["ci95"]) if None not in m["ci95"] else None
            lines.append(f"  {label}  {percent(m['mean'], digits)}  {_interval(m, lambda x: percent(x, digits))}"
                         f"{tail}")
        lines.append(f"  downtime              {minutes(down['mean'])}/year  "
                     f"{_interval(down, lambda x: minutes(max(x, 0)))}")
        if seen < MIN_OUTAGES:
            lines.append(f"  {'':<20}  these intervals rest on {_plural(seen, 'outage')} (fewer than "
                         f"{MIN_OUTAGES}): read them as indicative")
    if r.slo is not None:
        v = r.slo_verdict()
        words, advice = verdict_text(v, r.n_replicas, years)
        lines.append(f"  {f'SLO {r.slo:g} %':<20}  {words}")
        if advice:
            lines.append(f"  {'':<20}  {advice}")
    breach = r.metric("p_window_breach")
    per_year = r.metric("breach_windows_per_year")
    fraction = lambda x: f"{100 * x:.2f} %"  # noqa: E731
    lines.append(f"  P(a {r.window:g} h window misses {r.slo_used:g} %)  {fraction(breach['mean'])}  "
                 + f"{_interval(breach, fraction)}   "
                 + f"{_rate(per_year['mean'])} breach windows/year")
    outages = r.metric("outages_per_year")
    lines.append(f"  outages               {_rate(outages['mean'])}/year"
                 + (f", mean {minutes(r.metric('mean_outage_minutes')['mean'] or 0)}" if seen else "")
                 + f" ({_plural(seen, 'outage')} in all)")
    lines += _recovery_lines(r, seen)
    lines += _data_loss_lines(r)
    lines += _alert_lines(r)
    info = getattr(r, "precision_info", None)
    if info:
        lines.append("  " + precision_sentence(info, r.n_replicas))
    if quiet:
        return "\n".join(lines)
    lines.append("")
    this = (f"<= {minutes(down['ci95'][1])}" if down.get("one_sided") and down["ci95"][1] is not None
            else minutes(down["mean"]))
    lines.append(table([[f"{t['tier']:g} %", minutes(t["allowed_minutes_per_year"]), this,
                         t["verdict"].replace("-", " ")] for t in r.tiers],
                       ["SLA tier", "allowed/year", "this design", "verdict"]))
    stages = getattr(r, "stages", None)
    shown = stages[stages["downtime_minutes_per_year"] > 0] if stages is not None else []
    if len(shown):
        lines.append("")
        lines.append(table([[row.stage, minutes(row.downtime_minutes_per_year),
                             f"[{minutes(max(row.ci_low, 0))}, {minutes(row.ci_high)}]", f"{100 * row.share:.1f} %"]
                            for row in shown.itertuples()], ["stage", "per year", "95 % CI", "share"]))
    att = r.attribution.head(8)
    if len(att):
        lines.append("")
        lines.append(table([[row.cause, minutes(row.downtime_minutes_per_year),
                             f"[{minutes(max(row.ci_low, 0))}, {minutes(row.ci_high)}]", f"{100 * row.share:.1f} %"]
                            for row in att.itertuples()],
                           ["top causes", "per year", "95 % CI", "share"]))
    return "\n".join(lines)


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    raise TypeError(f"not JSON serialisable: {value!r}")
