"""Any backend LiteLLM knows (Azure, Bedrock, Vertex, Ollama, vLLM, ...) via `acompletion`.

LiteLLM answers in the Chat Completions shape, so the translation is ``chat_completions``',
plus LiteLLM's ``thinking_blocks``: Claude's signed thinking, which a tool loop with extended
thinking must send back. LiteLLM is imported on first use, told never to fetch its model cost
map from the network, kept quiet, and kept from retrying (the base class retries every
provider the same way).
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from collections.abc import AsyncIterator, Iterable, Mapping
from functools import cached_property
from types import ModuleType
from typing import Any, ClassVar

from orchestify_nb.errors import ProviderError
from orchestify_nb.providers._sdk import (
    NO_KEY_PLACEHOLDER,
    ClientPerLoop,
    HeaderSendingProvider,
    import_sdk,
    raise_option_problem,
    scrub_sdk_loggers,
    unknown_options,
)
from orchestify_nb.providers._sdk_errors import map_sdk_error
from orchestify_nb.providers.anthropic_api import thinking_block, thinking_problem
from orchestify_nb.providers.chat_completions import PASSTHROUGH_OPTIONS as CHAT_OPTIONS
from orchestify_nb.providers.chat_completions import (
    chat_arguments,
    completion_events,
    is_reasoning_model,
    reasoning_effort,
    reasoning_problem,
    stream_chat,
)
from orchestify_nb.providers.prompt_cache import chat_breakpoints, openai_cache_key
from orchestify_nb.providers.types import LLMRequest, ProviderEvent, StreamProgress
from orchestify_nb.providers.wire_format import cap_response_size
from orchestify_nb.redaction import split_url_credentials

PASSTHROUGH_OPTIONS = CHAT_OPTIONS | {
    "top_k",
    "api_version",
    "custom_llm_provider",
    "drop_params",
    "aws_region_name",
    "vertex_project",
    "vertex_location",
}

#: LiteLLM loggers that print debug banners or per-call lines unless told otherwise.
_NOISY_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm")

_configured: ModuleType | None = None


def import_litellm() -> ModuleType:
    """Import LiteLLM once, configured for a library: offline cost map, quiet (and scrubbed),
    no own retries."""
    global _configured
    if _configured is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        litellm: Any = import_sdk("litellm", "litellm")
        litellm.suppress_debug_info = True
        litellm.num_retries = 0
        for name in _NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        scrub_sdk_loggers()
        _configured = litellm
    return _configured


def litellm_route(model: str, base_url: str | None) -> str | None:
    """The backend LiteLLM sends ``model`` to (``anthropic``, ``openai``, ...), or ``None`` when
    it does not know (LiteLLM then raises its own error on the call)."""
    try:
        route: str = import_litellm().get_llm_provider(model=model, api_base=base_url)[1]
    except Exception:
        return None
    return route


def _is_claude(model: str) -> bool:
    return "claude" in model.rsplit("/", 1)[-1]


def replayable_blocks(blocks: Iterable[Mapping[str, Any]] | None) -> tuple[dict[str, Any], ...]:
    """The answer's ``thinking_blocks`` that can go back to the API, as ``provider_blocks``.

    Kept: signed ``thinking`` and ``redacted_thinking`` blocks, in the shape ``ClaudeProvider``
    keeps them, so a conversation can move between the two providers. Unsigned thinking (open
    reasoning models through LiteLLM) is left out: Anthropic refuses it, and its text is already
    the response's ``thinking``.
    """
    kept: list[dict[str, Any]] = []
    for block in blocks or ():
        kind = block.get("type")
        if kind == "thinking" and block.get("signature"):
            kept.append(thinking_block(block.get("thinking") or "", block["signature"]))
        elif kind == "redacted_thinking" and block.get("data"):
            kept.append({"type": "redacted_thinking", "data": block["data"]})
    return tuple(kept)


class StreamedThinkingBlocks:
    """Thinking blocks put back together from a LiteLLM stream's deltas.

    Each delta's ``thinking_blocks`` holds fragments: a piece of a block's text, its signature
    (after the text), or a whole redacted block; ``index`` says which block a fragment belongs
    to. LiteLLM's Anthropic and Bedrock streams number every fragment; one without a number
    (Gemini's streams) cannot be placed, so it is left out and its text stays in ``thinking``.
    """

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, Any]] = {}  # block index -> type and field pieces

    def add(self, delta: Any) -> None:
        for fragment in getattr(delta, "thinking_blocks", None) or ():
            index = fragment.get("index")
            if index is None:
                continue
            parts = self._parts.setdefault(index, {"type": fragment.get("type")})
            for field in ("thinking", "signature", "data"):
                if fragment.get(field):
                    parts.setdefault(field, []).append(fragment[field])

    def blocks(self) -> tuple[dict[str, Any], ...]:
        return replayable_blocks(
            {name: value if name == "type" else "".join(value) for name, value in parts.items()}
            for _, parts in sorted(self._parts.items())
        )


class LiteLLMProvider(HeaderSendingProvider):
    """Models named the LiteLLM way (``provider/model``, e.g. ``anthropic/claude-sonnet-4-6``).

    ``base_url`` becomes LiteLLM's ``api_base``; the key, when given, is passed through, else
    LiteLLM reads the backend's own environment variable. ``headers`` go with every call as
    LiteLLM's ``extra_headers`` (a per-call ``extra_headers=`` option adds to them).

    An assistant turn's ``provider_blocks`` go back as the message's ``thinking_blocks``, which
    LiteLLM's Anthropic and Bedrock translations put first in the turn. Its OpenAI-compatible
    routes (``openai/``) forward the field as it is, so a strict server there may refuse a
    conversation carried over from Claude with its thinking.
    """

    provider_type: ClassVar[str] = "litellm"

    def supports_tools(self, model: str | None = None) -> bool:
        """Unless LiteLLM's model map says ``supports_function_calling: false``.

        Permissive on purpose: LiteLLM routes self-hosted and newly released models the map
        does not know (``ollama/...``, ``hosted_vllm/...``), and the map leaves the flag out
        for many that do call tools (``azure/o3-mini``), so only an explicit ``false`` refuses
        tools before sending; a server that cannot call them still answers with its own error.
        Read from the JSON file LiteLLM ships, never by importing LiteLLM (see
        ``supports_thinking``).
        """
        info = self._model_info(model)
        return info is None or info.get("supports_function_calling") is not False

    def supports_thinking(self, model: str | None = None) -> bool:
        """Claude and OpenAI reasoning models by name, other models by LiteLLM's model map.

        The map is read from the JSON file LiteLLM ships (``pricing.litellm_model_info``), not by
        importing LiteLLM, which takes seconds: pickers and option checks ask this per model.
        A model the map does not know is taken not to reason.
        """
        name = model or self.default_model or ""
        if _is_claude(name) or is_reasoning_model(name):
            return True
        info = self._model_info(name)
        return info is not None and info.get("supports_reasoning") is True

    def supports_images(self, model: str | None = None) -> bool:
        """By LiteLLM's model map (``supports_vision``); a model it does not know is let
        through, and its server answers for itself (as with ``supports_tools``)."""
        info = self._model_info(model)
        return info is None or info.get("supports_vision") is True

    def supports_documents(self, model: str | None = None) -> bool:
        """Only where the map says ``supports_pdf_input``; elsewhere the PDF's text is sent."""
        info = self._model_info(model)
        return info is not None and info.get("supports_pdf_input") is True

    def _model_info(self, model: str | None) -> Mapping[str, Any] | None:
        from orchestify_nb.pricing import litellm_model_info

        name = model or self.default_model
        return litellm_model_info(name) if name else None

    async def _prepare(self) -> None:
        """Import LiteLLM in a worker thread the first time: it takes seconds."""
        if _configured is None:
            await asyncio.to_thread(import_litellm)
        scrub_sdk_loggers()

    def validate_options(self, request: LLMRequest) -> None:
        super().validate_options(request)
        family_problem = (
            thinking_problem(request) if _is_claude(request.model) else reasoning_problem(request)
        )
        problem = unknown_options(request, PASSTHROUGH_OPTIONS) or family_problem
        raise_option_problem(self.provider_id, request, problem)

    def _map_error(self, error: Exception) -> ProviderError | None:
        # LiteLLM's exceptions subclass the OpenAI SDK's (a LiteLLM dependency).
        openai = import_sdk("openai", "litellm")
        return map_sdk_error(
            error,
            status_error=openai.APIStatusError,
            connection_error=openai.APIConnectionError,
            timeout_error=openai.APITimeoutError,
            auth_hint="Check api_key in this provider's config, or the backend's key variable.",
            secrets=self._secret_values(),
        )

    @cached_property
    def _redirect_free_clients(self) -> dict[str, ClientPerLoop[Any]]:
        """Per LiteLLM route, the HTTP client it is handed as ``client=``: one that follows no
        redirect. LiteLLM's own clients follow redirects, and httpx drops only
        ``Authorization`` on the way, so a 307 to another host would receive ``x-api-key`` and
        the configured headers. Routes not listed here keep LiteLLM's clients."""
        return {
            "anthropic": ClientPerLoop(self._litellm_http_client),
            "openai": ClientPerLoop(self._openai_client),
        }

    def _litellm_http_client(self) -> Any:
        """LiteLLM's own HTTP client, redirects off, and bodies capped at
        ``MAX_RESPONSE_BYTES``: LiteLLM reads a whole body, and scrubs one it cannot parse with
        regexes on the event loop (a 10 MB page froze the loop for over a minute)."""
        from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler

        return AsyncHTTPHandler(
            timeout=self.timeout,
            event_hooks={"response": [cap_response_size]},
            follow_redirects=False,
        )

    def _openai_client(self) -> Any:
        """What LiteLLM's ``openai/`` route would build (the key, else ``OPENAI_API_KEY``, over
        LiteLLM's own aiohttp transport, which reads a stream in large pieces: the SDK's h11
        reads one network read per chunk, ~100 µs more per chunk), with redirects off."""
        import httpx
        from litellm.llms.custom_httpx.http_handler import AsyncHTTPHandler, get_ssl_configuration

        openai = import_sdk("openai", "litellm")
        key = self._plain_api_key() or os.environ.get("OPENAI_API_KEY") or NO_KEY_PLACEHOLDER
        base_url, url_auth = split_url_credentials(self.base_url)
        tls = get_ssl_configuration()
        transport = AsyncHTTPHandler.create_async_transport(
            ssl_context=tls if isinstance(tls, ssl.SSLContext) else None,
            ssl_verify=tls if isinstance(tls, bool) else None,
        )
        return openai.AsyncOpenAI(
            api_key=key,
            base_url=base_url,
            default_headers=url_auth or None,
            timeout=self.timeout,
            max_retries=0,
            http_client=httpx.AsyncClient(verify=tls, transport=transport, follow_redirects=False),
        )

    async def aclose(self) -> None:
        for clients in self._redirect_free_clients.values():
            await clients.aclose()

    def _arguments(self, request: LLMRequest) -> dict[str, Any]:
        arguments = chat_arguments(request, thinking_blocks=True)
        arguments.update(timeout=self.timeout, num_retries=0, max_retries=0)
        clients = self._redirect_free_clients.get(litellm_route(request.model, self.base_url) or "")
        if clients is not None:
            arguments["client"] = clients.get()
        api_base, url_auth = split_url_credentials(self.base_url)
        if api_base:
            arguments["api_base"] = api_base  # its credentials go as a header, never logged
        key = self._plain_api_key()
        if key:
            arguments["api_key"] = key
        if request.thinking is not None:
            if _is_claude(request.model):
                arguments["thinking"] = {"type": "enabled", "budget_tokens": request.thinking}
            else:
                arguments["reasoning_effort"] = reasoning_effort(request.thinking)
        arguments.update(request.options)
        if request.prompt_cache is not None:
            if _is_claude(request.model):
                chat_breakpoints(arguments, request.prompt_cache)
            else:
                arguments.setdefault("prompt_cache_key", openai_cache_key(request))
        headers = {**url_auth, **self._plain_headers()}
        if headers:
            arguments["extra_headers"] = {**headers, **(request.options.get("extra_headers") or {})}
        return arguments

    async def _complete(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncIterator[ProviderEvent]:
        progress.model = request.model
        completion = await import_litellm().acompletion(**self._arguments(request))
        message = completion.choices[0].message
        blocks = replayable_blocks(getattr(message, "thinking_blocks", None))
        for event in completion_events(completion, progress, blocks):
            yield event

    def _stream(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncIterator[ProviderEvent]:
        progress.model = request.model
        create = import_litellm().acompletion
        return stream_chat(create, self._arguments(request), progress, StreamedThinkingBlocks())
