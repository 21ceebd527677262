"""The ``%llm SUBCOMMAND`` line magics: providers, models, config, usage, cost, budget, panel,
history, reset, error and help.

``SUBCOMMANDS`` is the one declaration: the magic's help is generated from it and dispatch goes
through it. Each command returns what is worth keeping in ``_`` (a DataFrame, a list) or prints.
"""

from __future__ import annotations

import argparse
import difflib
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from orchestify_nb.magics.cache_command import CACHE_ARGS
from orchestify_nb.magics.options import key_values_to_argv

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from orchestify_nb.session import NotebookSession


@dataclass(frozen=True, slots=True)
class CommandContext:
    """What a subcommand may use: the shell, the session and the magic's full help text."""

    shell: InteractiveShell
    session: NotebookSession
    help_text: str


Handler = Callable[[CommandContext, list[str]], Any]


@dataclass(frozen=True, slots=True)
class Subcommand:
    name: str
    arguments: str
    help: str
    handler: Handler


def _providers(context: CommandContext, args: list[str]) -> Any:
    _no_arguments("providers", args)
    rows = [info.as_row() for info in context.session.registry.describe()]
    if not rows:
        print(f"No providers are configured ({context.session.config_source}).")
        return None
    import pandas as pd

    return pd.DataFrame(rows).set_index("id")


def _models(context: CommandContext, args: list[str]) -> Any:
    registry = context.session.registry
    if len(args) > 1:
        raise UsageError("%llm models takes one provider id, e.g. %llm models claude")
    provider = registry.get(args[0] if args else None)
    models = provider.known_models()
    print(
        f"{provider.provider_id} ({provider.provider_type}), default model "
        f"{provider.default_model or '-'}; any model name is accepted by model=..."
    )
    return models


def _config(context: CommandContext, args: list[str]) -> Any:
    from orchestify_nb.session import build_session, set_session

    if len(args) > 1:
        raise UsageError("%llm config takes at most one path, e.g. %llm config ./orchestify.yaml")
    session = context.session
    if args:
        loaded = build_session(args[0])
        if loaded.config is None:
            session.last_error = loaded.config_problem
            raise UsageError(f"{loaded.config_problem} (the config in use did not change)")
        loaded.chats = session.chats
        loaded.problem_announced = True
        set_session(loaded)
        session = loaded
    print(describe_session(session))
    return None


def describe_session(session: NotebookSession) -> str:
    """A few lines: the config's source, its providers, agents, default and any problem."""
    registry = session.registry
    lines = [
        f"config: {session.config_source}",
        f"providers: {', '.join(registry) or 'none'}",
        f"default provider: {registry.default_provider_id or 'none'}",
        f"agents: {', '.join(registry.agents) or 'none'}",
    ]
    if session.config_problem is not None:
        lines.append(f"problem: {session.config_problem}")
    return "\n".join(lines)


def _usage(context: CommandContext, args: list[str]) -> Any:
    parser = argparse.ArgumentParser(prog="%llm usage", add_help=False, exit_on_error=False)
    parser.add_argument("--by", default="provider,model")
    parser.add_argument("--since", default=None)
    parser.add_argument("--tag", default=None)
    try:
        parsed = parser.parse_args(key_values_to_argv(args, ("by", "since", "tag")))
    except (argparse.ArgumentError, SystemExit) as error:
        raise UsageError(f"%llm usage: {error}; usage: %llm usage {_USAGE_ARGS}") from None
    from orchestify_nb.usage import get_default_ledger
    from orchestify_nb.usage.reports import usage_table

    by = [column.strip() for column in parsed.by.split(",") if column.strip()]
    return usage_table(get_default_ledger(), by=by, since=parsed.since, tag=parsed.tag)


def _cost(context: CommandContext, args: list[str]) -> Any:
    _no_arguments("cost", args)
    from orchestify_nb.usage import get_default_ledger
    from orchestify_nb.usage.reports import cost_line

    print(cost_line(get_default_ledger()))
    return None


def _budget(context: CommandContext, args: list[str]) -> Any:
    _no_arguments("budget", args)
    from orchestify_nb.usage import get_default_ledger
    from orchestify_nb.usage.reports import budget_table

    return budget_table(get_default_ledger())


def _panel(context: CommandContext, args: list[str]) -> Any:
    _no_arguments("panel", args)
    from orchestify_nb.widgets import Panel

    Panel().show()
    return None


def _history(context: CommandContext, args: list[str]) -> Any:
    chats = context.session.chats
    if not args:
        if not chats:
            print("No conversations yet; start one with %%llm chat=NAME")
        for name, turns in chats.items():
            print(f"{name}: {len(turns)} turns")
        return None
    name = args[0]
    if name not in chats:
        raise UsageError(
            f"%llm history: no conversation {name!r}; conversations: {', '.join(chats) or 'none'}"
        )
    from IPython.display import display

    from orchestify_nb.providers.content import shown_text

    show: Any = display
    text = "\n\n".join(f"**{turn.role}**: {shown_text(turn.content)}" for turn in chats[name])
    plain = "\n\n".join(f"{turn.role}: {shown_text(turn.content)}" for turn in chats[name])
    show({"text/markdown": text or "(empty)", "text/plain": plain or "(empty)"}, raw=True)
    return None


