"""Python functions and MCP servers as tools, and the loop that lets a model call them."""

from orchestify_nb.tools.execution import Approval
from orchestify_nb.tools.functions import Tool, as_tool, tool
from orchestify_nb.tools.loop import run_tools, run_tools_sync, stream_tool_run
from orchestify_nb.tools.mcp import MCPServers
from orchestify_nb.tools.run import ToolEvent, ToolResult, ToolRun, ToolStep

__all__ = [
    "Approval",
    "MCPServers",
    "Tool",
    "ToolEvent",
    "ToolResult",
    "ToolRun",
    "ToolStep",
    "as_tool",
    "run_tools",
    "run_tools_sync",
    "stream_tool_run",
    "tool",
]
