"""The SDK clients a provider builds (one per event loop, so one per magic call) share one TLS
context per process, verify like the SDK's default client, keep its connection settings, and
still talk to the API."""

from __future__ import annotations

import asyncio
import gc
import logging
import ssl
from typing import Any

import anthropic
import httpx2
import openai
import pytest

from orchestify_nb.providers._sdk import SDKClientProvider, shared_ssl_context
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator, Reply
from tests.providers.conftest import python_output


def pool_of(client: Any) -> Any:
    """The connection pool under an SDK client (read only, to compare settings)."""
    return client._client._transport._pool


def answer_on_a_fresh_loop(provider: SDKClientProvider) -> tuple[str, Any]:
    """What a magic does: one call on a new event loop; the answer and the client it used."""

    async def call() -> tuple[str, Any]:
        gc.collect()  # the clients of earlier, closed loops go now, while this loop runs
        response = await provider.complete("hi")
        return response.content, provider._clients.get()

    return asyncio.run(call())


def test_clients_of_every_loop_and_both_sdks_share_one_tls_context_and_reach_the_api(
    llm_emulator: LLMEmulator,
) -> None:
    claude = ClaudeProvider(api_key="k", base_url=llm_emulator.base_url, max_retries=0)
    gpt = OpenAIProvider(
        api_key="k", base_url=llm_emulator.openai_base_url, default_model="gpt-4o", max_retries=0
    )
    llm_emulator.enqueue(*(Reply(text=f"answer {n}") for n in range(4)))

    calls = [answer_on_a_fresh_loop(p) for p in (claude, claude, gpt, gpt)]

    assert [text for text, _ in calls] == [f"answer {n}" for n in range(4)]
    clients = [client for _, client in calls]
    assert len({id(client) for client in clients}) == 4  # a new client per loop ...
    contexts = {id(pool_of(client)._ssl_context) for client in clients}
    assert contexts == {id(shared_ssl_context(anthropic))}  # ... over one TLS context
    assert shared_ssl_context(anthropic) is shared_ssl_context(openai)


SDKS = pytest.mark.parametrize(
    ("sdk", "sdk_client"),
    [(anthropic, anthropic.AsyncAnthropic), (openai, openai.AsyncOpenAI)],
    ids=["anthropic", "openai"],
)


def test_clients_of_closed_loops_go_quietly(
    llm_emulator: LLMEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    """The SDK's default HTTP client closes itself on garbage collection by scheduling a task on
    whatever loop is running then; for a client of an earlier, closed loop (every magic call
    leaves one) that task fails and asyncio logs "Task exception was never retrieved"."""
    caplog.set_level(logging.ERROR, logger="asyncio")
    claude = ClaudeProvider(api_key="k", base_url=llm_emulator.base_url, max_retries=0)

    answers = [answer_on_a_fresh_loop(claude)[0] for _ in range(4)]
    gc.collect()

    assert len(answers) == 4
    assert "never retrieved" not in caplog.text
    assert "Event loop is closed" not in caplog.text


@SDKS
def test_the_shared_context_verifies_like_the_sdks_default_client(
    sdk: Any, sdk_client: Any
) -> None:
    shared = shared_ssl_context(sdk)
    default = pool_of(sdk_client(api_key="k"))._ssl_context

    assert shared.verify_mode == ssl.CERT_REQUIRED and shared.check_hostname
    assert shared.cert_store_stats() == default.cert_store_stats()
    assert shared.cert_store_stats() == httpx2.create_ssl_context().cert_store_stats()


@SDKS
def test_provider_clients_keep_the_sdks_connection_limits_and_keepalive(
    sdk: Any, sdk_client: Any
) -> None:
    provider_class = ClaudeProvider if sdk is anthropic else OpenAIProvider
    ours = pool_of(provider_class(api_key="k")._new_client())
    default = pool_of(sdk_client(api_key="k"))

    for setting in (
        "_max_connections",
        "_max_keepalive_connections",
        "_keepalive_expiry",
        "_socket_options",
        "_http1",
        "_http2",
    ):
        assert getattr(ours, setting) == getattr(default, setting), setting


def test_concurrent_first_use_from_many_threads_builds_one_context() -> None:
    code = (
        "import anthropic\n"
        "from concurrent.futures import ThreadPoolExecutor\n"
        "from orchestify_nb.providers._sdk import shared_ssl_context\n"
        "with ThreadPoolExecutor(8) as pool:\n"
        "    built = list(pool.map(lambda _: id(shared_ssl_context(anthropic)), range(32)))\n"
        "print(len(set(built)))\n"
    )
    assert python_output(code).strip() == "1"
