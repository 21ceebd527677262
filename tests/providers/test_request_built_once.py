"""A request is built and checked once and sent as built: by a ``%%llm`` cell, by each batch row,
and by ``complete()``/``stream()`` given a built ``LLMRequest``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

from orchestify_nb.batch import run_batch_sync
from orchestify_nb.errors import InvalidArgumentError
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.providers.types import LLMRequest
from orchestify_nb.session import get_session, set_session
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.usage.ledger import Ledger
from tests.magics.conftest import write_config


class CountingOpenAIProvider(OpenAIProvider):
    """The real OpenAI provider, counting how often a request is checked."""

    checks = 0

    def validate_options(self, request: LLMRequest) -> None:
        type(self).checks += 1
        super().validate_options(request)


@pytest.fixture
def counting(llm_emulator: LLMEmulator) -> Iterator[CountingOpenAIProvider]:
    CountingOpenAIProvider.checks = 0
    yield CountingOpenAIProvider(
        provider_id="counted",
        api_key="sk-test-counted-0123",
        base_url=llm_emulator.openai_base_url,
        default_model="gpt-4o",
        usage_sink=Ledger(":memory:"),
    )


def test_a_llm_cell_builds_and_checks_its_request_once(
    counting: CountingOpenAIProvider,
    llm_emulator: LLMEmulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ORCHESTIFY_CONFIG", str(write_config(tmp_path, llm_emulator)))
    monkeypatch.setenv("ORCHESTIFY_LEDGER", ":memory:")
    set_session(None)
    shell = InteractiveShell.instance()
    try:
        shell.run_line_magic("load_ext", "orchestify_nb")
        get_session().registry.register("counted", counting)
        for streamed in ("true", "false"):
            llm_emulator.enqueue(Reply(text="Once."))
            CountingOpenAIProvider.checks = 0
            result = shell.run_cell(f"%%llm provider=counted stream={streamed}\nSay it once.")
            assert result.success
            assert CountingOpenAIProvider.checks == 1
    finally:
        shell.run_line_magic("unload_ext", "orchestify_nb")
        InteractiveShell.clear_instance()
        set_session(None)
    assert len(llm_emulator.requests) == 2


def test_each_batch_row_builds_and_checks_its_request_once(
    counting: CountingOpenAIProvider, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(*(Reply(text=f"answer {n}") for n in range(3)))

    result = run_batch_sync(["a", "b", "c"], provider=counting, progress=False)

    assert [row.status for row in result.rows] == ["ok", "ok", "ok"]
    assert CountingOpenAIProvider.checks == 3
    assert len(llm_emulator.requests) == 3


async def test_a_built_request_is_sent_as_built_and_refuses_extra_arguments(
    counting: CountingOpenAIProvider, llm_emulator: LLMEmulator
) -> None:
    request = counting.build_request("hi", max_tokens=7)
    llm_emulator.enqueue(Reply(text="ok"), Reply(text="ok"))

    answer = await counting.complete(request)
    events = [event async for event in counting.stream(request)]

    assert answer.content == events[-1].response.content == "ok"  # type: ignore[union-attr]
    assert CountingOpenAIProvider.checks == 1
    assert [r.body["max_tokens"] for r in llm_emulator.requests] == [7, 7]
    with pytest.raises(InvalidArgumentError, match="given with a built LLMRequest"):
        await counting.complete(request, temperature=0.5)
    await counting.aclose()


async def test_messages_may_be_passed_by_keyword_as_in_the_seed(
    counting: CountingOpenAIProvider, llm_emulator: LLMEmulator
) -> None:
    llm_emulator.enqueue(Reply(text="ok"))

    answer = await counting.complete(messages=[{"role": "user", "content": "hi"}], max_tokens=5)

    assert answer.content == "ok"
    assert llm_emulator.requests[0].body["max_tokens"] == 5
    await counting.aclose()
