"""Loopback servers that answer like a broken or hostile API: forever-trickling bodies, streams
cut before their end marker, HTML and garbage with status 200, oversized bodies.

Each speaks just enough HTTP/1.1 (chunked responses) and just enough of the two APIs (Anthropic
Messages at ``/v1/messages``, Chat Completions at ``/v1/chat/completions``) for the real SDKs to
get as far as the hostile part. A server runs its own event loop in a thread, so a client that
blocks the test's loop cannot stall the server too, and so timings measure the client alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

#: Writes one answer: ``(send, api, streaming)``; ``send(data)`` writes one HTTP chunk.
Send = Callable[[bytes], Awaitable[None]]
Answer = Callable[[Send, str, bool], Awaitable[None]]


@dataclass(frozen=True)
class Hostile:
    """One hostile behaviour: a name for test ids, the content type it claims, its body."""

    name: str
    content_type: Callable[[bool], str]
    answer: Answer


def _json_or_sse(streaming: bool) -> str:
    return "text/event-stream" if streaming else "application/json"


class HostileServer:
    """Answers every POST with ``hostile``: a 200 and chunked headers, then its body."""

    def __init__(self, hostile: Hostile) -> None:
        self.hostile = hostile
        self.requests = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    def base_url(self, api: str) -> str:
        root = f"http://127.0.0.1:{self.port}"
        return root if api == "anthropic" else f"{root}/v1"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._on_connection, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._server.close()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError, RuntimeError):
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(":") for line in lines[1:] if line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.requests += 1
            path = lines[0].split(" ")[1]
            api = "anthropic" if path.endswith("/messages") else "openai"
            streaming = bool(json.loads(body or b"{}").get("stream"))
            content_type = self.hostile.content_type(streaming)
            writer.write(
                b"HTTP/1.1 200 OK\r\n"
                + f"content-type: {content_type}\r\n".encode()
                + b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
            )

            async def send(data: bytes) -> None:
                writer.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                await writer.drain()

            await self.hostile.answer(send, api, streaming)
            writer.write(b"0\r\n\r\n")  # a clean end: the body is over, whatever it held
            await writer.drain()
        writer.close()


# ------------------------------------------------------------------------ never-ending bodies
def _forever(data: bytes, every_s: float) -> Answer:
    async def answer(send: Send, api: str, streaming: bool) -> None:
        while True:
            await send(data)
            await asyncio.sleep(every_s)

    return answer


async def _keep_alive(send: Send, api: str, streaming: bool) -> None:
    # An SSE comment in a stream; in a JSON body the closest thing, leading whitespace.
    await _forever(b": ping\n\n" if streaming else b" ", 0.5)(send, api, streaming)


FOREVER = (
    Hostile("keep-alive", _json_or_sse, _keep_alive),
    Hostile("whitespace-trickle", _json_or_sse, _forever(b" \n", 0.1)),
    Hostile("byte-every-2s", _json_or_sse, _forever(b"\n", 2.0)),
)


# ------------------------------------------------------------------------------ broken answers
PARTIAL_TEXT = ("Partial ", "answer")


def _sse(data: dict[str, object], event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n".encode()


def _anthropic_start() -> list[bytes]:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 12, "output_tokens": 1},
    }
    text_block = {"type": "text", "text": ""}
    block = {"type": "content_block_start", "index": 0, "content_block": text_block}
    return [
        _sse({"type": "message_start", "message": message}, "message_start"),
        _sse(block, "content_block_start"),
    ] + [
        _sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}},
            "content_block_delta",
        )
        for t in PARTIAL_TEXT
    ]


def _chat_chunks() -> list[bytes]:
    return [
        _sse(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": 1,
                "model": "gpt-4o",
                "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
            }
        )
        for text in PARTIAL_TEXT
    ]


async def _cut_before_end(send: Send, api: str, streaming: bool) -> None:
    """A stream that stops cleanly before ``message_stop`` / a ``finish_reason`` / ``[DONE]``;
    a non-streamed answer whose JSON stops half-way."""
    if not streaming:
        await send(b'{"id": "msg_1", "type": "message", "content": [{"type": "text", "te')
        return
    for event in _anthropic_start() if api == "anthropic" else _chat_chunks():
        await send(event)


CUT_SHORT = Hostile("cut-before-end-marker", _json_or_sse, _cut_before_end)


def _fixed(body: bytes) -> Answer:
    async def answer(send: Send, api: str, streaming: bool) -> None:
        await send(body)

    return answer


HTML_PAGE = (
    b"<!DOCTYPE html><html><head><title>Sign in to the gateway</title></head>"
    b"<body><h1>Please sign in</h1><form action=/login></form></body></html>"
)

NOT_THE_API = (
    Hostile("html-page", lambda streaming: "text/html; charset=utf-8", _fixed(HTML_PAGE)),
    Hostile(
        "garbage-bytes",
        _json_or_sse,
        _fixed(bytes(range(256)) * 4),
    ),
    Hostile(
        "not-json",
        _json_or_sse,
        _fixed(b"upstream connect error or disconnect/reset before headers. reset reason: 503"),
    ),
    Hostile("invalid-utf8", _json_or_sse, _fixed(b'{"id": "\xff\xfe\xc3\x28 broken"}\n\n')),
)
