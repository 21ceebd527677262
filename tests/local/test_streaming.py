"""LocalProvider streams real tokens from the bundled model, counts them as the model does, and
stops within one token when its consumer goes away."""

from __future__ import annotations

import asyncio
import gc
from contextlib import aclosing

import pytest

from orchestify_nb.providers.local import DEFAULT_REPEAT_PENALTY, LocalProvider
from orchestify_nb.providers.local_prompt import RenderedPrompt
from orchestify_nb.providers.types import LLMResponse, StreamEvent
from orchestify_nb.usage.ledger import Ledger

pytestmark = pytest.mark.local_model

CONTINUATION = "The three primary colours are"


async def collect(provider: LocalProvider, prompt: str, **kwargs: object) -> list[StreamEvent]:
    return [event async for event in provider.stream(prompt, **kwargs)]  # type: ignore[arg-type]


def final(events: list[StreamEvent]) -> LLMResponse:
    assert events[-1].type == "done" and events[-1].response is not None
    assert [e.type for e in events[:-1]] == ["text"] * (len(events) - 1)
    return events[-1].response


async def test_stream_yields_token_deltas_that_concatenate_to_the_final_content(
    provider: LocalProvider,
) -> None:
    events = await collect(provider, CONTINUATION, prompt_format="completion", max_tokens=24)

    response = final(events)
    deltas = [e.text for e in events if e.type == "text"]
    assert len(deltas) >= 10  # token by token, not one block at the end
    assert "".join(deltas) == response.content
    assert response.content.strip()
    assert response.model == provider.file_name
    assert response.finish_reason in ("stop", "length")


async def test_usage_is_the_models_own_token_count_and_matches_llama_cpp_python(
    provider: LocalProvider, isolated_ledger: Ledger
) -> None:
    llama = provider.loaded_model().llama
    expected = llama.create_completion(
        CONTINUATION, max_tokens=16, temperature=0.0, repeat_penalty=DEFAULT_REPEAT_PENALTY
    )
    assert isinstance(expected, dict)

    response = final(
        await collect(provider, CONTINUATION, prompt_format="completion", max_tokens=16)
    )

    assert response.tokens_input == len(llama.tokenize(CONTINUATION.encode())) == 6
    assert response.tokens_input == expected["usage"]["prompt_tokens"]
    assert response.tokens_output == expected["usage"]["completion_tokens"] == 16
    assert response.content == expected["choices"][0]["text"]
    assert response.finish_reason == "length"
    assert (response.cost_usd, response.priced) == (0.0, True)
    [record] = isolated_ledger.records()
    assert (record.provider_type, record.status) == ("local", "ok")
    assert (record.input_tokens, record.output_tokens) == (6, 16)
    assert (record.cost_usd, record.priced) == (0.0, True)


async def test_transcript_prompt_answers_and_stops_before_the_model_writes_the_next_user_turn(
    provider: LocalProvider,
) -> None:
    response = await provider.complete("What is the capital of France?", max_tokens=64)

    prompt = response.raw_response
    assert isinstance(prompt, RenderedPrompt) and prompt.prompt_format == "transcript"
    assert prompt.text == "User: What is the capital of France?\nAssistant:"
    assert response.tokens_input == len(
        provider.loaded_model().llama.tokenize(prompt.text.encode())
    )
    assert response.content and response.content == response.content.strip()
    assert "User:" not in response.content
    assert response.finish_reason == "stop"
    assert response.tokens_output < 64


async def test_greedy_by_default_and_an_answer_does_not_depend_on_earlier_calls(
    provider: LocalProvider,
) -> None:
    prompt = "The history of the printing press begins"
    first = await provider.complete(prompt, prompt_format="completion", max_tokens=48)
    # Leave this prompt cached in the model's context, as a previous call would.
    provider.loaded_model().llama.create_completion(prompt, max_tokens=48, temperature=0.0)
    second = await provider.complete(prompt, prompt_format="completion", max_tokens=48)

    assert first.content == second.content


async def test_sampling_with_a_seed_is_reproducible_and_the_seed_matters(
    provider: LocalProvider,
) -> None:
    async def sample(seed: int) -> str:
        response = await provider.complete(
            CONTINUATION, prompt_format="completion", max_tokens=24, temperature=1.5, seed=seed
        )
        return response.content

    assert await sample(7) == await sample(7)
    assert len({await sample(seed) for seed in (1, 2, 3, 4)}) > 1


async def test_breaking_out_of_the_stream_stops_generation_within_one_token(
    provider: LocalProvider, isolated_ledger: Ledger
) -> None:
    seen = 0
    async with aclosing(
        provider.stream(CONTINUATION, prompt_format="completion", max_tokens=200)
    ) as events:
        async for event in events:
            seen += event.type == "text"
            if seen == 3:
                await asyncio.sleep(0.5)  # a slow consumer: room for a runaway worker to run on
                break

    [record] = isolated_ledger.records()
    assert record.status == "cancelled"
    assert 3 <= record.output_tokens <= seen + 1
    assert record.input_tokens == 6


async def test_cancelling_the_consuming_task_stops_generation_within_one_token(
    provider: LocalProvider, isolated_ledger: Ledger
) -> None:
    seen = 0
    started = asyncio.Event()

    async def consume() -> None:
        nonlocal seen
        async with aclosing(
            provider.stream(CONTINUATION, prompt_format="completion", max_tokens=200)
        ) as events:
            async for event in events:
                seen += event.type == "text"
                if seen == 2:
                    started.set()
                    await asyncio.sleep(60)  # a slow consumer (say, a busy renderer)

    task = asyncio.create_task(consume())
    await started.wait()
    await asyncio.sleep(0.5)  # room for a runaway worker to run on
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    [record] = isolated_ledger.records()
    assert record.status == "cancelled"
    assert 2 <= record.output_tokens <= seen + 1 < 200


async def test_two_providers_share_one_loaded_model_and_take_turns(
    provider: LocalProvider,
) -> None:
    other = LocalProvider(provider_id="local-2")
    assert other.loaded_model() is provider.loaded_model()

    answers = await asyncio.gather(
        provider.complete(CONTINUATION, prompt_format="completion", max_tokens=12),
        other.complete(CONTINUATION, prompt_format="completion", max_tokens=12),
    )

    assert answers[0].content == answers[1].content
    assert [a.tokens_output for a in answers] == [12, 12]


async def test_model_can_be_the_path_of_a_gguf_file(provider: LocalProvider) -> None:
    path = str(provider.loaded_model().path)

    response = await provider.complete(
        CONTINUATION, model=path, prompt_format="completion", max_tokens=4
    )

    assert response.model == path
    assert response.tokens_output == 4


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_stream_left_open_when_its_event_loop_closes_lets_the_model_go(
    provider: LocalProvider,
) -> None:
    loop = asyncio.new_event_loop()
    stream = provider.stream(CONTINUATION, prompt_format="completion", max_tokens=200)
    first = loop.run_until_complete(anext(stream))
    loop.close()  # without closing the stream: its worker waits for a consumer that is gone

    response = asyncio.run(
        provider.complete(CONTINUATION, prompt_format="completion", max_tokens=4)
    )

    assert first.type == "text"
    assert response.tokens_output == 4
    del stream
    gc.collect()
