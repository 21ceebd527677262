"""Turn config text (or a mapping) into plain data, remembering the line of every key.

YAML is composed into nodes (which carry their marks) and built by hand, so each key's line is
kept for error messages; nesting and what aliases expand to are bounded (``bounded_yaml``), so a
hostile file is a ``ConfigError`` at its line, not a ``RecursionError`` or minutes of building.
``${VAR}`` / ``${VAR:-default}`` are substituted in string scalars only (``$${`` writes a
literal ``${``); ``providers.*.api_key`` becomes a ``SecretStr`` as it is read.

Nothing PyYAML says about a value is passed on verbatim: its messages quote the value and the
source line, and on an ``api_key`` line that is the key. A value that cannot be built (a bad
``!!int``, an unknown ``!tag``) becomes a ``Problem`` at its line, worded by us.
"""

from __future__ import annotations

import os
import re
from collections.abc import Hashable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import SecretStr

from orchestify_nb.config.bounded_yaml import (
    ALIASES_TOO_LARGE,
    MAX_ALIAS_EXPANSION,
    MAX_DEPTH,
    TOO_DEEP_THROUGH_ALIASES,
    Alias,
    ConfigLoader,
    RefusedDocument,
    unaliased,
)
from orchestify_nb.config.messages import (
    RECURSIVE_ALIAS,
    Problem,
    config_error,
    unmarked_yaml_problem,
    unreadable_value,
    yaml_syntax_error,
)
from orchestify_nb.config.secrets import is_secret, secret_values, url_secrets
from orchestify_nb.errors import ConfigError

__all__ = ["Document", "read_mapping", "read_yaml", "substitute_env"]

Loc = tuple[Hashable, ...]

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
#: What building a value can raise: PyYAML's errors, and the ValueError/TypeError/OverflowError
#: of a constructor given text that is not what its tag says (``!!int sk-...``).
_BUILD_ERRORS = (yaml.YAMLError, ValueError, TypeError, OverflowError)
#: Stands for a value or key that could not be built (its problem is already recorded).
_UNREADABLE = object()
#: Problems of a merge that is not one, and of an in-memory config nested too deep.
_MERGE_NOT_A_MAPPING = (
    "expected a mapping for merging; merge (<<) only a mapping or a list of mappings"
)
_MAPPING_TOO_DEEP = (
    f"values are nested more than {MAX_DEPTH} levels deep below this key (or a mapping holds "
    "itself), and a config is never that deep; pass plain sections of a few levels"
)
#: A node's text starts with an explicit tag (after an optional anchor): ``!!int 5``, ``!x``.
_EXPLICIT_TAG = re.compile(r"(?:&\S+[ \t]+)?!")
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: How deep defaults may hold references with defaults (``${A:-${B:-${C}}}`` is 2).
MAX_DEFAULT_NESTING = 8
_NESTED_TOO_DEEP = (
    f"references nest defaults more than {MAX_DEFAULT_NESTING} levels deep "
    "(${A:-${B:-...}}); no config needs that many, so write fewer levels"
)


@dataclass
class Document:
    """Plain data ready for validation, the line of each key path, and problems found reading."""

    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Where values could not be built (already a problem: not to be reported again as invalid).
    unread: list[Loc] = field(default_factory=list)
    #: Values that must never appear in a message: secret keys' values, secret env variables.
    secrets: list[str] = field(default_factory=list)


