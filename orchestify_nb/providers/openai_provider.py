"""OpenAI Chat Completions through the official ``openai`` SDK's ``AsyncOpenAI``.

With a custom ``base_url`` the same provider talks to anything that speaks the API: proxies,
Azure-style gateways, vLLM, a llama.cpp server, a LiteLLM Proxy; model names are then the
server's and are not checked here. The Chat Completions translation lives in
``chat_completions``, shared with ``LiteLLMProvider``, whose responses have the same shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar
from urllib.parse import urlsplit

from orchestify_nb.errors import ModelNotSupportedError
from orchestify_nb.providers._sdk import SDKClientProvider, raise_option_problem, unknown_options
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.chat_completions import (
    PASSTHROUGH_OPTIONS,
    chat_arguments,
    completion_events,
    is_reasoning_model,
    reasoning_effort,
    reasoning_problem,
    stream_chat,
)
from orchestify_nb.providers.prompt_cache import openai_cache_key
from orchestify_nb.providers.types import LLMRequest, ProviderEvent, StreamProgress

#: Current models (named by the installed SDK, not deprecated, priced), newest first.
OPENAI_MODELS: tuple[str, ...] = (
    "gpt-6.1-sol",
    "gpt-6-luna",
    "gpt-5.6-sol",
    "gpt-5.6-terra",
    "gpt-5.6-luna",
    "gpt-5.5",
    "gpt-5.4",
    "gpt-5.4-mini",
    "gpt-4.1",
    "gpt-4o",
)

#: Models that read no images (every other OpenAI model since gpt-4o does); a custom server's
#: own model names are taken to read them, and the server answers for itself.
_TEXT_ONLY_PREFIXES = ("gpt-3.5", "gpt-4-0", "gpt-4-32k", "o1-mini", "o1-preview", "o3-mini")

#: Name prefixes of models api.openai.com serves through Chat Completions.
_OPENAI_PREFIXES = ("gpt-", "o1", "o3", "o4", "chatgpt-", "ft:", "codex-")


class OpenAIProvider(SDKClientProvider):
    """OpenAI models, or any OpenAI-compatible server named by ``base_url``."""

    provider_type: ClassVar[str] = "openai"
    api_key_env: ClassVar[str | None] = "OPENAI_API_KEY"
    sdk_module: ClassVar[str] = "openai"
    sdk_extra: ClassVar[str] = "openai"
    client_class: ClassVar[str] = "AsyncOpenAI"
    catalog: ClassVar[tuple[str, ...]] = OPENAI_MODELS

    @classmethod
    def fallback_model(cls) -> str | None:
        return "gpt-5.4-mini"

    @property
    def serves_any_model(self) -> bool:
        """A custom ``base_url`` serves its own model names, whatever they look like."""
        return self.base_url is not None and urlsplit(self.base_url).hostname != "api.openai.com"

    @property
    def requires_api_key(self) -> bool:
        return not self.serves_any_model  # llama.cpp and vLLM servers often take no key

    def known_models(self) -> list[str]:
        return LLMProvider.known_models(self) if self.serves_any_model else super().known_models()

    def validate_model(self, model: str) -> None:
        if self.serves_any_model or model.startswith(_OPENAI_PREFIXES):
            return
        raise ModelNotSupportedError(
            f"{model!r} is not an OpenAI model",
            provider_id=self.provider_id,
            model=model,
            hint=(
                f"Pick an OpenAI model such as {OPENAI_MODELS[0]}; for a model served elsewhere "
                "set base_url to that server, or use a litellm or anthropic provider."
            ),
        )

    def supports_thinking(self, model: str | None = None) -> bool:
        return is_reasoning_model(model or self.default_model or "")

    def supports_images(self, model: str | None = None) -> bool:
        name = model or self.default_model or ""
        return name != "gpt-4" and not name.startswith(_TEXT_ONLY_PREFIXES)

    def supports_documents(self, model: str | None = None) -> bool:
        """PDFs as ``file`` parts on api.openai.com; other servers get the PDF's text."""
        return not self.serves_any_model and self.supports_images(model)

    def validate_options(self, request: LLMRequest) -> None:
        super().validate_options(request)
        problem = unknown_options(request, PASSTHROUGH_OPTIONS) or reasoning_problem(request)
        raise_option_problem(self.provider_id, request, problem)

    # ---------------------------------------------------------------------------- translation
    def _arguments(self, request: LLMRequest) -> dict[str, Any]:
        arguments = chat_arguments(request)
        if is_reasoning_model(request.model):
            arguments["max_completion_tokens"] = arguments.pop("max_tokens")
            if request.thinking is not None:
                arguments["reasoning_effort"] = reasoning_effort(request.thinking)
        arguments.update(request.options)
        if request.output_schema is not None and "response_format" in arguments:
            # Sent as it is: the SDK would otherwise walk the whole schema against its types
            # on every call (about 1.7 ms, more than the rest of the request).
            extra = dict(arguments.get("extra_body") or {})
            extra["response_format"] = arguments.pop("response_format")
            arguments["extra_body"] = extra
        if request.prompt_cache is not None:  # OpenAI caches long prefixes by itself
            arguments.setdefault("prompt_cache_key", openai_cache_key(request))
        return arguments

    async def _complete(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncIterator[ProviderEvent]:
        progress.model = request.model
        completion = await self._clients.get().chat.completions.create(**self._arguments(request))
        for event in completion_events(completion, progress):
            yield event

    def _stream(
        self, request: LLMRequest, progress: StreamProgress
    ) -> AsyncIterator[ProviderEvent]:
        progress.model = request.model
        create = self._clients.get().chat.completions.create
        return stream_chat(create, self._arguments(request), progress)
