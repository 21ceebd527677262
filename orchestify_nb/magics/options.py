"""The ``%%llm`` options: one declaration that generates the magic's help (IPython's
``magic_arguments``) and parses ``key=value`` lines on top of it.

That declaration is the ``CellOptions`` dataclass: each field carries its placeholder, help
line and converter as metadata, and ``CELL_OPTIONS`` is read from the fields, so an option is
added in one place and the parsed value keeps its static type.

Users write ``%%llm provider=gpt model=gpt-4o temperature=0.2``; ``--key value``
works too, because ``key=value`` words are rewritten to ``--key value`` and handed to the same
argparse parser that printed the help. Unknown keys and ill-typed values are caught here with a
message that lists the valid options, before any provider is involved.
"""

from __future__ import annotations

import builtins
import difflib
import keyword
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, kwds, magic_arguments

F = TypeVar("F", bound=Callable[..., Any])

OUTPUT_FORMATS = ("markdown", "text", "code", "json", "html")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}
_KEY_VALUE = re.compile(r"^([A-Za-z_][\w-]*)=(.*)$", re.DOTALL)
#: Names IPython puts in a notebook's namespace (besides the builtins and ``_<n>`` history).
_IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "display"})
_IPYTHON_HISTORY = re.compile(r"^(_+|_i{1,3}|_i?\d+|_ih|_oh|_dh|_sh)$")
#: Where a ``CellOptions`` field keeps its option declaration.
_SPEC_KEY = "option"


def _text(value: str) -> str:
    return value


