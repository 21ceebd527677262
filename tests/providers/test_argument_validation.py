"""One validation for every surface: a value no API accepts is refused by ``build_request`` with
a clear error naming it, before anything is sent, whether it came through ``complete()``,
``stream()``, a ``%%llm`` cell or a batch."""

from __future__ import annotations

import math
from typing import Any

import pytest

from orchestify_nb.batch import run_batch_sync
from orchestify_nb.errors import InvalidArgumentError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator
from orchestify_nb.usage.ledger import Ledger

BAD_ARGUMENTS: list[tuple[dict[str, Any], str]] = [
    ({"max_tokens": -1}, "max_tokens must be a whole number above 0"),
    ({"max_tokens": 0}, "max_tokens must be a whole number above 0"),
    ({"max_tokens": 2.5}, "max_tokens must be a whole number above 0"),
    ({"max_tokens": True}, "max_tokens must be a whole number above 0"),
    ({"temperature": -5}, "temperature must be 0 or more"),
    ({"temperature": 2.5}, "temperature must be 2 at most"),
    ({"temperature": math.nan}, "temperature must be a number from 0 to 2"),
    ({"temperature": math.inf}, "temperature must be a number from 0 to 2"),
    ({"temperature": "hot"}, "temperature must be a number from 0 to 2"),
    ({"thinking": -1}, "thinking must be a whole number of tokens"),
    ({"system": "be \ud800 brief"}, "the system prompt holds invalid Unicode"),
]


def _openai(emulator: LLMEmulator) -> OpenAIProvider:
    return OpenAIProvider(
        api_key="sk-test-args-0123",
        base_url=emulator.openai_base_url,
        default_model="gpt-4o",
        usage_sink=Ledger(":memory:"),
    )


def _claude(emulator: LLMEmulator) -> ClaudeProvider:
    return ClaudeProvider(
        api_key="sk-ant-test-args-0123",
        base_url=emulator.base_url,
        default_model="claude-sonnet-4-6",
        usage_sink=Ledger(":memory:"),
    )


CASES = [
    pytest.param(make, arguments, message, id=f"{name}-{next(iter(arguments))}={arguments}")
    for name, make in (("openai", _openai), ("anthropic", _claude))
    for arguments, message in BAD_ARGUMENTS
    # Claude refuses any temperature with its own message (tests/providers/test_models_...).
    if not (name == "anthropic" and "temperature" in arguments)
]


@pytest.mark.parametrize(("make", "arguments", "message"), CASES)
async def test_a_bad_argument_is_refused_before_anything_is_sent(
    make: Any, arguments: dict[str, Any], message: str, llm_emulator: LLMEmulator
) -> None:
    provider: LLMProvider = make(llm_emulator)

    with pytest.raises(InvalidArgumentError, match=message) as complete_error:
        await provider.complete("hi", **arguments)
    with pytest.raises(InvalidArgumentError, match=message):
        provider.stream("hi", **arguments)

    text = str(complete_error.value)
    assert "\n" not in text and "nothing was sent" in text
    assert llm_emulator.requests == []
    assert provider.get_usage().call_count == 0


async def test_a_lone_surrogate_in_the_prompt_names_the_message(
    llm_emulator: LLMEmulator,
) -> None:
    provider = _openai(llm_emulator)
    messages = [{"role": "user", "content": "fine"}, {"role": "user", "content": "bad \udc80"}]

    with pytest.raises(InvalidArgumentError, match=r"message 2 \(user\) holds invalid Unicode"):
        await provider.complete(messages)
    assert llm_emulator.requests == []


def test_a_batch_with_a_bad_argument_is_refused_before_any_row_is_sent(
    llm_emulator: LLMEmulator,
) -> None:
    provider = _openai(llm_emulator)

    with pytest.raises(InvalidArgumentError, match="max_tokens must be a whole number above 0"):
        run_batch_sync(["a", "b"], provider=provider, progress=False, max_tokens=0)
    assert llm_emulator.requests == []


async def test_good_edge_values_are_sent_as_given(llm_emulator: LLMEmulator) -> None:
    from orchestify_nb.testing import Reply

    provider = _openai(llm_emulator)
    llm_emulator.enqueue(Reply(text="ok"))

    await provider.complete("hi", max_tokens=1, temperature=0)

    body = llm_emulator.requests[0].body
    assert (body["max_tokens"], body["temperature"]) == (1, 0.0)
    await provider.aclose()
