"""A real MCP server for the tests, built with the ``mcp`` SDK's server API and run on stdio:
``python tests/tools/mcp_docs_server.py``. ``crash`` ends the process in the middle of a call,
as a server that dies would; ``DOCS_TOKEN`` (a secret) is written to stderr at start, so tests
can check that no error shows it."""

from __future__ import annotations

import os
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer("docs")


@server.tool()
def search(query: str) -> str:
    """Search the product documentation."""
    return f"3 pages mention {query}: install, configure, upgrade."


@server.tool()
def page_count(section: str, minimum: int = 1) -> int:
    """How many pages a section has (at least ``minimum``)."""
    return max(len(section), minimum)


@server.tool()
def crash() -> str:
    """Ends the server at once, mid-call."""
    sys.stderr.write("docs server: crashing on purpose\n")
    sys.stderr.flush()
    os._exit(3)


if __name__ == "__main__":
    if os.environ.get("DOCS_FAIL_AT_START"):
        sys.stderr.write(f"docs server: refusing to start with token {os.environ['DOCS_TOKEN']}\n")
        sys.exit(2)
    server.run()
