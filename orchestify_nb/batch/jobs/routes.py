"""Which batch API a provider's model reaches, if any.

The anthropic and openai providers reach their own APIs' batch endpoints (an openai provider
with ``base_url``: that gateway's OpenAI-compatible Batch API). A LiteLLM provider reaches them
for the models it routes to Anthropic or OpenAI (``anthropic/claude-...``, ``openai/gpt-...``,
or a bare name LiteLLM's model map files under one of them), at its ``base_url`` (``api_base``)
if set: the job goes through the same SDK paths, with the model named as that API names it.
Other routes (Azure, Bedrock, Vertex, Ollama...) and the local model have no batch mode here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from orchestify_nb.batch.jobs.job import BatchJob, submit
from orchestify_nb.batch.jobs.plan import BatchApi

if TYPE_CHECKING:
    from orchestify_nb.providers.base import LLMProvider

BATCH_APIS: tuple[BatchApi, ...] = ("anthropic", "openai")


@dataclass(frozen=True, slots=True)
class BatchRoute:
    """A batch API, the model as that API names it, and where it is (``None``: the API's own
    address)."""

    api: BatchApi
    model: str
    base_url: str | None


def batch_route(provider: LLMProvider, model: str) -> BatchRoute | None:
    """The batch API ``provider`` reaches for ``model``, or ``None`` when it has none."""
    kind = provider.provider_type
    if kind in BATCH_APIS:
        return BatchRoute(kind, model, provider.base_url)
    if kind != "litellm":
        return None
    prefix, _, rest = model.partition("/")
    if rest and prefix in BATCH_APIS:
        return BatchRoute(prefix, rest, provider.base_url)
    if rest:
        return None
    from orchestify_nb.pricing import litellm_model_info

    info = litellm_model_info(model)
    routed = info.get("litellm_provider") if info is not None else None
    if routed in BATCH_APIS:
        return BatchRoute(cast(BatchApi, routed), model, provider.base_url)
    return None


def submit_through(
    provider: LLMProvider, route: BatchRoute, prompts: list[str], **settings: Any
) -> BatchJob:
    """Submit ``prompts`` to ``route`` with what ``provider`` brings: its ``pricing:``
    overrides, its id (kept with the job) and its key (for the SDK client only); ``settings``
    are ``submit``'s others (``max_tokens``, ``system``, ``tag``...)."""
    return submit(
        prompts,
        api=route.api,
        model=route.model,
        base_url=route.base_url,
        pricing=provider.pricing_overrides,
        provider_id=provider.provider_id,
        api_key=provider._plain_api_key(),
        **settings,
    )


def no_batch_mode(provider: LLMProvider, model: str) -> str:
    """Why ``provider`` has no batch mode for ``model``, in a phrase."""
    if provider.provider_type == "litellm":
        return (
            f"LiteLLM's route for {model!r} has no batch API here (batch jobs go to Anthropic "
            "and OpenAI: anthropic/... and openai/... models)"
        )
    return f"the {provider.provider_type!r} provider has no batch API"
