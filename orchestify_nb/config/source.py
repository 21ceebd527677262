"""Turn config text (or a mapping) into plain data, remembering the line of every key.

YAML is composed into nodes (which carry their marks) and built by hand, so each key's line is
kept for error messages; ``${VAR}`` / ``${VAR:-default}`` are substituted in string scalars only
(``$${`` writes a literal ``${``); ``providers.*.api_key`` becomes a ``SecretStr`` as it is read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import SecretStr

from orchestify_nb.config.messages import (
    Problem,
    config_error,
    is_secret,
    secret_values,
    yaml_syntax_error,
)

__all__ = ["Document", "read_mapping", "read_yaml", "substitute_env"]

Loc = tuple[Hashable, ...]

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_REFERENCE = re.compile(
    r"\$\$\{"  # escaped: a literal "${"
    r"|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}"
    r"|\$\{(?P<bad>[^}]*)\}?"  # anything else after "${" is malformed
)


@dataclass
class Document:
    """Plain data ready for validation, the line of each key path, and problems found reading."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Values that must never appear in a message: secret keys' values, secret env variables.
    secrets: list[str] = field(default_factory=list)


def substitute_env(text: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """Replace ``${VAR}`` and ``${VAR:-default}`` (default when unset *or empty*, as in a shell).

    Returns the new text and one complaint per reference that could not be filled.
    """
    complaints: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name = match.group("name")
        if name is None:
            complaints.append(
                f"'${{{match.group('bad')}' is not a valid reference; write ${{NAME}} or "
                "${NAME:-default} (NAME: letters, digits, _), or $${ for a literal ${"
            )
            return match.group(0)
        value = environ.get(name)
        if value:
            return value
        default = match.group("default")
        if default is not None:
            return default
        if value == "":
            complaints.append(
                f"environment variable {name} is set but empty; set {name} to a value "
                f"or use ${{{name}:-...}} to give a default"
            )
        else:
            complaints.append(
                f"environment variable {name} is not set; set {name} "
                f"or use ${{{name}:-...}} to give a default"
            )
        return ""

    return _REFERENCE.sub(replace, text), complaints


def read_yaml(text: str, source: str, environ: Mapping[str, str] | None = None) -> Document:
    """Parse YAML text; raises ``ConfigError`` for a syntax error, with its line."""
    env = os.environ if environ is None else environ
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as error:
            raise yaml_syntax_error(source, error, secret_values(env)) from None
        except yaml.YAMLError as error:  # unmarked: report without a line
            problem = Problem((), f"YAML error: {error}")
            raise config_error(source, [problem], secrets=secret_values(env)) from None
        builder = _Builder(loader, env)
        if node is None:
            return Document(data={})
        data = builder.build(node, ())
        if not isinstance(data, dict):
            builder.problems.append(
                Problem(
                    (),
                    "the file should be a mapping with keys such as providers:, agents:, "
                    f"default_provider:, but it holds a {_yaml_kind(data)}",
                    line=node.start_mark.line + 1,
                )
            )
        return Document(
            data=data,
            lines=builder.lines,
            problems=builder.problems,
            secrets=[*builder.secrets, *secret_values(env)],
        )
    finally:
        loader.dispose()


def read_mapping(mapping: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Document:
    """Prepare an in-memory config the same way as a file (substitution, secret keys)."""
    problems: list[Problem] = []
    secrets: list[str] = []
    env = os.environ if environ is None else environ

    def walk(value: Any, loc: Loc) -> Any:
        if isinstance(value, Mapping):
            return {key: walk(item, (*loc, key)) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [walk(item, (*loc, index)) for index, item in enumerate(value)]
        if isinstance(value, SecretStr):
            secrets.append(value.get_secret_value())
        if isinstance(value, str):
            text, complaints = substitute_env(value, env)
            problems.extend(Problem(loc, complaint) for complaint in complaints)
            return _keep_secret(text, loc, secrets)
        return value

    data = walk(mapping, ())
    return Document(data=data, problems=problems, secrets=[*secrets, *secret_values(env)])


class _Builder:
    """Builds Python data from composed YAML nodes, recording each key's line."""

    def __init__(self, loader: yaml.SafeLoader, environ: Mapping[str, str]) -> None:
        self.loader = loader
        self.environ = environ
        self.lines: dict[Loc, int] = {}
        self.problems: list[Problem] = []
        self.secrets: list[str] = []

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc)
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                self.lines.setdefault((*loc, index), item.start_mark.line + 1)
                items.append(self.build(item, (*loc, index)))
            return items
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
            text, complaints = substitute_env(str(node.value), self.environ)
            line = node.start_mark.line + 1
            self.problems.extend(Problem(loc, text, line=line) for text in complaints)
            return _keep_secret(text, loc, self.secrets)
        value = self.loader.construct_object(node, deep=True)
        if is_secret(loc):
            self.secrets.append(str(value))
        return value

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Hashable, Any]:
        written = {id(key) for key, _ in node.value if key.tag != _MERGE_TAG}
        self.loader.flatten_mapping(node)  # resolve "<<: *anchor"; written keys override merged
        result: dict[Hashable, Any] = {}
        written_at: dict[Hashable, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            key = self.loader.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                self.problems.append(
                    Problem(loc, "a key must be a plain name, not a list or mapping", line=line)
                )
                continue
            if id(key_node) in written:
                if key in written_at:
                    self.problems.append(
                        Problem(
                            (*loc, key),
                            f"key {key!r} appears twice (lines {written_at[key]} and {line}); "
                            "keep one of them",
                            line=line,
                        )
                    )
                written_at.setdefault(key, line)
            self.lines[(*loc, key)] = line
            result[key] = self.build(value_node, (*loc, key))
        return result


def _keep_secret(text: str, loc: Loc, secrets: list[str]) -> str | SecretStr:
    """Note a secret-looking value for scrubbing; a provider's ``api_key`` becomes a
    ``SecretStr`` right here, before anything else sees it."""
    if is_secret(loc):
        secrets.append(text)
    if len(loc) == 3 and loc[0] == "providers" and loc[2] == "api_key":
        return SecretStr(text)
    return text


def _yaml_kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if value is None:
        return "null"
    return "single value"
