"""``cache_prompt=`` over the real SDKs: Anthropic breakpoints where the API rules allow them,
cache reads on the next call and the saving in the ledger to the cent; OpenAI's
``prompt_cache_key``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestify_nb.config import load_config
from orchestify_nb.errors import ConfigError, InvalidArgumentError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.caching import resolve_cache_mode, set_default_cache_mode
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.litellm_provider import LiteLLMProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.registry import ProviderRegistry
from orchestify_nb.session import build_session
from orchestify_nb.testing import LLMEmulator
from orchestify_nb.usage.ledger import Ledger
from tests.providers.conftest import SECRET_KEY

#: A system prompt of about 3,000 tokens: above every Claude model's minimum but Haiku 4.5's.
HANDBOOK = "Answer as the company handbook says. " * 330
#: claude-sonnet-4-6 list prices per million tokens: input, cache read, 5-minute cache write.
SONNET_INPUT, SONNET_CACHE_READ, SONNET_CACHE_WRITE = 3.00, 0.30, 3.75


@pytest.fixture(params=["claude", "litellm-anthropic"])
async def claude(request: pytest.FixtureRequest, llm_emulator: LLMEmulator) -> Any:
    """Claude directly and through LiteLLM's anthropic route (which translates the marks)."""
    if request.param == "claude":
        provider: LLMProvider = ClaudeProvider(
            api_key=SECRET_KEY, base_url=llm_emulator.base_url, default_model="claude-sonnet-4-6"
        )
    else:
        provider = LiteLLMProvider(
            api_key=SECRET_KEY,
            base_url=llm_emulator.base_url,
            default_model="anthropic/claude-sonnet-4-6",
        )
    yield provider
    await provider.aclose()


