"""Plain answers: what the model says arrives unchanged, whole or streamed, for every backend."""

from __future__ import annotations

from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.types import LLMMessage
from orchestify_nb.testing import LLMEmulator, Reply
from tests.providers.conftest import Backend

SCRIPTED = "The quick brown fox jumps over the lazy dog, then naps in the sun."


async def test_complete_returns_the_scripted_text(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend
) -> None:
    llm_emulator.enqueue(Reply(text=SCRIPTED))

    response = await provider.complete("Tell me about the fox.")

    assert response.content == SCRIPTED
    assert response.finish_reason == "stop"
    assert response.provider_id == provider.provider_id
    assert response.model_requested == backend.model
    [request] = llm_emulator.requests
    assert request.api == backend.api
    assert request.stream is False


async def test_stream_deltas_concatenate_to_the_final_content(
    provider: LLMProvider, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text=SCRIPTED, chunk_chars=3))

    events = [event async for event in provider.stream("Tell me about the fox.")]

    deltas = [event.text for event in events if event.type == "text"]
    assert len(deltas) == -(-len(SCRIPTED) // 3)  # one event per 3-character chunk
    assert events[-1].type == "done"
    assert [event.type for event in events].count("done") == 1
    final = events[-1].response
    assert final is not None
    assert "".join(deltas) == final.content == SCRIPTED
    assert final.finish_reason == "stop"
    assert llm_emulator.requests[0].stream is True


async def test_system_prompt_and_history_reach_the_api_in_its_own_shape(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend
) -> None:
    llm_emulator.enqueue(Reply(text="Paris."))
    history = [
        LLMMessage(role="user", content="Capital of Italy?"),
        LLMMessage(role="assistant", content="Rome."),
        LLMMessage(role="user", content="And of France?"),
    ]

    response = await provider.complete(history, system="Answer in one word.", max_tokens=50)

    assert response.content == "Paris."
    body = llm_emulator.requests[0].body
    assert body["max_tokens"] == 50
    roles = [turn["role"] for turn in body["messages"]]
    if backend.speaks_anthropic:
        assert body["system"] in ("Answer in one word.", [_text_block("Answer in one word.")])
        assert roles == ["user", "assistant", "user"]
    else:
        assert body["messages"][0] == {"role": "system", "content": "Answer in one word."}
        assert roles == ["system", "user", "assistant", "user"]


def _text_block(text: str) -> dict[str, str]:
    return {"type": "text", "text": text}


async def test_default_reply_echoes_the_last_user_message_through_every_backend(
    provider: LLMProvider,
) -> None:
    response = await provider.complete("echo this back")

    assert "echo this back" in response.content
