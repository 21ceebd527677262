"""One-paragraph ``ConfigError`` messages: the file, the line, the key, what is wrong and the fix.

Validation errors arrive as pydantic locations (``("providers", "claude", "max_tokens")``); the
line map recorded while reading the YAML turns each into a line number. A value is echoed only when
no part of its key looks secret, and known secret environment values are scrubbed last of all.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from orchestify_nb.config.models import (
    KeyProblems,
    OrchestifyConfig,
    deepest_line,
    did_you_mean,
)
from orchestify_nb.config.secrets import is_secret, secret_values
from orchestify_nb.errors import ConfigError, redact

__all__ = [
    "RECURSIVE_ALIAS",
    "Problem",
    "config_error",
    "unmarked_yaml_problem",
    "unreadable_value",
    "validation_problems",
    "yaml_problem_text",
    "yaml_syntax_error",
]

Loc = tuple[Hashable, ...]

_MAX_LISTED = 6
#: A token PyYAML quotes from the file ('sk-...' as an undefined alias name, say). Quoted
#: punctuation (',' or '\\t') and PyYAML's own token names ('<block end>') are kept.
_QUOTED_TOKEN = re.compile(r"""\s*(?:'(?P<single>[^']*)'|"(?P<double>(?:[^"\\]|\\.)*)")""")
_YAML_TOKEN_NAME = re.compile(r"<[a-z ]+>")
_MAPPING_ERRORS = {"model_type", "dict_type", "dataclass_type", "model_attributes_type"}
_EXTRA_KEY_ERRORS = {"extra_forbidden", "unexpected_keyword_argument"}
RECURSIVE_ALIAS = (
    "an alias (*name) refers to the list or mapping that contains it, which a config cannot "
    "use; copy the values instead"
)
_YAML_HINTS = (
    ("'\\t'", "YAML does not allow tabs for indentation; indent with spaces"),
    ("mapping values are not allowed", "quote a value that contains ': ', or fix the indentation"),
    ("could not find expected ':'", "put ': ' after the key, or quote a value that spans lines"),
    ("undefined alias", "define the &anchor before using the *alias"),
    ("expected <block end>", "line up the keys of one mapping at the same indentation"),
    ("end of stream", "close the quote or bracket that was opened"),
    ("found unexpected end", "close the quote or bracket that was opened"),
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a config: where (key path, and line if known) and what, with the fix."""

    loc: Loc
    message: str
    line: int | None = None


def config_error(
    source: str | None,
    problems: list[Problem],
    lines: Mapping[Loc, int] | None = None,
    secrets: Iterable[str] = (),
) -> ConfigError:
    """One paragraph naming the file, then each problem's line, key, fault and fix (in file
    order)."""
    located = [
        problem
        if problem.line is not None
        else replace(problem, line=deepest_line(lines or {}, problem.loc))
        for problem in problems
    ]
    located.sort(key=lambda problem: (problem.line is None, problem.line or 0))
    parts = [_describe(problem) for problem in located[:_MAX_LISTED]]
    if len(problems) > _MAX_LISTED:
        parts.append(f"and {len(problems) - _MAX_LISTED} more")
    where = f"Config file {source}" if source else "Config mapping"
    if len(problems) == 1:
        text = f"{where}, {parts[0]}."
    else:
        text = f"{where} has {len(problems)} problems: {'; '.join(parts)}."
    return ConfigError(redact(text, [*secrets, *secret_values(os.environ)]))


def yaml_syntax_error(
    source: str, error: yaml.MarkedYAMLError, secrets: Iterable[str] = ()
) -> ConfigError:
    """A syntax error with its line and column (never the offending line's text, nor a token
    PyYAML quotes from it: either may hold a key), plus a hint for the common mistakes."""
    mark = error.problem_mark or error.context_mark
    problem = error.problem or "invalid YAML"
    context = f" {yaml_problem_text(error.context)}" if error.context else ""
    hint = next(
        (fix for needle, fix in _YAML_HINTS if needle in problem or needle in context),
        "check the indentation and quoting there",
    )
    at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    text = f"Config file {source}{at}: YAML syntax error:{context} {yaml_problem_text(problem)}"
    return ConfigError(redact(f"{text}; {hint}.", [*secrets, *secret_values(os.environ)]))


def yaml_problem_text(text: str) -> str:
    """PyYAML's description of a problem without the tokens it quotes from the file."""

    def keep_short(match: re.Match[str]) -> str:
        token = match.group("single") or match.group("double") or ""
        return match.group(0) if len(token) <= 4 or _YAML_TOKEN_NAME.fullmatch(token) else ""

    return _QUOTED_TOKEN.sub(keep_short, text).strip()


