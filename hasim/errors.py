"""One error type for every problem in a scenario, file or Python object.

A :class:`ScenarioError` holds a list of :class:`Problem` (a dotted key path and
a sentence) and prints one line per problem::

    bad.yaml: services.api.failure.mtbf: expected a positive duration like '720h', got '-5'

pydantic's own errors are translated here, so the wording is the same whether
the scenario came from YAML, TOML or Python.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from typing import Any, Iterable

from pydantic import BaseModel, ValidationError

__all__ = ["Problem", "ScenarioError", "problems_from_validation_error", "suggest"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where (``path``) and what (``message``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ScenarioError(Exception):
    """A scenario (file or Python object) that hasim cannot accept.

    Attributes
    ----------
    problems : list of Problem
        Every problem found, in file order where known.
    source : str or None
        The file the scenario came from, if any.
    """

    def __init__(self, problems: Iterable[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        return "\n".join(self.lines())

    def lines(self) -> list[str]:
        """One line per problem, each prefixed with the source file when known."""
        prefix = f"{self.source}: " if self.source else ""
        return [f"{prefix}{p}" for p in self.problems]

    def with_source(self, source: str) -> "ScenarioError":
        """The same problems, attributed to ``source``."""
        return ScenarioError(self.problems, source)

    def __str__(self) -> str:
        return self._text()


def suggest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (dict, list)):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return repr(str(value))


# --- walking the model to find which keys are allowed where ---------------------------


def _unwrap(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _allowed_keys(model: type[BaseModel]) -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        if choices:
            keys.extend(c for c in choices if isinstance(c, str))
        else:
            keys.append(name)
    keys.extend(getattr(model, "shorthand_keys", ()))
    return keys


def _leaves(annotation: Any) -> list[Any]:
    """The alternatives of a (possibly nested, Annotated or Optional) union."""
    annotation = _unwrap(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [leaf for arg in typing.get_args(annotation) for leaf in _leaves(arg)]
    return [] if annotation is type(None) else [annotation]


def _is_model(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


def _field(model: type[BaseModel], key: Any):
    for name, field in model.model_fields.items():
        if key == name or key in (getattr(field.validation_alias, "choices", None) or ()):
            return field
    return None


def _model_at(root: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The model class that validates the mapping found at ``loc`` (a raw pydantic loc)."""
    leaves: list[Any] = [root]
    for part in loc:
        tagged = [m for m in leaves if _is_model(m) and _tag_of(m) == part]
        if tagged:
            leaves = tagged
            continue
        models = [m for m in leaves if _is_model(m)]
        containers = [c for c in leaves if typing.get_origin(c) in (list, dict)]
        if len(models) == 1 and isinstance(part, str):
            field = _field(models[0], part)
            if field is None:
                return None
            leaves = _leaves(field.annotation)
        elif containers:
            leaves = _leaves(typing.get_args(containers[0])[-1])
        else:
            return None
    models = [m for m in leaves if _is_model(m)]
    return models[0] if len(models) == 1 else None


def _tag_of(model: type[BaseModel]) -> str | None:
    field = model.model_fields.get("dist")
    return field.default if field is not None else None


#: Tags of the tagged unions below 'failure:' / 'repair:' (the distribution names), which pydantic
#: inserts into error locations.  Filled by :mod:`hasim.model.distributions`, which defines the union:
#: this module sits below it and cannot import it.
UNION_TAGS: set[str] = set()


def _clean_loc(loc: tuple) -> list[str]:
    """Drop the discriminator tags pydantic inserts after 'failure:' / 'repair:'."""
    out: list[str] = []
    for i, part in enumerate(loc):
        if (part in UNION_TAGS and i > 0 and loc[i - 1] in ("failure", "repair")
                and i + 1 <= len(loc)):
            continue
        if isinstance(part, str) and (part.startswith("function-") or part in ("list[...]",)):
            continue
        out.append(str(part))
    return out


_TYPE_WORDS = {
    "int": "a whole number",
    "float": "a number",
    "bool": "true or false",
    "string": "text",
    "list": "a list",
    "dict": "a mapping of keys to values",
    "model": "a mapping of keys to values",
}


def _message(err: dict, root: type[BaseModel]) -> tuple[list[str], str]:
    kind, loc, value = err["type"], tuple(err["loc"]), err.get("input")
    ctx = err.get("ctx") or {}
    path = _clean_loc(loc)
    if kind == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        hint = suggest(loc[-1], _allowed_keys(model)) if model else ""
        if model and not hint:
            hint = f" (allowed: {', '.join(_allowed_keys(model))})"
        return path, f"unknown key '{loc[-1]}'{hint}"
    if kind == "missing":
        return path, "required key is missing"
    if path and path[-1] == "[key]":  # a mapping key of the wrong type, e.g. 'services: {1: ...}'
        return path[:-1], f"keys must be text, got {_shown(value)}"
    if "key" in ctx and not isinstance(ctx["key"], (int, float)):
        path = path + [str(ctx["key"])]
    if kind in ("literal_error", "enum"):
        expected = ctx.get("expected", "")
        options = [o.strip(" '") for o in expected.replace(" or ", ",").split(",") if o.strip(" '")]
        return path, f"expected one of {expected}, got {_shown(value)}{suggest(value, options)}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        op = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        bound = next(iter(v for k, v in ctx.items() if k in ("ge", "gt", "le", "lt")), "?")
        return path, f"expected a number {op} {bound}, got {_shown(value)}"
    if kind in ("too_short", "too_long"):
        return path, f"expected {'at least' if kind == 'too_short' else 'at most'} " \
                     f"{ctx.get('min_length', ctx.get('max_length'))} item(s), got {_shown(value)}"
    for prefix, words in _TYPE_WORDS.items():
        if kind.startswith(prefix + "_") or kind == prefix + "_type":
            if kind == "int_from_float":
                return path, f"expected a whole number, got {_shown(value)}"
            return path, f"expected {words}, got {_shown(value)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return path, f"expected a mapping of keys to values, got {_shown(value)}"
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    return path, msg[:1].lower() + msg[1:] if msg[:2] != msg[:2].upper() else msg


#: A key that, misspelt, leaves this required key missing (the shorthands fill failure / repair).
_FILLS = {"mtbf": "failure", "mttr": "repair"}


def problems_from_validation_error(exc: ValidationError, root: type[BaseModel]) -> list[Problem]:
    """Translate a pydantic ``ValidationError`` raised while validating ``root``.

    A misspelt required key (``intervl: 10s``) is one problem, not two: the
    "required key is missing" of the key it suggests is left out.
    """
    errors = exc.errors(include_url=False)
    implied = set()
    for err in errors:
        if err["type"] == "extra_forbidden":
            model = _model_at(root, tuple(err["loc"])[:-1])
            close = difflib.get_close_matches(str(err["loc"][-1]), _allowed_keys(model), n=1, cutoff=0.6) \
                if model else []
            for key in close + [_FILLS[k] for k in close if k in _FILLS]:
                implied.add(tuple(err["loc"])[:-1] + (key,))
    problems = []
    for err in errors:
        if err["type"] == "missing" and tuple(err["loc"]) in implied:
            continue
        path, message = _message(err, root)
        problems.append(Problem(".".join(path), message))
    return list(dict.fromkeys(problems))
