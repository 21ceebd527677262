"""The seed's ``ProviderRegistry.from_config(config.providers)`` keeps the config's top-level
``pricing:``: a self-hosted model priced there is priced (and recorded so) through that call."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestify_nb.config import load_config
from orchestify_nb.registry import ProviderRegistry
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger

MODEL = "my-llama-3-8b"


def _config_text(emulator: LLMEmulator) -> str:
    return (
        "providers:\n"
        "  llama:\n"
        "    type: openai\n"
        "    api_key: sk-local\n"
        f"    base_url: {emulator.openai_base_url}\n"
        f"    default_model: {MODEL}\n"
        "    max_retries: 0\n"
        "pricing:\n"
        f"  {MODEL}: {{input_per_mtok: 2.0, output_per_mtok: 6.0}}\n"
    )


async def test_a_model_priced_at_top_level_is_priced_through_the_seeds_call(
    llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(_config_text(llm_emulator), encoding="utf-8")
    config = load_config(path)
    ledger = Ledger(":memory:")
    registry = ProviderRegistry.from_config(config.providers, usage_sink=ledger)
    llm_emulator.enqueue(Reply(text="hello", input_tokens=1000, output_tokens=500, model=MODEL))
    try:
        response = await registry.get("llama").complete("hi")
    finally:
        await registry.aclose()

    assert response.priced is True
    assert response.cost_usd == pytest.approx(1000 * 2.0 / 1e6 + 500 * 6.0 / 1e6)
    assert ledger.totals().total_cost_usd == pytest.approx(response.cost_usd)
    ledger.close()


def test_the_seeds_form_and_the_whole_config_price_alike(tmp_path: Path) -> None:
    config = load_config(
        {
            "providers": {"llama": {"type": "openai", "default_model": MODEL}},
            "pricing": {MODEL: {"input_per_mtok": 2.0, "output_per_mtok": 6.0}},
        }
    )
    seed = ProviderRegistry.from_config(config.providers).get("llama")
    whole = ProviderRegistry.from_config(config).get("llama")
    assert seed.pricing_overrides == whole.pricing_overrides == config.provider_pricing("llama")
