"""Helpers for the ledger tests: synthetic usage records and providers pointed at the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator
from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.record import UsageRecord

#: A fixed moment, so tests about days and windows do not depend on the clock.
NOON = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)


def make_record(
    *,
    provider_id: str = "claude",
    model: str = "claude-sonnet-4-6",
    started_at: datetime | None = None,
    **fields: Any,
) -> UsageRecord:
    """A finished call as the provider base class would record it (fields overridable; the
    ledger columns' token names, ``input_tokens=`` etc., set the record's ``TokenCounts``)."""
    started = started_at or UsageRecord.now()
    values: dict[str, Any] = {
        "provider_type": "anthropic" if provider_id.startswith("claude") else "openai",
        "model_requested": model,
        "input_tokens": 100,
        "output_tokens": 20,
        "cost_usd": 0.0006,
        "priced": True,
        "price_source": "genai-prices 0.2.3",
        "latency_s": 0.5,
        "time_to_first_token_s": 0.1,
        "finish_reason": "stop",
        **fields,
    }
    counts = {
        name.removesuffix("_tokens"): values.pop(name)
        for name in [name for name in values if name.endswith("_tokens")]
    }
    return UsageRecord(
        provider_id=provider_id,
        tokens=TokenCounts(**counts),
        model=model,
        started_at=started,
        finished_at=started + timedelta(seconds=values["latency_s"] or 0),
        **values,
    )


@pytest.fixture
async def claude(llm_emulator: LLMEmulator) -> AsyncIterator[ClaudeProvider]:
    """Claude (the anthropic SDK) against the emulator, recording to the default ledger."""
    provider = ClaudeProvider(
        provider_id="claude",
        api_key="test",
        base_url=llm_emulator.base_url,
        default_model="claude-sonnet-4-6",
        max_retries=0,
    )
    yield provider
    await provider.aclose()


@pytest.fixture
async def openai(llm_emulator: LLMEmulator) -> AsyncIterator[OpenAIProvider]:
    """OpenAI (the openai SDK) against the emulator, recording to the default ledger."""
    provider = OpenAIProvider(
        provider_id="openai",
        api_key="test",
        base_url=llm_emulator.openai_base_url,
        default_model="gpt-4o",
        max_retries=0,
    )
    yield provider
    await provider.aclose()
