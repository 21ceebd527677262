"""MCP servers' tools over the official SDK, against a real stdio server started as a
subprocess (``mcp_docs_server.py``): listed as ``server.tool``, called by a tool loop over the
real SDKs, and every way a server can fail is one clear error naming it, with no secret in it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestify_nb.config import load_config
from orchestify_nb.config.models import MCPServerConfig
from orchestify_nb.errors import ConfigError, MCPServerError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.content import TextPart
from orchestify_nb.providers.types import ToolCall
from orchestify_nb.session import build_session, get_session, mcp_tools, set_session
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.testing.media import media_of
from orchestify_nb.tools import MCPServers, ToolRun
from orchestify_nb.usage.ledger import Ledger
from tests.providers.conftest import Backend

SERVER = str(Path(__file__).with_name("mcp_docs_server.py"))
TOKEN = "docs-token-5f0c2a9e77b14d3c"


def docs_config(**env: str) -> MCPServerConfig:
    return MCPServerConfig.model_validate(
        {"command": sys.executable, "args": [SERVER], "env": {"DOCS_TOKEN": TOKEN, **env}}
    )


@pytest.fixture
def servers() -> Iterator[MCPServers]:
    started = MCPServers({"docs": docs_config()})
    yield started
    started.close()


async def test_a_servers_tools_are_offered_as_server_dot_tool_with_their_schemas(
    servers: MCPServers,
) -> None:
    tools = {tool.name: tool for tool in await servers.tools("docs")}

    assert set(tools) == {"docs.search", "docs.page_count", "docs.chart", "docs.crash"}
    search = tools["docs.search"]
    assert search.wire_name == "docs__search"
    assert search.description == "Search the product documentation."
    assert search.parameters["properties"] == {"query": {"type": "string"}}
    assert search.parameters["required"] == ["query"]
    assert await search.call({"query": "proxy"}) == (
        "3 pages mention proxy: install, configure, upgrade."
    )


async def one_tool_call(
    provider: LLMProvider,
    emulator: LLMEmulator,
    servers: MCPServers,
    tool: str,
    arguments: dict[str, Any],
    answer: str,
) -> ToolRun:
    """A loop where the model calls ``tool`` once with ``arguments``, then says ``answer``."""
    called = await servers.tool(tool)
    call = ToolCall(id="call_1", name=called.wire_name, arguments=arguments)
    emulator.enqueue(Reply(tool_calls=[call]), Reply(text=answer))
    run: ToolRun = await provider.run_tools("Go.", tools=[called])
    return run


async def test_a_tool_loop_calls_an_mcp_tool_and_sends_its_result_back(
    provider: LLMProvider, llm_emulator: LLMEmulator, servers: MCPServers
) -> None:
    run = await one_tool_call(
        provider, llm_emulator, servers, "docs.search", {"query": "proxy"}, "Three pages cover it."
    )

    assert run.content == "Three pages cover it."
    (result,) = run.tool_results
    assert (result.tool_name, result.status) == ("docs.search", "ok")
    assert "3 pages mention proxy" in str(llm_emulator.requests[-1].body["messages"])


async def test_an_image_a_tool_returns_reaches_the_model_in_each_apis_shape(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend, servers: MCPServers
) -> None:
    run = await one_tool_call(
        provider, llm_emulator, servers, "docs.chart", {"title": "views"}, "A blank chart."
    )

    assert run.content == "A blank chart."
    (result,) = run.tool_results
    assert isinstance(result.output, tuple) and result.output[0] == TextPart("Chart: views")
    body = llm_emulator.requests[-1].body
    ((media_type, png),) = media_of(body)
    assert media_type == "image/png" and png.startswith(b"\x89PNG")
    if backend.name == "claude":  # the image inside the tool result
        (tool_result,) = body["messages"][-1]["content"]
        assert tool_result["type"] == "tool_result"
        assert [block["type"] for block in tool_result["content"]] == ["text", "image"]
    elif backend.speaks_anthropic:  # LiteLLM joins the tool result and the images' turn
        blocks = [block["type"] for block in body["messages"][-1]["content"]]
        assert blocks[0] == "tool_result" and "image" in blocks
    else:  # a tool message is text only: the image follows it in a user message
        tool_message, images = body["messages"][-2:]
        assert tool_message == {"role": "tool", "tool_call_id": "call_1", "content": "Chart: views"}
        assert images["role"] == "user"
        assert [part["type"] for part in images["content"]] == ["text", "image_url"]


async def test_a_tool_error_reported_by_the_server_goes_back_to_the_model(
    provider: LLMProvider, llm_emulator: LLMEmulator, servers: MCPServers
) -> None:
    count = await servers.tool("docs.page_count")
    bad = ToolCall(
        id="call_1", name="docs__page_count", arguments={"section": "x", "minimum": "many"}
    )
    llm_emulator.enqueue(Reply(tool_calls=[bad]), Reply(text="Could not count."))

    run = await provider.run_tools("Count the pages.", tools=[count])

    (result,) = run.tool_results
    assert result.status == "error" and "minimum" in result.output
    assert run.content == "Could not count."


async def test_a_server_dying_mid_call_is_one_error_naming_it_and_the_finished_steps_are_kept(
    provider: LLMProvider,
    llm_emulator: LLMEmulator,
    servers: MCPServers,
    isolated_ledger: Ledger,
) -> None:
    tools = [await servers.tool("docs.search"), await servers.tool("docs.crash")]
    llm_emulator.enqueue(
        Reply(tool_calls=[ToolCall(id="c1", name="docs__search", arguments={"query": "a"})]),
        Reply(tool_calls=[ToolCall(id="c2", name="docs__crash", arguments={})]),
        Reply(text="never sent"),
    )

    with pytest.raises(MCPServerError) as raised:
        await provider.run_tools("Search, then crash.", tools=tools)

    message = str(raised.value)
    assert message.startswith("MCP server 'docs'") and "during a call to crash" in message
    assert "crashing on purpose" in message  # its last words on stderr
    run: Any = raised.value.run  # type: ignore[attr-defined]
    assert [step.number for step in run.steps] == [1, 2] and run.outcome == "failed"
    assert [row.step for row in isolated_ledger.records()] == [1, 2]
    assert len(llm_emulator.requests) == 2
    # the next use starts the server again
    assert await (await servers.tool("docs.search")).call({"query": "b"}) != ""


async def test_a_server_that_cannot_start_is_one_error_naming_it_without_its_secrets() -> None:
    servers = MCPServers({"docs": docs_config(DOCS_FAIL_AT_START="1")})
    try:
        with pytest.raises(MCPServerError) as raised:
            await servers.tools("docs")
    finally:
        servers.close()

    message = str(raised.value)
    assert message.startswith("MCP server 'docs'") and "could not start" in message
    assert "refusing to start" in message and TOKEN not in message
    assert "mcp_servers.docs" in message


async def test_a_missing_command_is_one_error_naming_the_server() -> None:
    config = MCPServerConfig.model_validate({"command": "no-such-mcp-server-binary"})
    servers = MCPServers({"search": config})
    try:
        with pytest.raises(MCPServerError, match=r"^MCP server 'search' .*could not start"):
            await servers.tools("search")
    finally:
        servers.close()


async def test_unknown_servers_and_tools_are_named_with_what_exists(servers: MCPServers) -> None:
    with pytest.raises(ConfigError, match=r"no MCP server named 'wiki'.*defines: docs"):
        await servers.tool("wiki.search")
    with pytest.raises(ConfigError, match=r"no tool named 'find'; it offers: docs.search"):
        await servers.tool("docs.find")


def test_a_server_config_needs_a_command_or_a_url_and_hides_its_secrets() -> None:
    with pytest.raises(ConfigError, match=r"key mcp_servers.docs: .*either command: .* or url:"):
        load_config({"mcp_servers": {"docs": {"args": ["x"]}}})
    with pytest.raises(ConfigError, match=r"key mcp_servers.docs.env: env applies to a command"):
        load_config({"mcp_servers": {"docs": {"url": "http://127.0.0.1:9/mcp", "env": {"A": "b"}}}})
    config = load_config({"mcp_servers": {"docs": docs_config().model_dump(mode="python")}})
    shown = f"{config!r} {config.model_dump_json()}"
    assert "DOCS_TOKEN" in shown and TOKEN not in shown


def test_mcp_tools_picks_a_whole_server_or_one_tool_and_the_session_stops_them(
    tmp_path: Path,
) -> None:
    config = tmp_path / "orchestify.yaml"
    config.write_text(
        f"providers: {{}}\nmcp_servers:\n  docs:\n    command: {sys.executable}\n"
        f"    args: ['{SERVER}']\n",
        encoding="utf-8",
    )
    set_session(build_session(config))
    try:
        everything = mcp_tools("docs")
        one = mcp_tools("docs.search")
        connection = get_session().mcp.connection("docs")
        assert connection._task is not None and not connection._task.done()  # running
    finally:
        set_session(None)  # the replaced session closes its servers

    assert sorted(tool.name for tool in everything) == [
        "docs.chart",
        "docs.crash",
        "docs.page_count",
        "docs.search",
    ]
    assert [tool.name for tool in one] == ["docs.search"]
    assert connection._task is None


@pytest.fixture
def http_server() -> Iterator[str]:
    """The docs server over streamable HTTP on a free loopback port; yields its URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, SERVER, "--http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as attempt:
                if attempt.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)


async def test_a_streamable_http_server_offers_and_runs_its_tools(http_server: str) -> None:
    config = MCPServerConfig.model_validate(
        {"url": http_server, "headers": {"Authorization": f"Bearer {TOKEN}"}}
    )
    servers = MCPServers({"remote": config})
    try:
        search = await servers.tool("remote.search")
        assert (
            await search.call({"query": "tls"})
            == "3 pages mention tls: install, configure, upgrade."
        )
    finally:
        servers.close()


async def test_an_unreachable_http_server_is_one_error_without_its_headers() -> None:
    config = MCPServerConfig.model_validate(
        {"url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": f"Bearer {TOKEN}"}}
    )
    servers = MCPServers({"remote": config})
    try:
        with pytest.raises(MCPServerError) as raised:
            await servers.tools("remote")
    finally:
        servers.close()

    message = str(raised.value)
    assert message.startswith("MCP server 'remote' (http://127.0.0.1:9/mcp) could not start")
    assert TOKEN not in message
