"""The notebook session: which config is loaded, its provider registry, and the named chats.

One session per process, created on first use (``%load_ext`` or the first ``%%llm``, the panel or
a batch run without an explicit registry). A bad config never makes the session fail: it holds
an empty registry and the ``ConfigError`` explaining the problem, so every caller can say what is
wrong instead of crashing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orchestify_nb.config import OrchestifyConfig
    from orchestify_nb.errors import ConfigError
    from orchestify_nb.providers.types import LLMMessage
    from orchestify_nb.registry import ProviderRegistry
    from orchestify_nb.tools import Tool
    from orchestify_nb.tools.mcp import MCPServers


@dataclass
class NotebookSession:
    """State shared by the magics, the panel and batch runs in one kernel.

    ``chats`` maps a conversation name (``%%llm chat=NAME``) to its turns so far, system turns
    excluded. ``last_error`` is the last exception a magic turned into a one-line message, kept
    for ``%llm error``. ``problem_announced`` records whether the config problem has already been
    shown since it was found (load shows it once; the first ``%%llm`` shows it again).
    """

    config: OrchestifyConfig | None
    registry: ProviderRegistry
    config_problem: ConfigError | None = None
    chats: dict[str, list[LLMMessage]] = field(default_factory=dict)
    last_error: BaseException | None = None
    problem_announced: bool = False
    _mcp: MCPServers | None = field(default=None, repr=False)

    @property
    def config_source(self) -> str:
        """Where the config came from: a file path, or a description of the embedded default."""
        source = self.config.source if self.config is not None else None
        return source or "the embedded default config"

    @property
    def mcp(self) -> MCPServers:
        """The config's MCP servers (``mcp_servers:``), each started on first use."""
        if self._mcp is None:
            from orchestify_nb.tools.mcp import MCPServers

            self._mcp = MCPServers(self.config.mcp_servers if self.config is not None else {})
        return self._mcp

    def close(self) -> None:
        """Stop what the session started (its MCP servers)."""
        if self._mcp is not None:
            self._mcp.close()
            self._mcp = None

    def chat(self, name: str) -> list[LLMMessage]:
        """The turns of conversation ``name`` (created empty on first use)."""
        return self.chats.setdefault(name, [])

    def reset_chat(self, name: str | None = None) -> list[str]:
        """Forget one conversation, or all of them; returns the names forgotten."""
        names = list(self.chats) if name is None else [name] if name in self.chats else []
        for forgotten in names:
            del self.chats[forgotten]
        return names


_session: NotebookSession | None = None
_lock = threading.Lock()


def build_session(path: str | Path | None = None) -> NotebookSession:
    """Load a config (``path``, or the usual discovery) and build its registry; never raises for
    a bad config: the problem is kept on the session and the registry holds what could be built.
    """
    from orchestify_nb.config import discover_config, load_config
    from orchestify_nb.errors import ConfigError
    from orchestify_nb.providers.caching import set_default_cache_mode
    from orchestify_nb.registry import ProviderRegistry
    from orchestify_nb.usage import configure_default_ledger

    config: OrchestifyConfig | None
    problem: ConfigError | None
    if path is None:
        config, problem = discover_config()
    else:
        try:
            config, problem = load_config(Path(path).expanduser()), None
        except ConfigError as error:
            config, problem = None, error
    set_default_cache_mode(config.cache if config is not None else None)
    if config is None:
        return NotebookSession(config=None, registry=ProviderRegistry(), config_problem=problem)
    registry = ProviderRegistry.from_config(config, strict=False)
    configure_default_ledger(config)
    return NotebookSession(
        config=config, registry=registry, config_problem=problem or registry.build_problem
    )


def get_session() -> NotebookSession:
    """The process's session, built from the discovered config on first use."""
    global _session
    with _lock:
        if _session is None:
            _session = build_session()
        return _session


def mcp_tools(*names: str) -> list[Tool]:
    """Tools of the session's MCP servers (config ``mcp_servers:``), for ``run_tools``:
    ``"docs"`` gives every tool of server ``docs``, ``"docs.search"`` one of them."""
    return get_session().mcp.pick(*names)


def peek_session() -> NotebookSession | None:
    """The session if one was built, without building it (``%unload_ext`` uses this)."""
    return _session


def set_session(session: NotebookSession | None) -> None:
    """Replace the process's session (``%llm config PATH``), or drop it so the next
    ``get_session()`` discovers the config again. The session replaced is closed (its MCP
    servers stop)."""
    global _session
    with _lock:
        replaced, _session = _session, session
    if replaced is not None and replaced is not session:
        replaced.close()
