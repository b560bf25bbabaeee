"""Alerting: rules evaluated on the entry's simulated error ratio, and what each one catches.

The guide alerts with a Prometheus rule: ``sum(rate(5xx[5m])) / sum(rate(requests[5m])) > 0.05
for: 2m``.  ``alerts:`` at the top level names such rules; both engines evaluate every rule as
Prometheus does, on a grid (``every``, Prometheus' ``evaluation_interval``, default 1 minute, from a
random phase per history), on the error ratio of the entry's requests (1 minus its served fraction):

* a threshold rule, ``{error_rate: 5%, over: 5m, for: 2m}``: the ratio over the last ``over``
  (0: the ratio at the evaluation itself) above ``error_rate``;
* a burn-rate rule (the SRE workbook's multiwindow, multi-burn-rate alert), ``{burn_rate: 14.4,
  long: 1h, short: 5m}``: the ratio over both windows above ``burn_rate x (1 - slo)``, the rate at
  which the error budget of the scenario's ``slo`` burns;

and it *fires* (pages) once its condition has held at every evaluation for ``for`` (Prometheus'
pending state), until an evaluation finds it false.  Windows are whole numbers of evaluations.

What a rule catches, per history (:meth:`hasim.results.summary.Results.alerts`): its pages; the
incidents of the entry (outages: maximal intervals below full service) it paged for while they
lasted, and how long after each began (the time to detect) and how much of the error budget had
burned by then; the incidents it missed (over before it fired); its late pages (fired when no incident was in progress:
its window still holds one that ended); and its false pages (fired when no incident was in progress,
on noise alone).

The noise (``alert_noise:`` at the top level, :class:`AlertNoise`) is what a rule sees that the
SLO does not count: the simulated error ratio is 0 while the entry serves in full, but a real
service's 5xx rate is not.  A bad client's requests, a scrape that caught a restarting pod, a few
seconds of a dependency's retries that healed: short spikes of errors that cost no availability and
page anyway.  Spikes come ``per_day`` (a Poisson stream, one at a time), each adding ``errors`` to
the error ratio the rules evaluate for ``lasting`` (a duration or a law); a page with no incident
in progress whose condition would not hold on the simulated loss alone is false.  The Google SRE
workbook's case against alerting on any error is this: a spike of 10 % for 40 s pages a rule on the
ratio at each evaluation (every 1 min) 40/60 of the time, and the guide's 5 min window, which sees
it as at most 10 % x 40 s / 5 min = 1.3 %, never.  Closed form: a threshold rule at the evaluation
(``over: 0``) with ``for: F`` pages for a spike above its threshold lasting ``L`` with probability
``min(1, max(0, (L - F) / every))``.

A rule acts where a change names it (``deploys: {alert: <rule>}``, or a config push's): the first
evaluation that finds it firing while a bad release of that change is out notices the release,
which stops its rollout and starts its rollback (paged, the on-call's response first); the loss
until then is charged to the ``alerting`` stage.  A rule no change names only measures: it changes
no served fraction, and its phase comes from a stream of its own, so declaring it moves no other
number.  Closed form (the tests hold both engines to it): a step of error ratio ``x`` above the
threshold ``q`` at a random phase is paged for ``W q / x + U + F`` after it began, ``W`` the (long)
window, ``F`` the ``for``, ``U`` uniform on [0, every] (the wait for the next evaluation).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from hasim.model._types import Delay, HasimModel, PositiveDuration, PositiveFloat, Share, inconsistent
from hasim.model.deploys import Law
from hasim.model.mechanism import Knob, Mechanism

__all__ = ["AlertRule", "AlertNoise", "MECHANISM", "threshold", "windows", "watched_rules"]

_MINUTE = 1.0 / 60.0


class AlertRule(HasimModel):
    """One alert rule on the entry's error ratio (see the module docstring).

    Threshold: ``error_rate`` (with ``over``, the window, 0 for the ratio at the evaluation); burn
    rate: ``burn_rate`` with ``long`` and ``short`` windows; both: ``for`` and ``every``.
    """

    error_rate: Share | None = None
    over: Delay = 0.0
    burn_rate: PositiveFloat | None = None
    long: PositiveDuration | None = None
    short: PositiveDuration | None = None
    for_: Delay = Field(default=0.0, alias="for")
    every: PositiveDuration = _MINUTE

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.error_rate is None) == (self.burn_rate is None):
            inconsistent("error_rate", "give one of error_rate (a threshold rule, e.g. 5%) or burn_rate (a multiwindow "
                               "burn-rate rule, e.g. 14.4 with long: 1h and short: 5m)")
        if self.burn_rate is not None:
            for key in ("long", "short"):
                if getattr(self, key) is None:
                    inconsistent(key, "a burn-rate rule needs '{k}' (its {w} window, e.g. {e})", k=key,
                         w=key, e="1h" if key == "long" else "5m")
            if not self.short < self.long:
                inconsistent("short", "the short window ({s}) must be shorter than the long one ({l})",
                     s=self.short, l=self.long)
            if "over" in self.model_fields_set:
                inconsistent("over", "'over' is a threshold rule's window; a burn-rate rule has long and short")
        else:
            for key in ("long", "short"):
                if getattr(self, key) is not None:
                    inconsistent(key, "'{k}' is a burn-rate rule's window; a threshold rule has 'over'", k=key)
        for key in ("over", "long", "short", "for_"):
            value = getattr(self, key)
            if value and abs(value / self.every - round(value / self.every)) > 1e-6:
                inconsistent("for" if key == "for_" else key, "expected a whole number of evaluations (every {e} h), "
                     "got {v} h", e=round(self.every, 9), v=round(value, 9))
        return self


class AlertNoise(HasimModel):
    """Spikes of errors the alert rules see and the SLO does not count (see the module docstring):
    ``per_day`` of them, each adding ``errors`` to the entry's error ratio for ``lasting``."""

    per_day: PositiveFloat
    errors: Share
    lasting: Law


