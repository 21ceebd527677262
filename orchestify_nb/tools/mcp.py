"""MCP servers' tools, through the official ``mcp`` SDK: ``docs.search`` is tool ``search`` of
the server configured as ``mcp_servers: {docs: ...}``.

A server is started on first use and kept for the session (``MCPServers.close`` stops them).
Every connection lives on one background event loop (``_HostLoop``): the SDK's streams and the
server's task group must stay on the loop that opened them, while tools are called from a cell's
private loop, the kernel's own loop or a batch's. A tool call is sent there and awaited from
wherever it was made.

A server that cannot start, does not answer in time, or dies during a call is one
``MCPServerError`` naming it (with the last lines it wrote on stderr, secrets masked); the next use
starts it again. A tool that reports an error (``isError``) is the model's to handle: its text
goes back as the call's error result, and the loop continues.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import threading
from collections.abc import Coroutine, Mapping
from functools import partial
from typing import IO, TYPE_CHECKING, Any, TypeVar

from orchestify_nb.errors import ConfigError, MCPServerError, redact
from orchestify_nb.providers.content import (
    IMAGE_TYPES,
    Content,
    ImagePart,
    normalize_content,
    text_of,
)
from orchestify_nb.tools.functions import Tool

if TYPE_CHECKING:
    from orchestify_nb.config.models import MCPServerConfig

T = TypeVar("T")

#: How long a server may take to start and list its tools.
STARTUP_TIMEOUT_S = 30.0
#: JSON-RPC error code the SDK gives pending requests when the connection closes.
CONNECTION_CLOSED = -32000
#: Lines of a failed server's stderr quoted in the error.
_STDERR_LINES = 5


class MCPToolError(RuntimeError):
    """The tool ran and reported an error; its text goes back to the model as the result."""


class _HostLoop:
    """One daemon thread running the event loop every MCP connection of the process lives on."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(
                    target=loop.run_forever, name="orchestify-mcp", daemon=True
                ).start()
                self._loop = loop
            return self._loop

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """``work`` on the host loop, awaited from the caller's loop (cancelling the caller
        cancels it there)."""
        future = asyncio.run_coroutine_threadsafe(work, self._running_loop())
        return await asyncio.wrap_future(future)

    def run_sync(self, work: Coroutine[Any, Any, T], timeout_s: float) -> T:
        """``work`` on the host loop, waited for by plain (non-async) code."""
        return asyncio.run_coroutine_threadsafe(work, self._running_loop()).result(timeout_s)


_host = _HostLoop()


