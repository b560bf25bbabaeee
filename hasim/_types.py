"""Shared pydantic building blocks: the model base class and validated scalar types.

Each validator raises a ``PydanticCustomError`` whose message is already the
line a user reads ("expected a positive duration like '720h', got '-5'"), so
that :mod:`hasim.errors` only has to prefix the file and the key path.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict
from pydantic_core import PydanticCustomError

from .durations import parse_duration

__all__ = ["HasimModel", "PositiveDuration", "Delay", "Probability", "PositiveFloat"]


class HasimModel(BaseModel):
    """Base of every scenario object: immutable, strict about unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _shown(value: object) -> str:
    return repr(str(value)) if not isinstance(value, str) else repr(value)


def _duration(value: object, *, allow_zero: bool) -> float:
    kind = "non-negative" if allow_zero else "positive"
    try:
        hours = parse_duration(value)
    except ValueError as exc:
        if "unknown unit" in str(exc):
            raise PydanticCustomError("duration_unit", str(exc)) from None
        raise PydanticCustomError(
            "duration", "expected a {kind} duration like '720h', got {got}", {"kind": kind, "got": _shown(value)}
        ) from None
    if hours < 0 or (hours == 0 and not allow_zero):
        raise PydanticCustomError(
            "duration", "expected a {kind} duration like '720h', got {got}", {"kind": kind, "got": _shown(value)}
        )
    return hours


def _positive_duration(value: object) -> float:
    return _duration(value, allow_zero=False)


def _delay(value: object) -> float:
    return _duration(value, allow_zero=True)


def _probability(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PydanticCustomError("probability", "expected a probability between 0 and 1, got {got}", {"got": _shown(value)})
    if not 0.0 <= float(value) <= 1.0:
        raise PydanticCustomError("probability", "expected a probability between 0 and 1, got {got}", {"got": _shown(value)})
    return float(value)


def _positive_float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value) > 0:
        raise PydanticCustomError("positive", "expected a positive number, got {got}", {"got": _shown(value)})
    return float(value)


#: A duration in hours that must be > 0 (MTBF, MTTR, horizon, a scale).
PositiveDuration = Annotated[float, BeforeValidator(_positive_duration)]
#: A duration in hours that may be 0 but never negative (detection, promotion, TTL).
Delay = Annotated[float, BeforeValidator(_delay)]
#: A number in [0, 1].
Probability = Annotated[float, BeforeValidator(_probability)]
#: A number > 0 (shape parameters, weights).
PositiveFloat = Annotated[float, BeforeValidator(_positive_float)]