def unmarked_yaml_problem(error: yaml.YAMLError, text: str) -> Problem:
    """A reading error without a position mark: a character YAML forbids (found before parsing
    starts), or something unforeseen, named by its type only."""
    if isinstance(error, yaml.reader.ReaderError) and isinstance(error.character, int):
        return Problem(
            (),
            f"the file holds a control character YAML does not allow (#x{error.character:04x}); "
            "delete it (it is often pasted in with a key)",
            line=text.count("\n", 0, error.position) + 1,
        )
    return Problem((), f"the text could not be read as YAML ({type(error).__name__})")


def unreadable_value(tag: str, *, known_tag: bool, explicit: bool) -> str:
    """Why a value could not be built (never the value: it may be a key) and the fix."""
    if not known_tag:
        return (
            "the value carries a YAML tag (a word starting with '!' before it) that a config "
            "cannot use; remove the tag"
        )
    kind = tag.rsplit(":", 1)[-1]
    if explicit:
        return (
            f"the value is tagged !!{kind} but is not a valid {kind}; remove the tag "
            "(and quote the value if it must stay text)"
        )
    return f"the value looks like a YAML {kind} but is not a valid one; quote it to keep it as text"


def validation_problems(error: ValidationError) -> list[Problem]:
    """Translate pydantic's errors into problems with fixes, expanding cross-reference errors."""
    problems: list[Problem] = []
    for item in error.errors():
        loc: Loc = tuple(item["loc"])
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, KeyProblems):
            problems.extend(Problem((*loc, *sub_loc), text) for sub_loc, text in cause.problems)
            continue
        problems.append(Problem(loc, _explain(item["type"], loc, item["msg"], item.get("input"))))
    return problems


def _explain(kind: str, loc: Loc, message: str, value: Any) -> str:
    key = str(loc[-1]) if loc else ""
    if kind in _EXTRA_KEY_ERRORS:
        allowed = _allowed_keys(loc[:-1])
        listed = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
        return f"unknown key {key!r}{did_you_mean(key, allowed)}{listed}; remove or rename it"
    if kind == "missing":
        extra = " (anthropic, openai, litellm or local)" if key == "type" else ""
        return f"required key {key!r} is missing; add it{extra}"
    if kind in _MAPPING_ERRORS:
        return f"expected a mapping (indented `key: value` lines), got {_kind(value)}"
    if kind == "value_error":
        return message.removeprefix("Value error, ")
    text = message.replace("Input should be", "should be", 1)
    shown = "" if is_secret(loc) or isinstance(value, dict | list) else f" (got {value!r})"
    return f"{text}{shown}; fix the value"


def _describe(problem: Problem) -> str:
    where = [f"line {problem.line}"] if problem.line is not None else []
    if problem.loc:
        where.append(f"key {_dotted(problem.loc)}")
    return f"{', '.join(where)}: {problem.message}" if where else problem.message


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        if part == "[key]":
            continue
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


def _allowed_keys(loc: Loc) -> list[str]:
    """The field names of the model that sits at ``loc`` in the config schema."""
    shape: Any = OrchestifyConfig
    for part in loc:
        fields = _fields_of(_strip_optional(shape))
        if fields is not None:
            if part not in fields:
                return []
            shape = fields[part].annotation
        elif get_origin(_strip_optional(shape)) is dict:
            shape = get_args(_strip_optional(shape))[1]
        else:
            return []
    fields = _fields_of(_strip_optional(shape))
    return list(fields) if fields else []


def _fields_of(shape: Any) -> dict[str, Any] | None:
    if isinstance(shape, type) and issubclass(shape, BaseModel):
        return dict(shape.model_fields)
    fields = getattr(shape, "__pydantic_fields__", None)  # pydantic dataclasses
    return dict(fields) if isinstance(fields, dict) else None


def _strip_optional(shape: Any) -> Any:
    if get_origin(shape) in (Union, types.UnionType):
        members = [arg for arg in get_args(shape) if arg is not type(None)]
        if len(members) == 1:
            return members[0]
    return shape


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a single text value"  # not echoed: a misplaced key would be
    return f"a {type(value).__name__}"
