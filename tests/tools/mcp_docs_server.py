"""A real MCP server for the tests, built with the ``mcp`` SDK's server API, on stdio
(``python tests/tools/mcp_docs_server.py``) or streamable HTTP (``... --http PORT``).
``chart`` returns text and a PNG image (as a screenshot or plotting server does); ``crash`` ends
the process in the middle of a call, as a server that dies would; ``DOCS_TOKEN``
(a secret) is written to stderr when asked to fail at start, so tests can check that no error
shows it."""

from __future__ import annotations

import io
import os
import sys

from mcp.server.mcpserver import Image, MCPServer
from PIL import Image as PILImage

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
def chart(title: str) -> list[str | Image]:
    """A 300 x 150 chart of the documentation's page views."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (300, 150), "white").save(buffer, format="PNG")
    return [f"Chart: {title}", Image(data=buffer.getvalue(), format="png")]


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
    if "--http" in sys.argv:
        port = int(sys.argv[sys.argv.index("--http") + 1])
        server.run("streamable-http", host="127.0.0.1", port=port)
    else:
        server.run()
