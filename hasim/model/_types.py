"""Shared pydantic building blocks: the model base class and validated scalar types.

Each validator raises a ``PydanticCustomError`` whose message is already the
line a user reads ("expected a positive duration like '720h', got '-5'"), so
that :mod:`hasim.errors` only has to prefix the file and the key path.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

from hasim.units import parse_duration
from hasim.errors import ScenarioError, problems_from_validation_error

__all__ = ["HasimModel", "NAME", "Int", "check_name", "expand_shorthand", "not_bool", "PositiveDuration", "Delay", "Probability", "Share", "PositiveFloat", "parse_slo",
           "BARE_NUMBER_NOTE"]

#: Appended to every duration error: a bare number silently meaning hours is the commonest surprise.
BARE_NUMBER_NOTE = "(a bare number is hours)"


class HasimModel(BaseModel):
    """Base of every scenario object: immutable, strict about unknown keys.

    Calling a constructor (``Service(replica=3)``) raises :class:`ScenarioError`
    with the same one-line-per-problem wording, did-you-mean included, as a
    scenario file does, rather than pydantic's own message.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def __init__(self, /, **data: Any):
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ScenarioError(problems_from_validation_error(exc, type(self))) from None

    # Marked as pydantic's own __init__ so that nested validation (a Service inside a
    # Scenario) stays inside pydantic-core and its errors keep their full key path,
    # instead of calling this __init__ and raising a ScenarioError relative to the part.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


def inconsistent(key: str | None, message: str, **ctx: Any) -> None:
    """Raise the error of a model whose keys disagree with each other.

    ``key`` (relative to the model) is appended to the error's key path, so the user
    is pointed at the key to change rather than at the model holding it.
    """
    raise PydanticCustomError("inconsistent", message, {"key": key, **ctx} if key is not None else ctx)


def _shown(value: object) -> str:
    return repr(str(value)) if not isinstance(value, str) else repr(value)


def _duration(value: object, *, allow_zero: bool) -> float:
    kind = "non-negative" if allow_zero else "positive"
    try:
        hours = parse_duration(value)
    except ValueError as exc:
        if "unknown unit" in str(exc):
            raise PydanticCustomError("duration_unit", str(exc)) from None
        raise _duration_error(kind, value) from None
    if hours < 0 or (hours == 0 and not allow_zero):
        raise _duration_error(kind, value)
    return hours


def _duration_error(kind: str, value: object) -> PydanticCustomError:
    # '-1h' or 'soon' ends in a unit or a word; '-5' or '0' may be a number whose unit the user assumed.
    note = not (isinstance(value, str) and value.strip()[-1:].isalpha())
    return PydanticCustomError("duration", "expected a {kind} duration like '720h', got {got}{note}",
                               {"kind": kind, "got": _shown(value), "note": f" {BARE_NUMBER_NOTE}" if note else ""})


def _positive_duration(value: object) -> float:
    return _duration(value, allow_zero=False)


def _delay(value: object) -> float:
    return _duration(value, allow_zero=True)


def as_share(raw: object) -> float | None:
    """``"50%"`` -> 0.5 and a number -> itself, as a float; anything else (a bool, other text) -> None.
    The caller says which range it accepts."""
    value = raw
    if isinstance(raw, str) and raw.strip().endswith("%"):
        try:
            value = float(raw.strip()[:-1]) / 100.0
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _probability(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError("probability", "expected a probability between 0 and 1, got {got}", {"got": _shown(value)})
    if not 0.0 <= float(value) <= 1.0:
        raise PydanticCustomError("probability", "expected a probability between 0 and 1, got {got}", {"got": _shown(value)})
    return float(value)


def _share(value: object) -> float:
    share = as_share(value)
    if share is None or not 0.0 <= share <= 1.0:
        raise PydanticCustomError("share", "expected a share between 0 and 1 like 99% or 0.99, got {got}",
                                  {"got": _shown(value)})
    return share


def _positive_float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value) > 0:
        raise PydanticCustomError("positive", "expected a positive number, got {got}", {"got": _shown(value)})
    return float(value)


#: Below this an SLO is no availability target: most likely a fraction (0.9999) meant as 99.99 %.
_SLO_FLOOR = 50.0


def parse_slo(value: Any) -> float | None:
    """An SLO as a percentage in [50, 100), from a number or text like ``"99.95%"``.

    The one place every SLO (scenario files, ``Scenario(slo=...)``, command-line
    options, report functions) should be checked, so that ``0.9999`` (a fraction)
    is never read as 0.9999 %.

    Parameters
    ----------
    value : float, int, str or None
        ``99.99``, ``"99.99"`` or ``"99.99%"``; None means no SLO.

    Returns
    -------
    float or None

    Raises
    ------
    ValueError
        With the sentence to show after the key (``slo: ...``), e.g.
        ``expected a percentage like 99.99, got 0.9999 (a fraction? write 99.99)``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        text = text[:-1].strip() if text.endswith("%") else text
        try:
            value = float(text)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < float(value) < 100:
        raise ValueError(f"expected a percentage between 0 and 100 like 99.99, got {value!r}")
    shown = repr(value)  # as written: 42, not 42.0
    value = float(value)
    if value < 1:
        raise ValueError(f"expected a percentage like 99.99, got {shown} (a fraction? write {value * 100:.10g})")
    if value < _SLO_FLOOR:
        raise ValueError(f"expected a percentage of at least {_SLO_FLOOR:g} like 99.99, got {shown}")
    return value


#: A duration in hours that must be > 0 (MTBF, MTTR, horizon, a scale).
PositiveDuration = Annotated[float, BeforeValidator(_positive_duration)]
#: A duration in hours that may be 0 but never negative (detection, promotion, TTL).
Delay = Annotated[float, BeforeValidator(_delay)]
#: A number in [0, 1].
Probability = Annotated[float, BeforeValidator(_probability)]
#: A share in [0, 1], as a number or a percentage (``99%``).
Share = Annotated[float, BeforeValidator(_share)]
#: A number > 0 (shape parameters, weights).
PositiveFloat = Annotated[float, BeforeValidator(_positive_float)]


NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def check_name(name: str | None) -> str | None:
    if name is not None and not NAME.match(name):
        raise PydanticCustomError(
            "name",
            "expected a name of letters, digits, '-' and '_' (no dots or spaces), got {got}",
            {"got": repr(name)},
        )
    return name


def not_bool(value: Any) -> Any:
    # pydantic would read ``replicas: true`` as 1; a count is never true or false.
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "expected a whole number, got {got}", {"got": repr(value)})
    return value


#: A whole number (replicas, thresholds, seed) that is not a bool.
Int = Annotated[int, BeforeValidator(not_bool)]


def expand_shorthand(data: Any) -> Any:
    """``mtbf: X`` / ``mttr: X`` next to a service or zone mean ``failure: {mtbf: X}`` / ``repair: {mttr: X}``."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for short, full in (("mtbf", "failure"), ("mttr", "repair")):
        if short in data:
            if data.get(full) is not None:
                raise PydanticCustomError(
                    "conflict", "give either '{short}' or '{full}', not both", {"short": short, "full": full, "key": short}
                )
            data[full] = {short: data.pop(short)}
    return data