class MCPConnection:
    """One configured server and, once started, its live ``ClientSession`` (host loop only)."""

    def __init__(self, name: str, settings: MCPServerConfig) -> None:
        self.name = name
        self.settings = settings
        self._session: Any = None
        self._listed: asyncio.Future[list[Any]] | None = None
        self._stopping: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stderr: IO[str] | None = None

    # -- lifecycle (host loop) ---------------------------------------------------------------
    async def listed_tools(self) -> list[Any]:
        """The server's tools as it lists them, starting it first if it is not running."""
        if self._task is None or self._task.done():
            self._listed = asyncio.get_running_loop().create_future()
            self._stopping = asyncio.Event()
            self._task = asyncio.create_task(self._serve(self._listed, self._stopping))
        assert self._listed is not None
        try:
            return await asyncio.wait_for(asyncio.shield(self._listed), STARTUP_TIMEOUT_S)
        except TimeoutError:
            failure = self._failure(f"did not finish starting within {STARTUP_TIMEOUT_S:g} s", None)
            await self.stop()
            raise failure from None

    async def _serve(self, listed: asyncio.Future[list[Any]], stopping: asyncio.Event) -> None:
        """Open the transport and the session, list the tools, then hold them until ``stop``."""
        from mcp import ClientSession

        try:
            async with contextlib.AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport())
                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                tools = (await session.list_tools()).tools
                self._session = session
                listed.set_result(list(tools))
                await stopping.wait()
        except Exception as error:  # a failed start, or the server went away
            if not listed.done():
                listed.set_exception(self._failure("could not start", error))
        finally:
            self._session = None

    def _transport(self) -> contextlib.AbstractAsyncContextManager[Any]:
        settings = self.settings
        if settings.url is not None:
            from mcp.client.streamable_http import streamable_http_client
            from mcp.shared._httpx_utils import create_mcp_http_client

            headers = {name: value.get_secret_value() for name, value in settings.headers.items()}
            client = create_mcp_http_client(headers=headers or None)
            return streamable_http_client(settings.url, http_client=client)
        from mcp.client.stdio import StdioServerParameters, stdio_client

        assert settings.command is not None
        # Kept open while the server runs (its stderr goes there), closed by ``stop``.
        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
        parameters = StdioServerParameters(
            command=settings.command,
            args=list(settings.args),
            env={name: value.get_secret_value() for name, value in settings.env.items()} or None,
            cwd=settings.cwd,
        )
        return stdio_client(parameters, errlog=self._stderr)

    async def stop(self) -> None:
        """Close the session and end the server (a no-op when it is not running)."""
        task, self._task = self._task, None
        if task is None:
            return
        if self._stopping is not None:
            self._stopping.set()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, 10.0)
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    # -- calls (host loop) -------------------------------------------------------------------
    async def call(self, tool_name: str, arguments: dict[str, Any]) -> Content:
        """Call one tool and return what it gave (text, or parts with its images);
        ``MCPToolError`` when the tool reports an error, ``MCPServerError`` when the server
        fails."""
        await self.listed_tools()
        session = self._session
        try:
            result = await asyncio.wait_for(
                session.call_tool(tool_name, arguments), self.settings.timeout
            )
        except TimeoutError:
            failure = self._failure(
                f"did not answer a call to {tool_name} within {self.settings.timeout:g} s "
                f"(mcp_servers.{self.name}.timeout)",
                None,
            )
            await self.stop()
            raise failure from None
        except Exception as error:
            if not _connection_lost(error) and self._task is not None and not self._task.done():
                raise MCPToolError(str(error)) from None  # the server refused this call
            await asyncio.sleep(0.05)  # let its last words reach the stderr file
            failure = self._failure(f"stopped during a call to {tool_name}", error)
            await self.stop()
            raise failure from None
        content = result_content(result, f"{self.name}.{tool_name}")
        if getattr(result, "is_error", False):
            raise MCPToolError(text_of(content))
        return content

    def _failure(self, what: str, error: BaseException | None) -> MCPServerError:
        """The one error for a broken server: which one, what happened, what it said, secrets
        masked."""
        reason = f": {_describe(error)}" if error is not None else ""
        said = self._last_stderr_lines()
        where = self.settings.url or " ".join([self.settings.command or "", *self.settings.args])
        text = (
            f"MCP server {self.name!r} ({where.strip()}) {what}{reason}."
            + (f" Its last words on stderr: {said}" if said else "")
            + f" Check mcp_servers.{self.name} in the config; the next use starts it again."
        )
        return MCPServerError(redact(text, self._secrets()))

    def _last_stderr_lines(self) -> str:
        if self._stderr is None:
            return ""
        with contextlib.suppress(OSError, ValueError):
            self._stderr.seek(0)
            lines = [line.strip() for line in self._stderr.read().splitlines() if line.strip()]
            return " | ".join(lines[-_STDERR_LINES:])
        return ""

    def _secrets(self) -> list[str]:
        values = [*self.settings.env.values(), *self.settings.headers.values()]
        return [value.get_secret_value() for value in values]


def _connection_lost(error: BaseException) -> bool:
    """The SDK's "connection closed" error: the server went away (as opposed to refusing one
    call, which leaves the connection up)."""
    details = getattr(error, "error", None)
    return getattr(details, "code", None) == CONNECTION_CLOSED