def marks(body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Where the request carries ``cache_control``: ``system``, ``tools`` or ``messages.N``."""
    found: list[tuple[str, dict[str, Any]]] = []
    system = body.get("system")
    for block in system if isinstance(system, list) else []:
        if "cache_control" in block:
            found.append(("system", block["cache_control"]))
    for tool in body.get("tools") or []:
        if "cache_control" in tool:
            found.append(("tools", tool["cache_control"]))
    for index, message in enumerate(body["messages"]):
        content = message["content"]
        for block in content if isinstance(content, list) else []:
            if "cache_control" in block:
                found.append((f"messages.{index}", block["cache_control"]))
    return found


async def test_cache_prompt_marks_the_system_prompt_and_the_end_of_the_conversation(
    claude: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    await claude.complete("What is the travel policy?", system=HANDBOOK, cache_prompt=True)

    body = llm_emulator.requests[-1].body
    assert marks(body) == [("system", {"type": "ephemeral"}), ("messages.0", {"type": "ephemeral"})]


async def test_the_second_call_reads_the_cache_and_the_ledger_saving_matches_a_hand_computation(
    claude: LLMProvider, llm_emulator: LLMEmulator, isolated_ledger: Ledger
) -> None:
    first = await claude.complete("What is the travel policy?", system=HANDBOOK, cache_prompt=True)
    second = await claude.complete("And the expense limit?", system=HANDBOOK, cache_prompt=True)

    assert first.tokens.cache_read == 0 and first.tokens.cache_write > 2000
    assert second.tokens.cache_read > 2000  # the system prompt, read back
    assert second.tokens.cache_write < 100  # only the new question was written
    rows = isolated_ledger.records()
    assert [row.id for row in rows] == [first.record_id, second.record_id]
    for row in rows:
        read, write = row.tokens.cache_read, row.tokens.cache_write
        by_hand = (
            read * (SONNET_INPUT - SONNET_CACHE_READ) - write * (SONNET_CACHE_WRITE - SONNET_INPUT)
        ) / 1_000_000
        assert row.prompt_cache_saved_usd is not None
        assert round(row.prompt_cache_saved_usd, 2) == round(by_hand, 2)
        assert row.prompt_cache_saved_usd == pytest.approx(by_hand, abs=1e-9)
    assert rows[0].prompt_cache_saved_usd < 0 < rows[1].prompt_cache_saved_usd  # write, then read


async def test_a_one_hour_write_is_billed_at_twice_the_input_price(
    claude: LLMProvider, isolated_ledger: Ledger
) -> None:
    answer = await claude.complete("Travel policy?", system=HANDBOOK, cache_prompt="1h")

    tokens = answer.tokens
    uncached = tokens.input - tokens.cache_write
    assert tokens.cache_write > 2000 and tokens.cache_read == 0
    by_hand = (uncached * 3.00 + tokens.cache_write * 6.00 + tokens.output * 15.00) / 1_000_000
    assert answer.cost_usd == pytest.approx(by_hand, abs=1e-9)
    assert answer.prompt_cache_saved_usd == pytest.approx(-tokens.cache_write * 3.00 / 1e6)
    (row,) = isolated_ledger.records()
    assert row.cost_usd == pytest.approx(by_hand, abs=1e-9)


async def test_long_conversations_get_at_most_four_breakpoints_on_the_most_valuable_prefixes(
    claude: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    turns: list[dict[str, str]] = []
    for n in range(5):  # five long pasted documents, each above the minimum on its own
        turns += [
            {"role": "user", "content": f"Document {n}: " + "figures and notes " * 300},
            {"role": "assistant", "content": f"Read document {n}."},
        ]
    turns.append({"role": "user", "content": "Compare them."})

    await claude.complete(turns, system=HANDBOOK, cache_prompt=True)

    placed = [where for where, _ in marks(llm_emulator.requests[-1].body)]
    assert placed == ["system", "messages.6", "messages.8", "messages.10"]


async def test_a_prompt_shorter_than_the_model_minimum_gets_no_breakpoint(
    claude: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    answer = await claude.complete("Hi", system="Be brief.", cache_prompt=True)

    assert marks(llm_emulator.requests[-1].body) == []
    assert answer.prompt_cache_saved_usd is None


async def test_a_one_hour_ttl_is_asked_for_on_every_breakpoint(
    claude: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    await claude.complete("Policy?", system=HANDBOOK, cache_prompt="1h")

    controls = [control for _, control in marks(llm_emulator.requests[-1].body)]
    assert controls == [{"type": "ephemeral", "ttl": "1h"}] * 2


async def test_without_cache_prompt_nothing_is_marked(
    claude: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    answer = await claude.complete("Policy?", system=HANDBOOK)

    assert marks(llm_emulator.requests[-1].body) == []
    assert answer.tokens.cache_read == answer.tokens.cache_write == 0


async def test_an_unknown_cache_prompt_value_is_refused_before_anything_is_sent(
    claude: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    with pytest.raises(
        InvalidArgumentError, match=r"cache_prompt must be True, False, '5m' or '1h'"
    ):
        await claude.complete("Policy?", cache_prompt="forever")

    assert llm_emulator.requests == []


@pytest.fixture(params=["openai", "litellm-openai"])
async def gpt(request: pytest.FixtureRequest, llm_emulator: LLMEmulator) -> Any:
    provider: LLMProvider
    if request.param == "openai":
        provider = OpenAIProvider(
            api_key=SECRET_KEY, base_url=llm_emulator.openai_base_url, default_model="gpt-4o"
        )
    else:
        provider = LiteLLMProvider(
            api_key=SECRET_KEY, base_url=llm_emulator.openai_base_url, default_model="openai/gpt-4o"
        )
    yield provider
    await provider.aclose()


async def test_openai_calls_sharing_a_system_prompt_share_one_prompt_cache_key(
    gpt: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    await gpt.complete("Travel policy?", system=HANDBOOK, cache_prompt=True)
    await gpt.complete("Expense limit?", system=HANDBOOK, cache_prompt=True)
    await gpt.complete("Travel policy?", system="Another handbook.", cache_prompt=True)
    await gpt.complete("Travel policy?", system=HANDBOOK)

    keys = [request.body.get("prompt_cache_key") for request in llm_emulator.requests]
    assert keys[0] is not None and keys[0].startswith("orchestify-")
    assert keys[1] == keys[0]
    assert keys[2] not in (None, keys[0])
    assert keys[3] is None


def test_cache_prompt_does_not_change_the_response_cache_key() -> None:
    from orchestify_nb.providers.caching import cache_key

    provider = ClaudeProvider(api_key=SECRET_KEY, default_model="claude-sonnet-4-6")
    plain = provider.build_request("Policy?", system=HANDBOOK)
    cached = provider.build_request("Policy?", system=HANDBOOK, cache_prompt="1h")

    assert cached.prompt_cache is not None and plain.prompt_cache is None
    assert cache_key("anthropic", None, cached) == cache_key("anthropic", None, plain)


async def test_cache_prompt_in_the_provider_config_reaches_every_call(
    llm_emulator: LLMEmulator,
) -> None:
    config = load_config(
        {
            "providers": {
                "claude": {
                    "type": "anthropic",
                    "api_key": SECRET_KEY,
                    "base_url": llm_emulator.base_url,
                    "default_model": "claude-sonnet-4-6",
                    "cache_prompt": "1h",
                }
            }
        }
    )
    provider = ProviderRegistry.from_config(config).get("claude")
    try:
        await provider.complete("Policy?", system=HANDBOOK)
        await provider.complete("Policy?", system=HANDBOOK, cache_prompt=False)
    finally:
        await provider.aclose()

    asked, declined = (request.body for request in llm_emulator.requests)
    assert [c for _, c in marks(asked)] == [{"type": "ephemeral", "ttl": "1h"}] * 2
    assert marks(declined) == []


def test_a_config_cache_prompt_value_that_is_not_a_ttl_names_the_key() -> None:
    with pytest.raises(ConfigError, match=r"cache_prompt"):
        load_config({"providers": {"claude": {"type": "anthropic", "cache_prompt": "forever"}}})


def test_the_config_cache_default_sets_the_response_cache_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORCHESTIFY_CACHE")
    path = tmp_path / "orchestify.yaml"
    path.write_text("cache: replay\nproviders:\n  local: {type: local}\n")
    try:
        build_session(path)
        assert resolve_cache_mode() == "replay"
        assert resolve_cache_mode("off") == "off"  # a call's own cache= wins
        monkeypatch.setenv("ORCHESTIFY_CACHE", "refresh")
        assert resolve_cache_mode() == "refresh"  # so does the environment
    finally:
        set_default_cache_mode(None)
