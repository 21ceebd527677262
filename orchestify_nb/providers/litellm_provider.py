"""Any backend LiteLLM knows (Azure, Bedrock, Vertex, Ollama, vLLM, ...) via `acompletion`.

LiteLLM answers in the Chat Completions shape, so the translation is ``openai_provider``'s.
It is imported on first use, told never to fetch its model cost map from the network, kept
quiet, and kept from retrying (the base class retries every provider the same way).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any, ClassVar

from orchestify_nb.providers._sdk import import_sdk, raise_option_problem, unknown_options
from orchestify_nb.providers._sdk_errors import map_sdk_error
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.claude import thinking_problem
from orchestify_nb.providers.errors import ProviderError
from orchestify_nb.providers.openai_provider import (
    PASSTHROUGH_OPTIONS as OPENAI_OPTIONS,
)
from orchestify_nb.providers.openai_provider import (
    chat_arguments,
    is_reasoning_model,
    reasoning_effort,
    reasoning_problem,
    response_from_completion,
    stream_chat_events,
)
from orchestify_nb.providers.types import LLMRequest, LLMResponse, StreamEvent, StreamProgress

PASSTHROUGH_OPTIONS = OPENAI_OPTIONS | {
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
    """Import LiteLLM once, configured for a library: offline cost map, quiet, no own retries."""
    global _configured
    if _configured is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        litellm: Any = import_sdk("litellm", "litellm")
        litellm.suppress_debug_info = True
        litellm.num_retries = 0
        for name in _NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
        _configured = litellm
    return _configured


def _is_claude(model: str) -> bool:
    return "claude" in model.rsplit("/", 1)[-1]


class LiteLLMProvider(LLMProvider):
    """Models named the LiteLLM way (``provider/model``, e.g. ``anthropic/claude-sonnet-4-6``).

    ``base_url`` becomes LiteLLM's ``api_base``; the key, when given, is passed through, else
    LiteLLM reads the backend's own environment variable.
    """

    provider_type: ClassVar[str] = "litellm"

    def supports_tools(self, model: str | None = None) -> bool:
        return True

    def supports_thinking(self, model: str | None = None) -> bool:
        name = model or self.default_model or ""
        if _is_claude(name) or is_reasoning_model(name):
            return True
        try:
            return bool(import_litellm().supports_reasoning(model=name))
        except Exception:  # an unmapped model: LiteLLM raises rather than answering no
            return False

    async def _prepare(self) -> None:
        """Import LiteLLM in a worker thread the first time: it takes seconds."""
        if _configured is None:
            await asyncio.to_thread(import_litellm)

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

    def _arguments(self, request: LLMRequest) -> dict[str, Any]:
        arguments = chat_arguments(request)
        arguments.update(timeout=self.timeout, num_retries=0, max_retries=0)
        if self.base_url:
            arguments["api_base"] = self.base_url
        key = self._plain_api_key()
        if key:
            arguments["api_key"] = key
        if request.thinking is not None:
            if _is_claude(request.model):
                arguments["thinking"] = {"type": "enabled", "budget_tokens": request.thinking}
            else:
                arguments["reasoning_effort"] = reasoning_effort(request.thinking)
        arguments.update(request.options)
        return arguments

    async def _complete(self, request: LLMRequest, progress: StreamProgress) -> LLMResponse:
        progress.model = request.model
        litellm = import_litellm()
        completion = await litellm.acompletion(**self._arguments(request))
        return response_from_completion(completion, progress)

    def _stream(self, request: LLMRequest, progress: StreamProgress) -> AsyncIterator[StreamEvent]:
        progress.model = request.model
        arguments = self._arguments(request)

        async def open_stream() -> Any:
            return await import_litellm().acompletion(
                **arguments, stream=True, stream_options={"include_usage": True}
            )

        return stream_chat_events(open_stream, progress)