def _describe(error: BaseException) -> str:
    """An exception (or a task group's exception group) as one short phrase."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def result_content(result: Any, tool: str) -> Content:
    """A ``CallToolResult`` as the model reads it: its text parts, and its images as image
    parts (a screenshot, a chart); with neither, its structured content as JSON, else a note
    of what kinds of content came back."""
    texts = [part.text for part in result.content or [] if getattr(part, "type", "") == "text"]
    images = [_image(part, tool) for part in result.content or [] if _is_image(part)]
    if images:
        return normalize_content(["\n".join(texts), *images])
    if texts:
        return "\n".join(texts)
    structured = getattr(result, "structured_content", None)
    if structured is not None:
        return json.dumps(structured, ensure_ascii=False, default=str)
    kinds = sorted({getattr(part, "type", "?") for part in result.content or []})
    return f"(the tool returned {', '.join(kinds)} content)" if kinds else "(no content)"


def _is_image(part: Any) -> bool:
    """An MCP image content of a type the model APIs take (PNG, JPEG, GIF, WebP)."""
    return getattr(part, "type", "") == "image" and part.mime_type in IMAGE_TYPES.values()


def _image(part: Any, tool: str) -> ImagePart:
    """An MCP image content (base64 ``data``) as an image part, its size read when PIL can."""
    import base64
    import io

    data = base64.b64decode(part.data)
    size: tuple[int | None, int | None] = (None, None)
    with contextlib.suppress(Exception):  # unreadable: counted at the most an image costs
        from PIL import Image

        with Image.open(io.BytesIO(data)) as opened:
            size = opened.size
    return ImagePart(data, part.mime_type, f"{tool} image", *size)


def _parameters(schema: dict[str, Any] | None) -> dict[str, Any]:
    """An MCP input schema as a tool's parameters (titles dropped: they only cost tokens)."""
    cleaned = dict(schema or {"type": "object", "properties": {}})
    cleaned.pop("title", None)
    cleaned["properties"] = {
        name: {k: v for k, v in spec.items() if k != "title"} if isinstance(spec, dict) else spec
        for name, spec in (cleaned.get("properties") or {}).items()
    }
    return cleaned


class MCPServers:
    """The config's MCP servers for one session, by name; each started on first use."""

    def __init__(self, configs: Mapping[str, MCPServerConfig]) -> None:
        self._connections = {name: MCPConnection(name, cfg) for name, cfg in configs.items()}

    @property
    def names(self) -> list[str]:
        return list(self._connections)

    def connection(self, server: str) -> MCPConnection:
        if server not in self._connections:
            known = ", ".join(self._connections) or "none (add an mcp_servers: section)"
            raise ConfigError(
                f"there is no MCP server named {server!r} in the config; mcp_servers defines: "
                f"{known}"
            )
        return self._connections[server]

    async def tools(self, server: str) -> list[Tool]:
        """Every tool of ``server``, named ``server.tool`` (starts the server)."""
        connection = self.connection(server)
        listed = await _host.run(connection.listed_tools())
        return [_as_tool(connection, item) for item in listed]

    async def tool(self, qualified: str) -> Tool:
        """One tool, written ``server.tool``."""
        server, _, name = qualified.partition(".")
        if not name:
            raise ConfigError(
                f"{qualified!r} does not name an MCP tool: write server.tool, e.g. docs.search"
            )
        for found in await self.tools(server):
            if found.name == qualified:
                return found
        offered = ", ".join(t.name for t in await self.tools(server))
        raise ConfigError(
            f"MCP server {server!r} has no tool named {name!r}; it offers: {offered or 'none'}"
        )

    def tool_sync(self, qualified: str) -> Tool:
        """``tool`` for plain code such as a magic (waits for the server to start)."""
        return _host.run_sync(self.tool(qualified), STARTUP_TIMEOUT_S + 5)

    def pick(self, *names: str) -> list[Tool]:
        """Tools for plain code (waits for the servers to start): ``"docs"`` gives every tool
        of server ``docs``, ``"docs.search"`` one of them."""
        found: list[Tool] = []
        for name in names:
            if "." in name:
                found.append(self.tool_sync(name))
            else:
                found.extend(_host.run_sync(self.tools(name), STARTUP_TIMEOUT_S + 5))
        return found

    def close(self) -> None:
        """Stop every started server (the session is closing)."""
        for connection in self._connections.values():
            with contextlib.suppress(Exception):
                _host.run_sync(connection.stop(), 15.0)


def _as_tool(connection: MCPConnection, listed: Any) -> Tool:
    async def call(name: str, arguments: dict[str, Any]) -> Content:
        return await _host.run(connection.call(name, arguments))

    return Tool(
        name=f"{connection.name}.{listed.name}",
        description=listed.description or "",
        parameters=_parameters(getattr(listed, "input_schema", None)),
        call=partial(call, listed.name),
    )