def _reset(context: CommandContext, args: list[str]) -> Any:
    if len(args) > 1:
        raise UsageError("%llm reset takes at most one conversation name")
    forgotten = context.session.reset_chat(args[0] if args else None)
    if args and not forgotten:
        known = ", ".join(context.session.chats) or "none"
        raise UsageError(f"%llm reset: no conversation {args[0]!r}; conversations: {known}")
    print(f"Forgot {', '.join(forgotten) or 'nothing (no conversations)'}.")
    return None


def _error(context: CommandContext, args: list[str]) -> Any:
    _no_arguments("error", args)
    error = context.session.last_error
    if error is None:
        print("No error so far in this session.")
        return None
    from orchestify_nb.errors import redact

    text = "".join(traceback.format_exception(error))
    secrets: list[str | None] = []
    for provider_id in context.session.registry:
        secrets.extend(context.session.registry.get(provider_id)._secret_values())
    print(redact(text, secrets), file=sys.stderr)
    return None


def _help(context: CommandContext, args: list[str]) -> Any:
    print(context.help_text)
    return None


def _cache(context: CommandContext, args: list[str]) -> Any:
    from orchestify_nb.magics.cache_command import cache_command

    return cache_command(args)


def _fix(context: CommandContext, args: list[str]) -> Any:
    from orchestify_nb.magics.fix_command import fix_command

    return fix_command(context, args)


def _explain(context: CommandContext, args: list[str]) -> Any:
    from orchestify_nb.magics.fix_command import explain_command

    return explain_command(context, args)


def _jobs(context: CommandContext, args: list[str]) -> Any:
    _no_arguments("jobs", args)
    from orchestify_nb.batch.jobs.listing import jobs_frame

    return jobs_frame()


def _no_arguments(name: str, args: list[str]) -> None:
    if args:
        raise UsageError(f"%llm {name} takes no arguments (got {' '.join(args)!r})")


_USAGE_ARGS = "[by=provider,model] [since=7d] [tag=LABEL]"

SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "providers", "", "configured providers: type, default model, key present", _providers
    ),
    Subcommand("models", "[PROVIDER]", "models a provider knows (model= accepts any)", _models),
    Subcommand("config", "[PATH]", "show the config in use, or load the one at PATH", _config),
    Subcommand("usage", _USAGE_ARGS, "usage summary from the ledger (a DataFrame)", _usage),
    Subcommand("cost", "", "total cost so far and the top models", _cost),
    Subcommand("budget", "", "budgets and how much of each is spent", _budget),
    Subcommand("cache", CACHE_ARGS, "response cache: stats, export/import, clear", _cache),
    Subcommand(
        "fix",
        "[QUESTION]",
        "explain the last error and offer the fixed cell (%%llm fix OPTIONS: the body asks)",
        _fix,
    ),
    Subcommand("explain", "@{NAME}", "describe an object of the notebook", _explain),
    Subcommand("jobs", "", "provider batch jobs: state and progress (a DataFrame)", _jobs),
    Subcommand("panel", "", "open the widget panel", _panel),
    Subcommand("history", "[NAME]", "show a chat=NAME conversation (or list them)", _history),
    Subcommand("reset", "[NAME]", "forget a chat=NAME conversation (or all)", _reset),
    Subcommand("error", "", "the full chain of the last error, for debugging", _error),
    Subcommand("help", "", "this help", _help),
)
_BY_NAME = {command.name: command for command in SUBCOMMANDS}


def subcommands_help() -> str:
    """The subcommand part of the magic's help (long invocations get the help on a new line)."""
    width = 22
    lines = []
    for command in SUBCOMMANDS:
        invocation = f"%llm {command.name} {command.arguments}".rstrip()
        if len(invocation) > width:
            lines.append(f"  {invocation}\n  {'':<{width}}  {command.help}")
        else:
            lines.append(f"  {invocation:<{width}}  {command.help}")
    return "line form (%llm SUBCOMMAND):\n" + "\n".join(lines)


def run_subcommand(context: CommandContext, words: Sequence[str]) -> Any:
    """Dispatch ``%llm WORDS...`` to its subcommand."""
    if not words:
        return _help(context, [])
    name, args = words[0], list(words[1:])
    command = _BY_NAME.get(name)
    if command is None:
        if "=" in name:
            raise UsageError(
                f"%llm: {name!r} looks like an option; options go on the %%llm line of a cell "
                "whose body is the prompt. Subcommands: " + ", ".join(_BY_NAME)
            )
        close = difflib.get_close_matches(name, list(_BY_NAME), n=1)
        guess = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(
            f"%llm: unknown subcommand {name!r}{guess}; subcommands: {', '.join(_BY_NAME)}"
        )
    return command.handler(context, args)
