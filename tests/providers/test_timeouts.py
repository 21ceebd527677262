"""``timeout`` bounds a call, whatever the server does: a server that sends SSE keep-alives
forever, trickles whitespace, or sends one byte every 2 s ends every backend's call, complete
and stream, in ``ProviderTimeoutError`` close to the configured time, recorded as an error, and
no retry makes the call last longer. A LiteLLM body too large or not JSON fails before LiteLLM
reads it whole, without stalling the event loop."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from collections.abc import Awaitable, Iterator

import pytest

from orchestify_nb.errors import ProviderTimeoutError, ResponseFormatError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.litellm_provider import LiteLLMProvider, import_litellm
from orchestify_nb.usage.ledger import Ledger
from tests.providers.conftest import SECRET_KEY, Backend
from tests.providers.hostile_servers import FOREVER, Hostile, HostileServer, Send

TIMEOUT_S = 5.0
#: Generous for a loaded two-core machine, far below the 45+ s a trickle used to hold a call.
BOUND_S = 7.0


@pytest.fixture
def forever_servers() -> Iterator[list[HostileServer]]:
    servers = [HostileServer(hostile) for hostile in FOREVER]
    for server in servers:
        server.__enter__()
    yield servers
    for server in servers:
        server.__exit__()


def _warm_up_sdks() -> None:
    """Import the SDKs first: ``timeout`` bounds the wait for the server, not our imports."""
    importlib.import_module("anthropic")
    importlib.import_module("openai")
    import_litellm()


async def _timed_failure(provider: LLMProvider, streaming: bool) -> tuple[float, BaseException]:
    started = time.perf_counter()
    try:
        if streaming:
            async for _event in provider.stream("hi"):
                pass
        else:
            await provider.complete("hi")
    except Exception as error:
        return time.perf_counter() - started, error
    raise AssertionError(f"{provider!r} answered a server that never finishes")


async def test_timeout_bounds_keep_alive_whitespace_and_slow_byte_servers_complete_and_stream(
    backend: Backend, forever_servers: list[HostileServer], isolated_ledger: Ledger
) -> None:
    await asyncio.to_thread(_warm_up_sdks)
    providers = [
        backend.provider_class(
            api_key=SECRET_KEY,
            base_url=server.base_url(backend.api),
            default_model=backend.model,
            timeout=TIMEOUT_S,
            max_retries=2,  # a timeout must not be retried into a longer wait
        )
        for server in forever_servers
    ]
    cases = [(p, streaming) for p in providers for streaming in (False, True)]

    outcomes = await asyncio.wait_for(
        asyncio.gather(*(_timed_failure(p, streaming) for p, streaming in cases)), 30
    )

    for (provider, streaming), (elapsed, error) in zip(cases, outcomes, strict=True):
        case = f"{provider.base_url} {'stream' if streaming else 'complete'}"
        assert isinstance(error, ProviderTimeoutError), f"{case}: {error!r}"
        assert TIMEOUT_S * 0.9 <= elapsed <= BOUND_S, f"{case}: {elapsed:.1f}s"
    assert [server.requests for server in forever_servers] == [2, 2, 2]  # one per call
    records = isolated_ledger.records()
    assert len(records) == len(cases)
    assert {(r.status, r.error_type) for r in records} == {("error", "ProviderTimeoutError")}
    for provider in providers:
        await provider.aclose()


# ------------------------------------------------------------------------ oversized answers
def _big_answer(body: bytes) -> Hostile:
    async def answer(send: Send, api: str, streaming: bool) -> None:
        for start in range(0, len(body), 1 << 20):
            await send(body[start : start + (1 << 20)])

    return Hostile("big", lambda streaming: "application/json", answer)


def _anthropic_message(text: str) -> bytes:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 5},
    }
    return json.dumps(message).encode()


async def _ticking_while(call: Awaitable[object]) -> tuple[float, float, BaseException | None]:
    """Run ``call`` beside a 20 ms ticker: (elapsed, the longest tick, the call's error)."""
    gaps: list[float] = [0.0]
    done = asyncio.Event()

    async def tick() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.02)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticker = asyncio.create_task(tick())
    started = time.perf_counter()
    error: BaseException | None = None
    try:
        await call
    except Exception as raised:
        error = raised
    elapsed = time.perf_counter() - started
    done.set()
    await ticker
    return elapsed, max(gaps), error


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (_anthropic_message("x" * (10 * 2**20)), "larger than 8 MiB"),
        (b"<html>" + b"a:b=c " * (2 * 2**20 // 6), "application/json that is not JSON"),
    ],
    ids=["valid-10MB-answer", "2MB-non-json-body"],
)
async def test_an_oversized_or_foreign_litellm_body_fails_fast_and_keeps_the_loop_responsive(
    body: bytes, said: str, isolated_ledger: Ledger
) -> None:
    await asyncio.to_thread(_warm_up_sdks)
    with HostileServer(_big_answer(body)) as server:
        provider = LiteLLMProvider(
            api_key=SECRET_KEY,
            base_url=server.base_url("anthropic"),
            default_model="anthropic/claude-sonnet-4-6",
            timeout=60,
            max_retries=0,
        )
        elapsed, longest_tick, error = await _ticking_while(provider.complete("hi"))
        await provider.aclose()

    assert isinstance(error, ResponseFormatError), repr(error)
    assert said in str(error)
    assert elapsed < 5.0, f"{elapsed:.1f}s"
    assert longest_tick < 1.0, f"the event loop stalled for {longest_tick:.1f}s"
    [record] = isolated_ledger.records()
    assert (record.status, record.error_type) == ("error", "ResponseFormatError")