def windows(rule: AlertRule) -> tuple[int, int]:
    """The rule's windows in evaluations: ``(over or long, short)`` (0: none)."""
    first = rule.over if rule.burn_rate is None else rule.long
    second = 0.0 if rule.burn_rate is None else rule.short
    return round(first / rule.every), round(second / rule.every)


def threshold(rule: AlertRule, slo: float | None) -> float:
    """The error ratio above which the rule's condition holds: ``error_rate``, or ``burn_rate x
    (1 - slo)``."""
    if rule.burn_rate is None:
        return rule.error_rate
    return rule.burn_rate * (1.0 - slo / 100.0)


def watched_rules(sc) -> list[str]:
    """The rules some change is noticed by (``deploys.alert``, a config push's ``alert``), in
    declaration order."""
    named = {s.deploys.alert for s in sc.services.values() if s.deploys is not None}
    named |= {push.alert for push in sc.config_pushes.values()}
    return [name for name in sc.alerts if name in named]


def _knobs(sc) -> list[Knob]:
    # Only the rules that act: a rule that only measures buys no availability whatever its threshold.
    out = []
    for name in watched_rules(sc):
        rule = sc.alerts[name]
        base = f"alerts.{name}"
        if rule.burn_rate is None:
            out.append(Knob(f"alert {name} error-rate threshold", f"{base}.error_rate", "alert_threshold",
                            rule.error_rate, lambda f, v=rule.error_rate: min(1.0, v * f), "ratio"))
        else:
            out.append(Knob(f"alert {name} burn rate", f"{base}.burn_rate", "alert_threshold", rule.burn_rate,
                            lambda f, v=rule.burn_rate: v * f, "ratio"))
        if rule.for_ > 0:
            # Whole evaluations only (the rule's own check): the scaled 'for' rounds to its grid.
            out.append(Knob(f"alert {name} for", f"{base}.for", "alert_for", rule.for_,
                            lambda f, v=rule.for_, e=rule.every: max(0.0, round(v * f / e)) * e))
    return out


MECHANISM = Mechanism(
    name="alerts", stage="alerting",
    summary="Alert rules on the entry's error ratio (thresholds, multiwindow burn rates), evaluated as Prometheus "
            "does: what each pages for, how fast, what it misses.",
    worse_when_raised={"alert_threshold": +1, "alert_for": +1},
    scenario_knobs=_knobs,
    used_by=lambda sc: [sc.entry] if sc.alerts else [],
    # No term of its own: a rule costs nothing until it notices a change, whose term asks
    # hasim.analytic.mechanisms.alerts when the rule pages.
    parts={"kernel": "hasim.sim.kernel._alerts", "reference": "hasim.sim.reference.alerts",
           "tests": "tests/mechanisms/test_alerts.py"},
)
