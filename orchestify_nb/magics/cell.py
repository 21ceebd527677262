"""One ``%%llm`` call: resolve the provider, build and check the request, stream it through the
private-loop runtime into a ``StreamRenderer``, and keep the chat, ``out=`` and metadata.

Every failure a user can cause or fix becomes one ``UsageError`` paragraph (IPython shows it
without a traceback); the exception itself is kept on the session for ``%llm error``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, closing, nullcontext
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from orchestify_nb.magics.interpolation import (
    InterpolationError,
    interpolate,
    interpolate_content,
)
from orchestify_nb.magics.options import CellOptions
from orchestify_nb.providers.content import content_fingerprint, media_parts, text_of

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

    from orchestify_nb.config import AgentConfig
    from orchestify_nb.context import ContextItem
    from orchestify_nb.providers.base import LLMProvider
    from orchestify_nb.providers.content import Content
    from orchestify_nb.providers.types import LLMMessage, LLMRequest, LLMResponse, StreamEvent
    from orchestify_nb.render import OutputFormat, StreamRenderer
    from orchestify_nb.session import NotebookSession
    from orchestify_nb.tokens import TokenCounts

#: The request arguments a cell sets (the messages aside).
RequestArgs = dict[str, Any]


def announce_config_problem(session: NotebookSession) -> None:
    """Say once per session (on its first use) what is wrong with the config."""
    if session.config_problem is not None and not session.problem_announced:
        session.problem_announced = True
        print(
            f"orchestify_nb: the config has a problem, so {session.config_source} is in use "
            f"with the providers it could build ({', '.join(session.registry) or 'none'}). "
            f"{session.config_problem}",
            file=sys.stderr,
        )


def as_usage_error(
    session: NotebookSession, error: BaseException, *, failed_call: bool = False
) -> UsageError:
    """Keep ``error`` for ``%llm error`` and say it in one paragraph; a call that failed (not
    a mistake in the cell) also points at ``%llm error`` for the full chain."""
    session.last_error = error
    text = str(error).rstrip()
    hint = "; `%llm error` shows the full chain" if failed_call else ""
    if "%llm error" in text:
        hint = ""
    return UsageError(f"{text} [{type(error).__name__}{hint}]")


def run_llm_cell(
    shell: InteractiveShell, session: NotebookSession, options: CellOptions, body: str
) -> LLMResponse:
    """Send the cell to the model, render the answer, and return the ``LLMResponse``."""
    from orchestify_nb.errors import OrchestifyError

    announce_config_problem(session)
    try:
        provider, agent = _resolve_provider(session, options)
        budget = context_budget(session, options)
        manifest: list[ContextItem] = []
        prompt = interpolate_content(
            body.strip("\n"), shell.user_ns, budget=budget, manifest=manifest
        )
        written = options.system if options.system is not None else agent and agent.system
        system = (
            interpolate(written, shell.user_ns, budget=budget, manifest=manifest)
            if written
            else None
        )
    except (OrchestifyError, InterpolationError) as error:
        raise as_usage_error(session, error) from None
    if not (media_parts(prompt) or text_of(prompt).strip()):
        raise UsageError("%%llm: the cell has no prompt; write it on the lines below %%llm")

    messages = [*(session.chat(options.chat) if options.chat else []), _user(prompt)]
    args: RequestArgs = {
        "model": options.model or (agent.model if agent else None),
        "temperature": options.temperature
        if options.temperature is not None
        else (agent.temperature if agent else None),
        "max_tokens": options.max_tokens or (agent.max_tokens if agent else None),
        "system": system,
        "thinking": options.thinking,
    }
    if options.schema is not None:
        args["output_schema"] = _schema(shell, options.schema)
    cache_prompt = (
        options.cache_prompt
        if options.cache_prompt is not None
        else (agent.cache_prompt if agent else None)
    )
    if cache_prompt is not None:
        args["cache_prompt"] = cache_prompt
    try:  # rejected options and spent budgets are reported here, before any output or request
        request = provider.build_request(messages, **args)
        provider.usage_sink.check_budget(provider.provider_id)
    except OrchestifyError as error:
        raise as_usage_error(session, error) from None

    if options.tools:  # a tool loop: its own rendering of steps, out= holds the ToolRun
        from orchestify_nb.magics.tool_cell import run_tool_cell

        return run_tool_cell(shell, session, options, provider, messages, args)
    response, renderer = _call(shell, session, provider, options, request)
    renderer.context_lines = [item.line() for item in manifest]
    metadata = answer_metadata(response, options, messages, system)
    if manifest:
        metadata["context"] = [asdict(item) for item in manifest]
    renderer.finish(response, metadata)
    if options.chat:
        session.chat(options.chat).extend([_user(prompt), _assistant(response.content)])
    if options.out:
        shell.user_ns[options.out] = response
    if options.format == "code":
        from orchestify_nb.render import extract_code

        shell.set_next_input(extract_code(response.content).code, replace=False)
    return response


def _call(
    shell: InteractiveShell,
    session: NotebookSession,
    provider: LLMProvider,
    options: CellOptions,
    request: LLMRequest,
) -> tuple[LLMResponse, StreamRenderer]:
    """Send the request as built, under the cell's usage labels; on failure the renderer keeps
    what arrived."""
    from orchestify_nb.render import StreamRenderer

    output_format: OutputFormat = options.format  # type: ignore[assignment]
    renderer = StreamRenderer(
        output_format=output_format,
        terminal=getattr(shell, "kernel", None) is None,
        waiting_label=f"{provider.provider_id} · {request.model}",
    )
    renderer.start()
    try:
        with cell_context(shell, options), one_run_if_typed(request):
            if options.stream:
                renderer.growing_object = request.output_schema
                response = _stream(provider, request, renderer, options.cache)
                if request.output_schema is not None and response.schema_problems:
                    response = _repair(provider, request, response, options.cache)
            else:
                response = _complete(provider, request, options.cache)
    except KeyboardInterrupt:  # the partial answer, its footer and metadata; a one-line error
        from orchestify_nb.magics.interrupted import interrupted_call

        raise interrupted_call(
            renderer, provider, options, request.messages, request.system
        ) from None
    except Exception as error:  # provider errors, and bugs too: one paragraph, chain kept
        renderer.fail(error)
        raise as_usage_error(session, error, failed_call=True) from None
    return response, renderer


def _stream(
    provider: LLMProvider, request: LLMRequest, renderer: StreamRenderer, cache: str | None
) -> LLMResponse:
    from orchestify_nb.runtime import iterate_sync

    async def events() -> AsyncIterator[StreamEvent]:
        try:
            async for event in provider.stream(request, cache=cache):  # type: ignore[arg-type]
                yield event
        finally:  # connections belong to this call's loop: close them on it
            await provider.aclose()

    final: LLMResponse | None = None
    with closing(iterate_sync(events, on_idle=renderer.tick)) as stream:
        for event in stream:
            if event.type == "done":
                final = event.response
            else:
                renderer.add(event)
    if final is None:
        raise RuntimeError("the stream ended without its final event")
    return final


def one_run_if_typed(request: LLMRequest) -> AbstractContextManager[Any]:
    """A typed answer and its repair turn share one ``run_id`` in the ledger."""
    import uuid

    from orchestify_nb.usage.context import call_context

    return call_context(run_id=uuid.uuid4().hex) if request.output_schema else nullcontext()


def _repair(
    provider: LLMProvider, request: LLMRequest, response: LLMResponse, cache: str | None
) -> LLMResponse:
    """A streamed typed answer that does not fit: the repair turns, sent whole (the answer's
    text stays on screen until the repaired object replaces it)."""
    from orchestify_nb.providers.structured import misfit_error, repair_turns, repairable

    assert request.output_schema is not None
    if request.repair == 0 or not repairable(response):
        raise misfit_error(request.output_schema, response, provider.provider_id)
    again = replace(request, messages=repair_turns(request, response), repair=request.repair - 1)
    return _complete(provider, again, cache)


def _complete(provider: LLMProvider, request: LLMRequest, cache: str | None) -> LLMResponse:
    from orchestify_nb.runtime import run_sync

    async def complete() -> LLMResponse:
        try:
            return await provider.complete(request, cache=cache)  # type: ignore[arg-type]
        finally:
            await provider.aclose()

    return run_sync(complete())


def _resolve_provider(
    session: NotebookSession, options: CellOptions
) -> tuple[LLMProvider, AgentConfig | None]:
    registry = session.registry
    if options.agent is not None:
        provider, agent = registry.resolve_agent(options.agent)
        if options.provider is not None:
            provider = registry.get(options.provider)
        return provider, agent
    return registry.get(options.provider), None


def current_cell_number(shell: InteractiveShell) -> int:
    """The number of the cell running now (``In[n]``): IPython 9 counts up before running a
    cell and IPython 8 after, and the display hook's ``prompt_count`` accounts for both."""
    hook: Any = shell.displayhook
    number: int = hook.prompt_count
    return number


