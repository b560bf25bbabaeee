"""Reading scenarios from YAML and TOML files: a thin layer over :class:`hasim.Scenario`.

YAML is read with ``yaml.safe_load`` only, so a file can never construct
Python objects.  Every problem becomes a :class:`hasim.ScenarioError` whose
lines name the file and the key path.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from hasim.errors import Problem, ScenarioError, problems_from_validation_error
from hasim.model.scenario import Scenario

__all__ = ["load", "loads", "parse_text", "read_source", "dump"]

_YAML_SUFFIXES = (".yaml", ".yml")
_TOML_SUFFIXES = (".toml",)


def read_source(path: Path, what: str = "a scenario file") -> str:
    """The text of ``path`` (UTF-8), or a :class:`hasim.ScenarioError` naming it: no such file, a
    directory, not text.  Scenario and experiment files are read the same way."""
    source = str(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem("", "no such file")], source) from None
    except IsADirectoryError:
        raise ScenarioError([Problem("", f"is a directory, not {what}")], source) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem("", f"not a UTF-8 text file ({exc.reason} at byte {exc.start})")], source) from None


def load(path: str | os.PathLike) -> Scenario:
    """Read and validate a scenario file (``.yaml``, ``.yml`` or ``.toml``).

    Parameters
    ----------
    path : str or path-like
        The scenario file.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        With one problem per line, each naming ``path`` and a key path.
    """
    path = Path(path)
    source = str(path)
    text = read_source(path)
    fmt = "toml" if path.suffix.lower() in _TOML_SUFFIXES else "yaml"
    if path.suffix.lower() not in _YAML_SUFFIXES + _TOML_SUFFIXES:
        raise ScenarioError([Problem("", f"unknown file type {path.suffix or '(none)'!r}; "
                                         "expected .yaml, .yml or .toml")], source)
    return loads(text, fmt, source=source, default_name=path.stem)


def loads(text: str, fmt: str = "yaml", *, source: str | None = None, default_name: str = "scenario") -> Scenario:
    """Validate a scenario given as YAML or TOML text (see :func:`load`)."""
    data = parse_text(text, fmt, source=source)
    if isinstance(data, dict) and "name" not in data:
        data = {"name": default_name, **data}
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_from_validation_error(exc, Scenario), source) from None
    except ScenarioError as exc:
        raise exc.with_source(source) if source else exc


def parse_text(text: str, fmt: str = "yaml", *, source: str | None = None,
               needs: str = "a scenario needs at least 'entry' and 'services'",
               keys: str = "name, services, entry, ...") -> dict[str, Any]:
    """Parse YAML or TOML text into plain data, rejecting what is not a mapping (``needs``: what an
    empty file is told it lacks, ``keys``: examples of the keys it takes)."""
    if not text.strip() or all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()):
        raise ScenarioError([Problem("", f"the file is empty; {needs}")], source)
    if fmt == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ScenarioError([Problem("", f"not valid TOML: {exc}")], source) from None
    else:
        data = _safe_yaml(text, source)
    if data is None:  # only '---', '~' or 'null'
        raise ScenarioError([Problem("", f"the file is empty; {needs}")], source)
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem("", f"expected a mapping of keys ({keys}) at the top, got {type(data).__name__}")], source)
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise ScenarioError([Problem(str(k), "keys must be text") for k in bad], source)
    return data


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = self.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.MarkedYAMLError("while constructing a mapping", node.start_mark,
                                               f"duplicate key {key!r}", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _safe_yaml(text: str, source: str | None) -> Any:
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.constructor.ConstructorError as exc:
        if "tag '" not in (exc.problem or ""):
            return _not_valid_yaml(exc, source)
        mark = exc.problem_mark
        line = f"line {mark.line + 1}: " if mark else ""
        tag = _tag_of(exc)
        raise ScenarioError([Problem("", f"{line}YAML tag {tag} is not allowed: hasim reads YAML safely and "
                                         "never constructs Python objects")], source) from None
    except yaml.YAMLError as exc:
        return _not_valid_yaml(exc, source)


def _not_valid_yaml(exc: yaml.YAMLError, source: str | None) -> Any:
    mark = getattr(exc, "problem_mark", None)
    line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    problem = getattr(exc, "problem", None) or str(exc)
    raise ScenarioError([Problem("", f"not valid YAML: {line}{problem}")], source) from None


def _tag_of(exc: yaml.constructor.ConstructorError) -> str:
    problem = exc.problem or ""
    if "tag '" in problem:
        tag = problem.split("tag '", 1)[1].split("'", 1)[0]
        return repr(tag.replace("tag:yaml.org,2002:", "!!"))
    return "(unknown)"


def dump(scenario: Scenario) -> str:
    """The scenario as YAML text that :func:`loads` reads back to an equal scenario."""
    data = scenario.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    for table in ("zones", "services"):
        for obj in data.get(table, {}).values():
            obj.pop("name", None)
    return yaml.safe_dump(data, sort_keys=False)
