"""Changes (the ``rollback`` stage): releases of a service, some of them bad, exposed to users as the
rollout strategy exposes them until someone notices, then rolled back.

Most production outages start with a change (Google's SRE book: "roughly 70 % of outages are due to
changes in a live system"), and DORA's change failure rate, the share of deployments that cause a
failure in production, is 0-15 % for its best performers and up to 46-60 % for its lowest.

A service with ``deploys`` releases new versions at ``per_week`` (a Poisson stream) or ``every``
(a release train: one per period, at a random phase).  Each release is bad with probability ``bad``;
a bad release fails ``errors`` of the requests it receives (the process runs and answers its health
checks: the code is wrong, not the machine).  What share of the service's requests it receives is
the *exposure*, which the strategy sets, from the first exposed request (time 0):

* ``all_at_once``: every instance at once, exposure 1;
* ``blue_green``: the same switch of all traffic to the new (green) stack; its ``rollback`` is the
  switch back (seconds, where the others redeploy);
* ``rolling``: ``batch`` more of the instances every ``pause`` (exposure ``batch``, ``2 batch``, ...,
  up to 1);
* ``canary``: ``canary`` of the requests for ``bake``; the canary analysis at the end of the bake
  catches a bad release with probability ``catch``; one it misses is promoted to every instance.

A bad release is noticed ``detect`` after its first exposed request (the monitoring: a fixed time
or a law), or at the end of the bake if the canary analysis catches it first.  With ``alert: <rule>``
(a top-level alert rule, :mod:`hasim.model.alerts`) it is noticed at the first evaluation of that
rule that finds it firing while the release is out, if that comes first: ``detect`` is then when
someone notices a bad release the rule never pages for (a dashboard, customer reports).  From then
on the rollout stops (the exposure stays where it is) and ``rollback`` later the old version
serves everything again.  The loss before it is noticed is charged to ``detection`` (to
``alerting`` when a rule watches it), the loss while it is rolled back to ``rollback``; its root cause is
"change <service>".  With ``paged: true`` (and a top-level ``oncall``) the rollback waits for the
on-call engineer, paged when the bad release is noticed: that wait is charged to ``response`` (a
canary the analysis catches is aborted by the rollout controller: nobody is paged).  A
release that comes while a bad one is still out is skipped (the pipeline is held during an
incident); good releases cost nothing.

A *config push* (``config_pushes:`` at the top level, :class:`ConfigPush`) is the same process
applied to several services at once: the keys of ``deploys`` plus ``services``; each service it
reaches serves ``1 - errors x e`` of what it did, with the push's one exposure ``e``, and the loss is
charged to "config <name>" (Cloudflare's 2019 regex and Google's 2016 network config were such
pushes: every service behind them at once).

Closed forms (first order, one bad release at a time): a canary that catches every bad release at
the end of the bake, with ``detect`` longer than the bake, loses ``errors x canary x (bake +
E[rollback])`` per bad release, ``rate x bad`` of them an hour; all at once loses ``errors x
(E[detect] + E[rollback])``.  :func:`exposure_pieces` gives every strategy's expected time at each
exposure, which the solver's term (:mod:`hasim.analytic.mechanisms.deploys`) uses.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from hasim.model._types import Delay, HasimModel, PositiveDuration, PositiveFloat, Share, _positive_duration, inconsistent
from hasim.model.distributions import Distribution
from hasim.model.mechanism import Knob, Mechanism
from hasim.text import duration

__all__ = ["Deploys", "ConfigPush", "MECHANISM", "STRATEGIES", "releases_per_hour", "exposure_pieces", "never_noticed", "rollout", "change_cause", "config_cause"]

#: The strategies, in the kernel's code order.
STRATEGIES = ("all_at_once", "blue_green", "rolling", "canary")

_WEEK = 168.0


def _law(value: Any) -> Any:
    """``detect: 10m`` is the fixed law of 10 minutes; a mapping is any distribution."""
    if isinstance(value, dict) or hasattr(value, "dist"):
        return value
    return {"dist": "fixed", "value": _positive_duration(value)}


Law = Annotated[Distribution, BeforeValidator(_law)]


class Deploys(HasimModel):
    """How a service releases new versions and what a bad one costs (see the module docstring).

    ``per_week`` or ``every``: how often; ``strategy``; ``bad``: the share of releases that are bad
    (the change failure rate); ``errors``: the share of a bad release's requests that fail (default
    100 %); ``detect``: from its first exposed request to someone noticing; ``rollback``: from then to
    the old version serving everything; ``batch`` and ``pause`` (rolling); ``canary``, ``bake`` and
    ``catch`` (canary); ``paged``: the rollback waits for the on-call engineer (the top-level
    ``oncall``), paged when the bad release is noticed (not when the canary analysis catches it: that
    rollback is automated); ``alert``: the top-level alert rule whose
    page notices a bad release (``detect`` is then the backstop for one it never pages for).
    """

    per_week: PositiveFloat | None = None
    every: PositiveDuration | None = None
    strategy: Literal["all_at_once", "blue_green", "rolling", "canary"]
    bad: Share
    errors: Share = 1.0
    detect: Law
    rollback: Law
    batch: Share | None = None
    pause: Delay | None = None
    canary: Share | None = None
    bake: PositiveDuration | None = None
    catch: Share | None = None
    paged: bool = False
    alert: str | None = None

    @model_validator(mode="after")
    def _keys_of_the_strategy(self):
        if (self.per_week is None) == (self.every is None):
            inconsistent("per_week", "give one of per_week (releases a week, e.g. 10) or every (a release train, e.g. 1d)")
        own = {"rolling": ("batch", "pause"), "canary": ("canary", "bake")}
        for strategy, keys in own.items():
            for key in keys:
                if self.strategy == strategy and getattr(self, key) is None:
                    inconsistent(key, "strategy: {s} needs '{k}' ({what})", s=strategy, k=key, what={
                        "batch": "the share of instances each batch updates, e.g. 25%",
                        "pause": "the time between batches, e.g. 5m",
                        "canary": "the share of requests the canary serves, e.g. 5%",
                        "bake": "how long the canary runs before it is promoted, e.g. 30m"}[key])
                if self.strategy != strategy and getattr(self, key) is not None:
                    inconsistent(key, "'{k}' applies to strategy: {s} (these deploys are strategy: {cur})", k=key,
                         s=strategy, cur=self.strategy)
        if self.catch is not None and self.strategy != "canary":
            inconsistent("catch", "'catch' applies to strategy: canary (these deploys are strategy: {cur})", cur=self.strategy)
        if self.batch is not None and not self.batch > 0:
            inconsistent("batch", "a batch must update some instances: expected a share above 0, got {b}", b=self.batch)
        if self.canary is not None and not 0 < self.canary <= 1:
            inconsistent("canary", "expected a share above 0, got {c}", c=self.canary)
        return self

    @property
    def caught(self) -> float:
        """The share of bad releases the canary analysis catches at the end of the bake (1 unless given)."""
        return 1.0 if self.catch is None else self.catch


class ConfigPush(Deploys):
    """A change pushed to several services at once (a feature flag, a routing table, a certificate):
    a common cause across them, like a zone but logical.  The keys of :class:`Deploys`, plus
    ``services``: every service it reaches, each exposed alike (a staged push rolls through each
    service's fleet at the same pace).  Its root cause is "config <name>"."""

    services: list[str] = Field(min_length=1)


def releases_per_hour(dp: Deploys) -> float:
    """Releases an hour."""
    return dp.per_week / _WEEK if dp.per_week is not None else 1.0 / dp.every


def change_cause(name: str) -> str:
    """The root-cause label of a bad release of ``name``."""
    return f"change {name}"


def config_cause(name: str) -> str:
    """The root-cause label of a bad config push ``name``."""
    return f"config {name}"


def exposure_pieces(dp: Deploys, respond: float = 0.0, detect: Any = None) -> list[tuple[str, float, float]]:
    """Expected hours a bad release spends at each exposure: ``(stage, exposure, hours)``.

    ``stage`` is ``detection`` (``alerting`` when a rule watches it) before it is noticed,
    ``response`` while a ``paged`` rollback waits for the on-call engineer (``respond``: the mean
    response, hours) and ``rollback`` after.  ``detect`` is the law of the time to notice it (default
    ``dp.detect``; anything with ``mean_hours``, ``sf`` and ``expected_min``): with ``alert``, the
    earlier of the rule's page and ``dp.detect``, along the exposure the rollout would reach if never
    noticed.  With ``D`` that law and ``R`` the rollback's, each piece is exact for one bad release at a
    time.
    """
    pieces = _pieces(dp, dp.detect if detect is None else detect)
    if dp.alert is not None:
        pieces = [("alerting" if stage == "detection" else stage, e, h) for stage, e, h in pieces]
    if not dp.paged or respond <= 0.0:
        return pieces
    if dp.strategy == "canary":
        # Noticed by a person during the bake, or promoted and noticed later: paged.  Caught by the
        # analysis at the end of the bake: an automated rollback, nobody paged.
        D = dp.detect if detect is None else detect
        late = D.sf(dp.bake)
        return pieces + [("response", dp.canary, (1.0 - late) * respond),
                         ("response", 1.0, (1.0 - dp.caught) * late * respond)]
    R = dp.rollback.mean_hours
    # Each rollback piece is the chance of being noticed at that exposure times E[R]: the engineer's
    # wait comes first, at the same exposure.
    return pieces + [("response", e, h / R * respond) for stage, e, h in pieces if stage == "rollback"]


def never_noticed(dp: Deploys) -> list[tuple[float, float]]:
    """The exposure a bad release would reach if nobody noticed it: ``[(offset, exposure), ...]``
    from its first exposed request (a canary the analysis misses is promoted at the end of the bake).
    What an alert rule watching it sees until it pages: the rollout stops only once it is noticed."""
    steps, _ = rollout(dp, math.inf, False)
    return steps


def _pieces(dp: Deploys, D: Any) -> list[tuple[str, float, float]]:
    R = dp.rollback.mean_hours
    if dp.strategy in ("all_at_once", "blue_green"):
        return [("detection", 1.0, D.mean_hours), ("rollback", 1.0, R)]
    if dp.strategy == "rolling":
        out = []
        steps = math.ceil(1.0 / dp.batch - 1e-9)
        for k in range(1, steps + 1):
            e = min(1.0, k * dp.batch)
            lo = (k - 1) * dp.pause
            if k < steps:
                hi = k * dp.pause
                before = D.expected_min(hi) - D.expected_min(lo)
                p_here = D.sf(lo) - D.sf(hi)
            else:  # the last batch: out until noticed
                before = D.mean_hours - D.expected_min(lo)
                p_here = D.sf(lo)
            out += [("detection", e, before), ("rollback", e, p_here * R)]
        return out
    f, B, c = dp.canary, dp.bake, dp.caught
    before = D.expected_min(B)              # on the canary until noticed or the end of the bake
    late = D.sf(B)                          # not noticed by the monitoring during the bake
    return [("detection", f, before),
            ("rollback", f, (1.0 - late) * R + late * c * R),   # noticed during the bake, or caught at its end
            ("detection", 1.0, (1.0 - c) * (D.mean_hours - before)),  # missed: promoted, out until noticed
            ("rollback", 1.0, (1.0 - c) * late * R)]


def rollout(dp: Deploys, seen: float, caught: bool) -> tuple[list[tuple[float, float]], float]:
    """What one bad release does, given the time ``seen`` the monitoring takes to notice it and
    whether a canary analysis ``caught`` it: ``(steps, noticed)``, the exposure from each step's
    offset on (``[(0, e0), (t1, e1), ...]``, hours from the first exposed request) and the offset at
    which it is noticed (the rollout stops: no step at or after it).  The rule both engines follow."""
    if dp.strategy == "rolling":
        steps, e, k = [], 0.0, 0
        while e < 1.0 and (k == 0 or k * dp.pause < seen):
            e = min(1.0, e + dp.batch)
            steps.append((k * dp.pause, e))
            k += 1
        return steps, seen
    if dp.strategy == "canary":
        if seen < dp.bake:
            return [(0.0, dp.canary)], seen
        if caught:
            return [(0.0, dp.canary)], dp.bake
        return ([(0.0, dp.canary), (dp.bake, 1.0)] if dp.canary < 1.0 else [(0.0, 1.0)]), seen
    return [(0.0, 1.0)], seen


def _knobs(name: str, svc) -> list[Knob]:
    dp = svc.deploys
    if dp is None:
        return []
    base = f"services.{name}.deploys"
    out = [Knob(f"{name} time to notice a bad release", f"{base}.detect", "change_detect", dp.detect.mean_hours,
                lambda f, d=dp.detect: d.scaled(f).model_dump(mode="json")),
           Knob(f"{name} rollback time", f"{base}.rollback", "change_rollback", dp.rollback.mean_hours,
                lambda f, d=dp.rollback: d.scaled(f).model_dump(mode="json"))]
    if dp.strategy == "canary":
        out.append(Knob(f"{name} canary bake time", f"{base}.bake", "canary_bake", dp.bake, lambda f, v=dp.bake: v * f))
    return out


def _push_knobs(sc) -> list[Knob]:
    out = []
    for name, push in sc.config_pushes.items():
        base = f"config_pushes.{name}"
        out += [Knob(f"config {name} time to notice", f"{base}.detect", "change_detect", push.detect.mean_hours,
                     lambda f, d=push.detect: d.scaled(f).model_dump(mode="json")),
                Knob(f"config {name} rollback time", f"{base}.rollback", "change_rollback", push.rollback.mean_hours,
                     lambda f, d=push.rollback: d.scaled(f).model_dump(mode="json"))]
    return out


def _describe(svc) -> list[str]:
    dp = svc.deploys
    if dp is None:
        return []
    how = f"{dp.per_week:g} releases a week" if dp.per_week is not None else f"a release every {duration(dp.every)}"
    if dp.strategy == "rolling":
        strategy = f"rolling {dp.batch:.0%} every {duration(dp.pause)}"
    elif dp.strategy == "canary":
        strategy = f"canary {dp.canary:.0%} for {duration(dp.bake)}, {dp.caught:.0%} caught"
    else:
        strategy = "all at once" if dp.strategy == "all_at_once" else "blue/green"
    noticed = f"noticed after {duration(dp.detect.mean_hours)}" if dp.alert is None else \
        f"noticed by alert {dp.alert} (or after {duration(dp.detect.mean_hours)})"
    paged = ", paged" if dp.paged else ""
    return [f"{how}, {strategy}, {dp.bad:.0%} bad, {noticed}, rolled back in {duration(dp.rollback.mean_hours)}{paged}"]


MECHANISM = Mechanism(
    name="deploys", stage="rollback",
    summary="Releases, some of them bad: a bad release fails its requests as the rollout exposes it until it is "
            "noticed, and until its rollback ends.",
    declares=("deploys",),
    worse_when_raised={"change_detect": +1, "change_rollback": +1, "canary_bake": +1},
    service_knobs=_knobs, describe=_describe, column="deps",
    used_by=lambda sc: [n for n, s in sc.services.items()
                        if s.deploys is not None or any(n in p.services for p in sc.config_pushes.values())],
    scenario_knobs=lambda sc: _push_knobs(sc),
    badge=lambda svc: None if svc.deploys is None else svc.deploys.strategy.replace("_", " "),
    parts={"kernel": "hasim.sim.kernel._deploys", "reference": "hasim.sim.reference.deploys",
           "analytic": "hasim.analytic.mechanisms.deploys", "tests": "tests/mechanisms/test_deploys.py"},
)