def _schema(shell: InteractiveShell, name: str) -> Any:
    """``schema=NAME``: the type (or JSON Schema dict) of that name in the notebook."""
    if name not in shell.user_ns:
        raise UsageError(
            f"%%llm schema={name}: nothing named {name!r} in the notebook; define the type "
            "(e.g. a pydantic model) in a cell above"
        )
    return shell.user_ns[name]


def context_budget(session: NotebookSession, options: CellOptions) -> int:
    """Tokens each ``@{...}`` may take: ``context_tokens=``, else the config's, else 2,000."""
    from orchestify_nb.context import DEFAULT_BUDGET

    configured = session.config.context_tokens if session.config is not None else None
    return options.context_tokens or configured or DEFAULT_BUDGET


def cell_context(shell: InteractiveShell, options: CellOptions) -> AbstractContextManager[Any]:
    """The usage labels of this cell's calls: tag, agent, notebook and cell number."""
    from orchestify_nb.usage.context import call_context

    return call_context(
        tag=options.tag,
        agent=options.agent,
        notebook_path=notebook_path(shell),
        cell_execution_count=current_cell_number(shell),
    )


def notebook_path(shell: InteractiveShell) -> str | None:
    path = os.environ.get("JPY_SESSION_NAME") or shell.user_ns.get("__session__")
    return str(path) if path else None


