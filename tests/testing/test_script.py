"""Scripted replies reject impossible token counts at once and survive the JSON round trip."""

from __future__ import annotations

import openai
import pytest

from orchestify_nb.providers.types import ToolCall
from orchestify_nb.testing import Fault, LLMEmulator, Reply
from orchestify_nb.testing.script import scripted_from_json, scripted_to_json


def test_input_tokens_must_cover_the_cache() -> None:
    with pytest.raises(ValueError, match="cache_read_tokens"):
        Reply(input_tokens=10, cache_read_tokens=8, cache_write_tokens=5)


def test_output_tokens_must_cover_reasoning() -> None:
    with pytest.raises(ValueError, match="reasoning_tokens"):
        Reply(output_tokens=3, reasoning_tokens=4)


def test_enqueue_refuses_what_is_not_a_reply_or_fault(llm_emulator: LLMEmulator) -> None:
    with pytest.raises(TypeError, match="Reply or Fault"):
        llm_emulator.enqueue("hello")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "item",
    [
        Reply(text="x", tool_calls=[ToolCall("c1", "f", {"a": [1]})], cache_read_tokens=2),
        Fault.rate_limit(retry_after=3),
        Fault.drop_mid_stream(after_chunks=2, reply=Reply(text="partial")),
        Fault.http_error(403, "forbidden"),
    ],
)
def test_scripted_items_round_trip_through_json(item: Reply | Fault) -> None:
    assert scripted_from_json(scripted_to_json(item)) == item


async def test_unset_counts_are_approximated_consistently(
    llm_emulator: LLMEmulator, gpt: openai.AsyncOpenAI
) -> None:
    llm_emulator.enqueue(Reply(text="abcd" * 10, thinking="t" * 40, cache_read_tokens=5))
    completion = await gpt.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}]
    )
    usage = completion.usage
    assert usage is not None and usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 10
    assert usage.completion_tokens == 10 + 10  # text + reasoning
    assert usage.prompt_tokens > 5  # the prompt's estimate plus the cached tokens
