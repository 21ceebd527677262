"""A small HTTP/1.1 server on asyncio streams: keep-alive, chunked SSE, and deliberate faults.

It knows nothing about LLM APIs: a handler turns each ``HttpRequest`` into an ``HttpResponse``,
a ``StreamedResponse`` (sent with chunked transfer encoding, each chunk after its own delay, and
optionally cut off by closing the socket), or ``None`` to drop the connection without answering.
The server runs its own event loop in a background thread so sync and async tests can use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

_MAX_HEADER_BYTES = 64 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    529: "Overloaded",
}


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StreamedResponse:
    """A chunked response; ``chunks`` are ``(delay_before_s, data)``.

    With ``drop_after`` set, the socket is aborted once that many chunks have been sent.
    """

    status: int
    chunks: list[tuple[float, bytes]]
    headers: dict[str, str] = field(default_factory=dict)
    drop_after: int | None = None


Handler = Callable[[HttpRequest], Awaitable[HttpResponse | StreamedResponse | None]]


class _BadRequest(Exception):
    pass


async def _read_request(reader: asyncio.StreamReader) -> HttpRequest | None:
    """Read one request; ``None`` when the client closed the connection between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise _BadRequest("truncated request head") from exc
        return None
    except asyncio.LimitOverrunError as exc:
        raise _BadRequest("request head too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, _version = lines[0].split(" ", 2)
    except ValueError as exc:
        raise _BadRequest("malformed request line") from exc
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked_body(reader)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
    return HttpRequest(method=method.upper(), path=target, headers=headers, body=body)


async def _read_chunked_body(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class BackgroundHttpServer:
    """Serve ``handler`` on ``host:port`` from a private event loop in a daemon thread."""

    def __init__(self, handler: Handler, host: str = "127.0.0.1", port: int = 0) -> None:
        self._handler = handler
        self._host = host
        self._requested_port = port
        self.port = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._connections: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("The server is already running.")
        self._ready.clear()
        self._startup_error = None
        self._thread = threading.Thread(target=self._run, name="llm-emulator", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._startup_error is not None:
            self._thread.join()
            self._thread = None
            raise self._startup_error

    def stop(self) -> None:
        """Close the listener and every open connection, then join the thread."""
        thread, loop, stop_event = self._thread, self._loop, self._stop_event
        if thread is None:
            return
        if loop is not None and stop_event is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stop_event.set)
        thread.join()
        self._thread = None
        self.port = 0

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # surfaced to start() when it happens before ready
            if not self._ready.is_set():
                self._startup_error = exc
                self._ready.set()
            else:
                raise

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        server = await asyncio.start_server(
            self._on_connection,
            self._host,
            self._requested_port,
            backlog=1024,
            limit=_MAX_HEADER_BYTES,
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop_event.wait()
        server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve_connection(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:  # the server is stopping: no flushing, just go
            writer.transport.abort()
        finally:
            self._connections.discard(task)
            writer.close()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        while True:
            try:
                request = await _read_request(reader)
            except (_BadRequest, ValueError):
                await self._send(writer, HttpResponse(400, b"bad request"), keep_alive=False)
                return
            if request is None:
                return
            keep_alive = request.headers.get("connection", "").lower() != "close"
            try:
                response = await self._handler(request)
            except Exception as exc:  # a bug in a handler must not hang the client
                response = HttpResponse(500, f"emulator error: {exc!r}".encode())
            if response is None:
                return  # drop the connection without an answer
            if not await self._send(writer, response, keep_alive=keep_alive) or not keep_alive:
                return

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        response: HttpResponse | StreamedResponse,
        *,
        keep_alive: bool,
    ) -> bool:
        """Write ``response``; False when the connection was dropped on purpose."""
        headers = dict(response.headers)
        headers["connection"] = "keep-alive" if keep_alive else "close"
        if isinstance(response, HttpResponse):
            headers["content-length"] = str(len(response.body))
            writer.write(_head(response.status, headers) + response.body)
            await writer.drain()
            return True
        headers["transfer-encoding"] = "chunked"
        pending = [_head(response.status, headers)]  # chunks due now go out in one write
        for sent, (delay_s, data) in enumerate(response.chunks):
            if response.drop_after is not None and sent >= response.drop_after:
                writer.write(b"".join(pending))
                writer.close()  # flushes what was sent, then closes mid-body
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()
                return False
            if delay_s > 0:
                writer.write(b"".join(pending))
                pending.clear()
                await writer.drain()
                await asyncio.sleep(delay_s)
            pending.append(b"%x\r\n%s\r\n" % (len(data), data))
        pending.append(b"0\r\n\r\n")
        writer.write(b"".join(pending))
        await writer.drain()
        return True