def _number(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 2.0:
        raise ValueError("expected a number from 0 to 2")
    return number


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError("expected a whole number above 0")
    return number


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError("expected a whole number, 0 or more")
    return number


def _format(value: str) -> str:
    if value not in OUTPUT_FORMATS:
        raise ValueError(f"expected one of {', '.join(OUTPUT_FORMATS)}")
    return value


def _identifier(value: str) -> str:
    if not value.isidentifier() or keyword.iskeyword(value):
        raise ValueError("expected a Python variable name")
    if _shadows_ipython_or_python(value):
        raise ValueError(
            f"{value} is a name IPython or Python itself uses (its history, get_ipython, a "
            "builtin); storing the answer there would break the notebook, so pick another name"
        )
    return value


def _shadows_ipython_or_python(name: str) -> bool:
    """Whether ``name`` belongs to IPython's namespace (``In``, ``Out``, ``_``, ``_i3``,
    ``_oh``, ``get_ipython`` ...), to the builtins, or is a dunder."""
    return (
        name in _IPYTHON_NAMES
        or _IPYTHON_HISTORY.match(name) is not None
        or hasattr(builtins, name)
        or (name.startswith("__") and name.endswith("__"))
    )


CACHE_MODES = ("auto", "replay", "refresh", "off")


def _cache_mode(value: str) -> str:
    if value not in CACHE_MODES:
        raise ValueError(f"expected one of {', '.join(CACHE_MODES)}")
    return value


def _prompt_cache_setting(value: str) -> str | bool:
    """``cache_prompt=``: a TTL as written, else a boolean."""
    return value if value in ("5m", "1h") else _boolean(value)


def _boolean(value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ValueError("expected true or false")


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One ``%%llm`` option: its name, placeholder, help line and converter."""

    name: str
    metavar: str
    help: str
    convert: Callable[[str], Any]
    kind: str


def _option(
    metavar: str, help: str, convert: Callable[[str], Any], kind: str, default: Any = None
) -> Any:
    """A ``CellOptions`` field carrying its option declaration (all but the name) as metadata:
    the field list is the one table the parser, the help and the converters come from."""
    spec = {"metavar": metavar, "help": help, "convert": convert, "kind": kind}
    return field(default=default, metadata={_SPEC_KEY: spec})


@dataclass(frozen=True, slots=True)
class CellOptions:
    """The parsed ``%%llm`` line; ``None`` means "not given" (config defaults apply).

    Each field declares its option (placeholder, help, converter): ``CELL_OPTIONS`` is read
    from these fields, in this order."""

    provider: str | None = _option(
        "ID", "provider id from the config (default: its default_provider)", _text, "a provider id"
    )
    agent: str | None = _option(
        "NAME",
        "agent from the config's agents: section; its provider, model, temperature, "
        "max_tokens and system are the defaults of this call",
        _text,
        "an agent name",
    )
    model: str | None = _option(
        "M", "model name (default: the provider's default_model)", _text, "text"
    )
    temperature: float | None = _option(
        "T", "sampling temperature, 0 to 2", _number, "a number 0-2"
    )
    max_tokens: int | None = _option(
        "N", "longest answer, in tokens", _positive_int, "a whole number > 0"
    )
    system: str | None = _option("TEXT", "system prompt (quote it if it has spaces)", _text, "text")
    format: str = _option(
        "F",
        "markdown (default), text, code (offers the answer as the next cell), json "
        "(validated, pretty-printed) or html",
        _format,
        "one of " + "|".join(OUTPUT_FORMATS),
        default="markdown",
    )
    chat: str | None = _option(
        "NAME", "keep a named conversation: earlier turns are sent too", _text, "a name"
    )
    out: str | None = _option(
        "VAR", "also store the LLMResponse in this variable", _identifier, "a name"
    )
    tag: str | None = _option(
        "LABEL", "label recorded with the call in the usage ledger", _text, "text"
    )
    thinking: int | None = _option(
        "TOKENS",
        "extended-thinking budget in tokens (models that support it)",
        _non_negative_int,
        "a whole number >= 0",
    )
    stream: bool = _option(
        "BOOL", "stream the answer live (default true)", _boolean, "true or false", default=True
    )
    cache: str | None = _option(
        "MODE",
        "response cache: auto (default: reuse an identical temperature-0 answer), replay "
        "(only recorded answers; a miss sends nothing), refresh (ask again) or off",
        _cache_mode,
        "one of " + "|".join(CACHE_MODES),
    )
    context_tokens: int | None = _option(
        "N",
        "most tokens each @{name} may take (default 2000, or the config's context_tokens); "
        "a DataFrame is cut to it (rows first) and the cut is said",
        _positive_int,
        "a whole number > 0",
    )
    schema: str | None = _option(
        "NAME",
        "a type from the notebook (pydantic model, dataclass, TypedDict, Literal[...], "
        "list[Model]) or a JSON Schema dict: the answer is validated into it (one repair turn "
        "if it does not fit) and shown as a table; out=VAR holds the response, VAR.parsed the "
        "object",
        _identifier,
        "a name",
    )
    tools: str | None = _option(
        "NAMES",
        "let the model call these notebook functions (or MCP tools, server.tool), "
        "comma-separated: tools=get_weather,docs.search",
        _text,
        "names, comma-separated",
    )
    max_steps: int | None = _option(
        "N", "with tools=: most model turns (default 10)", _positive_int, "a whole number > 0"
    )
    approve: str | None = _option(
        "RULE",
        "with tools=: ask (asks before each tool call) or the name of a notebook function "
        "that takes the ToolCall and returns True to run it",
        _text,
        "ask or a function name",
    )
    cache_prompt: str | bool | None = _option(
        "TTL",
        "ask the provider's prompt cache: true (5-minute lifetime), 1h, or false; cached input "
        "is billed at the cache-read rate and the saving is in the ledger",
        _prompt_cache_setting,
        "true, false, 5m or 1h",
    )

    def given(self) -> dict[str, Any]:
        """The options the user wrote (for the output metadata)."""
        defaults = CellOptions()
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if getattr(self, f.name) != getattr(defaults, f.name)
        }


CELL_OPTIONS: tuple[OptionSpec, ...] = tuple(
    OptionSpec(name=f.name, **f.metadata[_SPEC_KEY]) for f in fields(CellOptions)
)
OPTION_NAMES: tuple[str, ...] = tuple(spec.name for spec in CELL_OPTIONS)
_SPECS = {spec.name: spec for spec in CELL_OPTIONS}


def usage_line() -> str:
    """``%%llm [provider=ID] ...``, generated from ``CELL_OPTIONS``.

    argparse %-formats the usage and IPython's help formatter prefixes it with one ``%``.
    """
    words = " ".join(f"[{spec.name}={spec.metavar}]" for spec in CELL_OPTIONS)
    return f"%%llm {words}\n  %%llm SUBCOMMAND [ARGS]"


def llm_magic_arguments(epilog: str) -> Callable[[F], F]:
    """Apply ``@magic_arguments`` / ``@argument`` for every option, so ``%%llm?`` prints them."""

    add_argument: Any = argument  # IPython's decorators are untyped
    parser_settings: Any = kwds
    build_parser: Any = magic_arguments

    def decorate(func: F) -> F:
        for spec in reversed(CELL_OPTIONS):
            func = add_argument(f"--{spec.name}", metavar=spec.metavar, help=spec.help)(func)
        words_help = "line form only: see below"
        func = add_argument("words", nargs="*", metavar="SUBCOMMAND", help=words_help)(func)
        func = parser_settings(usage=usage_line(), epilog=epilog)(func)
        decorated: F = build_parser()(func)
        return decorated

    return decorate


def valid_options_text() -> str:
    return "valid options: " + ", ".join(f"{s.name}=<{s.kind}>" for s in CELL_OPTIONS)


def split_words(line: str) -> list[str]:
    """Shell-like split of a magic line (quotes group words), as a ``UsageError`` on bad quotes."""
    try:
        return shlex.split(line, posix=True)
    except ValueError as error:
        raise UsageError(f"%%llm line: {error} ({line.strip()!r}); close the quote") from None


def key_values_to_argv(
    words: Sequence[str], valid: Sequence[str], *, where: str = "%%llm", described: str = ""
) -> list[str]:
    """Rewrite ``key=value`` words to ``--key value`` for argparse, refusing a key not in
    ``valid`` with a did-you-mean and the list of valid ones (``described`` if given)."""
    argv: list[str] = []
    for word in words:
        match = _KEY_VALUE.match(word)
        if match is not None:
            key, value = match.group(1), match.group(2)
            pair = [f"--{key}", value]
        elif word.startswith("--"):
            key = word[2:].partition("=")[0]
            pair = [word]
        else:
            argv.append(word)
            continue
        if key not in valid:
            close = difflib.get_close_matches(key, list(valid), n=1)
            guess = f" (did you mean {close[0]}=?)" if close else ""
            listed = described or "valid options: " + ", ".join(valid)
            raise UsageError(f"{where}: unknown option {key!r}{guess}; {listed}")
        argv.extend(pair)
    return argv


def to_argv(words: Sequence[str]) -> list[str]:
    """The ``%%llm`` line's words as argv for the magic's parser."""
    return key_values_to_argv(words, OPTION_NAMES, described=valid_options_text())


def convert_options(raw: dict[str, str | None]) -> CellOptions:
    """Convert the parser's strings with each option's converter, naming the bad one."""
    values: dict[str, Any] = {}
    for name, text in raw.items():
        if text is None:
            continue
        spec = _SPECS[name]
        try:
            values[name] = spec.convert(text)
        except ValueError as error:
            reason = (
                str(error) if not str(error).startswith(("invalid literal", "could not")) else ""
            )
            raise UsageError(
                f"%%llm: {name}={text!r} is not valid: {reason or 'expected ' + spec.kind}"
            ) from None
    return CellOptions(**values)