def substitute_env(text: str, environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """Replace ``${VAR}`` and ``${VAR:-default}`` (default when unset *or empty*, as in a shell).

    A default may itself hold references (``${A:-${B:-x}}``), filled only when it is used, up to
    ``MAX_DEFAULT_NESTING`` levels. Returns the new text and one complaint per reference that
    could not be filled or is malformed.
    """
    return _Substitution(text, environ).run()


class _NestedTooDeep(Exception):
    """Defaults hold references more than ``MAX_DEFAULT_NESTING`` levels deep."""


class _Substitution:
    """One pass over a string: literal text is copied, ``$${`` becomes ``${``, and each
    ``${...}`` is read by hand (a regular expression cannot match a default's own braces)."""

    def __init__(self, text: str, environ: Mapping[str, str]) -> None:
        self.text = text
        self.environ = environ
        self.complaints: list[str] = []

    def run(self) -> tuple[str, list[str]]:
        try:
            filled, _ = self._expand(0, depth=0, active=True, in_default=False)
        except _NestedTooDeep:
            return self.text, [_NESTED_TOO_DEEP]
        return filled, self.complaints

    def _expand(self, pos: int, *, depth: int, active: bool, in_default: bool) -> tuple[str, int]:
        """The text from ``pos`` to the end, or (in a default) to its closing brace; returns it
        filled and the position after it, or -1 for a default whose brace never comes."""
        text, parts = self.text, []
        while pos < len(text):
            if text.startswith("$${", pos):
                parts.append("${")
                pos += 3
            elif text.startswith("${", pos):
                filled, pos = self._reference(pos, depth=depth, active=active)
                parts.append(filled)
            elif in_default and text[pos] == "}":
                return "".join(parts), pos + 1
            else:
                parts.append(text[pos])
                pos += 1
        return "".join(parts), -1 if in_default else pos

    def _reference(self, start: int, *, depth: int, active: bool) -> tuple[str, int]:
        """Fill the reference at ``start`` (``${``); returns its value and the position after."""
        name = _VARIABLE_NAME.match(self.text, start + 2)
        if name is None:
            return self._malformed(start)
        after = name.end()
        value = self.environ.get(name.group()) if active else None
        if self.text.startswith("}", after):
            return (self._lookup(name.group()) if active else ""), after + 1
        if not self.text.startswith(":-", after):
            return self._malformed(start)
        if depth >= MAX_DEFAULT_NESTING:
            raise _NestedTooDeep
        complained = len(self.complaints)
        default, end = self._expand(
            after + 2, depth=depth + 1, active=active and not value, in_default=True
        )
        if end < 0:  # "${A:-..." never closed: one complaint about it, not about its insides
            del self.complaints[complained:]
            return self._malformed(start)
        return ((value or default) if active else ""), end

    def _lookup(self, name: str) -> str:
        value = self.environ.get(name)
        if value:
            return value
        state = "set but empty" if value == "" else "not set"
        self.complaints.append(
            f"environment variable {name} is {state}; set {name}"
            f"{' to a value' if value == '' else ''} or use ${{{name}:-...}} to give a default"
        )
        return ""

    def _malformed(self, start: int) -> tuple[str, int]:
        close = self.text.find("}", start)
        end = len(self.text) if close < 0 else close + 1
        written = self.text[start + 2 : end if close < 0 else close]
        self.complaints.append(
            f"'${{{written}' is not a valid reference; write ${{NAME}} or ${{NAME:-default}} "
            "(NAME: letters, digits, _), or $${ for a literal ${"
        )
        return self.text[start:end], end


def read_yaml(text: str, source: str, environ: Mapping[str, str] | None = None) -> Document:
    """Parse YAML text; raises ``ConfigError`` for a syntax error, with its line. A value that
    cannot be built is a problem of the document, reported with the validation errors."""
    env = os.environ if environ is None else environ
    failure: ConfigError | None = None
    try:
        loader = ConfigLoader(text)  # checks the characters first: this may raise too
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        failure = yaml_syntax_error(source, error, secret_values(env))
    except yaml.YAMLError as error:
        problem = unmarked_yaml_problem(error, text)
        failure = config_error(source, [problem], secrets=secret_values(env))
    except RefusedDocument as refused:
        failure = config_error(source, [refused.problem], secrets=secret_values(env))
    if failure is not None:  # raised here, not in the handler: PyYAML's error quotes the line
        raise failure
    try:
        builder = _Builder(loader, env)
        if node is None:
            return Document(data={})
        try:
            data = builder.build(node, ())
        except RefusedDocument as refused:
            secrets = [*builder.secrets, *secret_values(env)]
            failure = config_error(source, [refused.problem], secrets=secrets)
        if failure is not None:
            raise failure
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
            unread=builder.unread,
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
        if len(loc) > MAX_DEPTH:  # deeper than any config, or a mapping that holds itself
            raise RefusedDocument(Problem(loc[:3], _MAPPING_TOO_DEEP))
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

    try:
        data = walk(mapping, ())
    except RefusedDocument as refused:
        data, problems = None, [refused.problem]
    return Document(data=data, problems=problems, secrets=[*secrets, *secret_values(env)])


class _Builder:
    """Builds Python data from composed YAML nodes, recording each key's line and the problems
    of values that cannot be built (reported at their line, never quoting them).

    What aliases bring in is counted: past ``MAX_ALIAS_EXPANSION`` values, or nested past
    ``MAX_DEPTH``, building stops with ``RefusedDocument`` at the line of the outermost alias
    being expanded (the one written where the document grows)."""

    def __init__(self, loader: yaml.SafeLoader, environ: Mapping[str, str]) -> None:
        self.loader = loader
        self.environ = environ
        self.lines: dict[Loc, int] = {}
        self.problems: list[Problem] = []
        self.secrets: list[str] = []
        self.unread: list[Loc] = []
        self._open: set[int] = set()  # collections being built: an alias back to one is a cycle
        self._aliases: list[tuple[Alias, Loc]] = []  # aliases being expanded, outermost first
        self._expanded = 0  # values built through aliases so far

    def build(self, node: yaml.Node, loc: Loc) -> Any:
        if isinstance(node, Alias):
            with self._expanding(node, loc) as target:
                return self.build(target, loc)
        if self._aliases:
            self._expanded += 1
            if self._expanded > MAX_ALIAS_EXPANSION:
                self._refuse(ALIASES_TOO_LARGE, node)
        if isinstance(node, yaml.ScalarNode) and node.tag == _STR_TAG:
            text, complaints = substitute_env(str(node.value), self.environ)
            line = node.start_mark.line + 1
            self.problems.extend(Problem(loc, text, line=line) for text in complaints)
            return _keep_secret(text, loc, self.secrets)
        if isinstance(node, yaml.ScalarNode) and is_secret(loc):
            self.secrets.append(str(node.value))  # before anything can quote it
        if not isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            value = self._construct(node, loc)
            if value is _UNREADABLE:
                self.unread.append(loc)
                return None
            return value
        if id(node) in self._open:
            self.problems.append(Problem(loc, RECURSIVE_ALIAS, line=self._line(node, -1)))
            return None
        if len(self._open) >= MAX_DEPTH:  # only aliases and merges reach here: see ConfigLoader
            self._refuse(TOO_DEEP_THROUGH_ALIASES, node)
        self._open.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, loc)
            items = []
            for index, item in enumerate(node.value):
                self.lines.setdefault((*loc, index), item.start_mark.line + 1)
                items.append(self.build(item, (*loc, index)))
            return items
        finally:
            self._open.discard(id(node))

    @contextmanager
    def _expanding(self, node: yaml.Node, loc: Loc) -> Iterator[yaml.Node]:
        """Gives the node to build for ``node``: for an alias, the node it names, with what is
        built meanwhile counted as brought in by that alias."""
        if not isinstance(node, Alias):
            yield node
            return
        self._aliases.append((node, loc))
        try:
            yield unaliased(node)
        finally:
            self._aliases.pop()

    def _line(self, node: yaml.Node, alias: int) -> int:
        """The line of the outermost (0) or innermost (-1) alias being expanded, else the node's."""
        mark = self._aliases[alias][0].start_mark if self._aliases else node.start_mark
        return int(mark.line) + 1

    def _refuse(self, message: str, node: yaml.Node) -> None:
        where = self._aliases[0][1] if self._aliases else ()
        raise RefusedDocument(Problem(where, message, line=self._line(node, 0)))

    def _construct(self, node: yaml.Node, loc: Loc) -> Any:
        """PyYAML's own constructor for a tagged or typed value; a failure is a problem worded
        by us (PyYAML's message quotes the value) and the result is ``_UNREADABLE``."""
        try:
            return self.loader.construct_object(node, deep=True)
        except _BUILD_ERRORS:
            mark = node.start_mark
            message = unreadable_value(
                node.tag,
                known_tag=node.tag in type(self.loader).yaml_constructors,
                explicit=bool(_EXPLICIT_TAG.match(mark.buffer or "", mark.pointer)),
            )
            self.problems.append(Problem(loc, message, line=mark.line + 1))
            return _UNREADABLE

    def _mapping(self, node: yaml.MappingNode, loc: Loc) -> dict[Hashable, Any]:
        """Merged keys (``<<: *anchor``) first, then the written keys, which override them."""
        merged: dict[Hashable, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.update(self._merge(value_node, loc, key_node.start_mark.line + 1))
        result: dict[Hashable, Any] = {}
        written_at: dict[Hashable, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            line = key_node.start_mark.line + 1
            if not isinstance(unaliased(key_node), yaml.ScalarNode):
                self.problems.append(
                    Problem(loc, "a key must be a plain name, not a list or mapping", line=line)
                )
                continue
            key = self._construct(unaliased(key_node), loc)
            if key is _UNREADABLE:
                continue
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
        return {**merged, **result}

    def _merge(self, value_node: yaml.Node, loc: Loc, line: int) -> dict[Hashable, Any]:
        """The keys one ``<<`` brings in: from a mapping, or from a list of mappings where the
        first listed wins (as the YAML merge spec says)."""
        with self._expanding(value_node, loc) as target:
            sources = target.value if isinstance(target, yaml.SequenceNode) else [target]
            if not all(isinstance(unaliased(source), yaml.MappingNode) for source in sources):
                self.problems.append(Problem(loc, _MERGE_NOT_A_MAPPING, line=line))
                return {}
            merged: dict[Hashable, Any] = {}
            for source in reversed(sources):
                built = self.build(source, loc)
                if isinstance(built, dict):  # None when the merge refers back to its mapping
                    merged.update(built)
            return merged


def _keep_secret(text: str, loc: Loc, secrets: list[str]) -> str | SecretStr:
    """Note a secret-looking value for scrubbing; a provider's ``api_key`` becomes a
    ``SecretStr`` right here, before anything else sees it."""
    if is_secret(loc):
        secrets.append(text)
    if loc[-1:] == ("base_url",):
        secrets.extend(url_secrets(text))
    if len(loc) == 3 and loc[0] == "providers" and loc[2] == "api_key":
        return SecretStr(text)
    return text


def _yaml_kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if value is None:
        return "null"
    return "single value"