def _user(content: Content) -> LLMMessage:
    from orchestify_nb.providers.types import LLMMessage

    return LLMMessage(role="user", content=content)


def _assistant(text: str) -> LLMMessage:
    from orchestify_nb.providers.types import LLMMessage

    return LLMMessage(role="assistant", content=text)


def usage_metadata(tokens: TokenCounts) -> dict[str, int]:
    """A call's counts under the ledger's column names, as saved in the output metadata."""
    return {f"{name}_tokens": value for name, value in asdict(tokens).items()}


def prompt_sha256(messages: list[LLMMessage], system: str | None) -> str:
    """Hash of exactly what was sent: the system prompt and every turn, as canonical JSON."""
    sent = {
        "system": system,
        "messages": [{"role": m.role, "content": content_fingerprint(m.content)} for m in messages],
    }
    canonical = json.dumps(sent, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def answer_metadata(
    response: LLMResponse, options: CellOptions, messages: list[LLMMessage], system: str | None
) -> dict[str, Any]:
    """Where an answer came from, saved with the output: provider, model, the options given,
    usage, cost and the prompt's hash (never the prompt's secrets: keys are not in any of it)."""
    params = {k: v for k, v in options.given().items() if k != "system"}
    return {
        "provider": response.provider_id,
        "model": response.model,
        "model_requested": response.model_requested,
        "params": params,
        "usage": usage_metadata(response.tokens),
        "cost_usd": response.cost_usd,
        "priced": response.priced,
        "price_source": response.price_source,
        "latency_s": response.latency_s,
        "time_to_first_token_s": response.time_to_first_token_s,
        "finish_reason": response.finish_reason,
        "prompt_sha256": prompt_sha256(messages, system),
        "record_id": response.record_id,
    }
