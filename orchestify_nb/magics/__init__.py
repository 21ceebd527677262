"""``%%llm`` / ``%llm``: load and unload the magics (``%load_ext orchestify_nb``).

Loading registers the magics and the notebook display of ``LLMResponse``; unloading removes
exactly those. The config is not read during ``%load_ext``: parsing it imports pydantic and
the provider layer (about 0.12 s) and the first call would then import its SDK (a second or
more), so loading schedules a background warm-up (``warm_up``) that does both while the
user types; the first call explains any config problem (see ``cell.announce_config_problem``). The
one problem visible without parsing, ``ORCHESTIFY_CONFIG`` naming a missing file, is reported
at load as well.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["load_extension", "unload_extension"]

_RESPONSE_TYPE = "orchestify_nb.providers.types.LLMResponse"
_MAGICS_CLASS = "LLMMagics"


def load_extension(shell: InteractiveShell) -> None:
    """Register ``%%llm`` / ``%llm`` and the rich display of responses."""
    from orchestify_nb.magics.llm_magic import LLMMagics

    magics = LLMMagics(shell)
    shell.register_magics(magics)
    module, _, name = _RESPONSE_TYPE.rpartition(".")
    _display_formatter(shell).for_type_by_name(module, name, magics.display_response)
    _report_missing_config_file()
    from orchestify_nb.magics.warm_up import start_warm_up_after_this_cell

    start_warm_up_after_this_cell(shell)


def unload_extension(shell: InteractiveShell) -> None:
    """Remove what ``load_extension`` added (the session and its chats stay for a reload)."""
    from orchestify_nb.magics.warm_up import cancel_warm_up
    from orchestify_nb.session import peek_session

    cancel_warm_up()  # nothing of the extension keeps running once it is unloaded
    session = peek_session()
    if session is not None:
        session.close()  # its MCP servers
    manager = shell.magics_manager
    for kind in ("line", "cell"):
        manager.magics[kind].pop("llm", None)
    manager.registry.pop(_MAGICS_CLASS, None)
    _display_formatter(shell).pop(_RESPONSE_TYPE, None)


def _display_formatter(shell: InteractiveShell) -> Any:
    """IPython's formatter for objects that display themselves (``_ipython_display_``)."""
    formatters: Any = shell.display_formatter
    return formatters.ipython_display_formatter


def _report_missing_config_file() -> None:
    explicit = os.environ.get("ORCHESTIFY_CONFIG")
    if explicit and not Path(explicit).expanduser().exists():
        print(
            f"orchestify_nb: ORCHESTIFY_CONFIG is set to {explicit}, which does not exist; the "
            "first %%llm will use ./orchestify.yaml or the embedded default instead. Point it "
            "at a config file, or unset it.",
            file=sys.stderr,
        )
