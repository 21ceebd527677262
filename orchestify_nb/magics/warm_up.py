"""Warm-up after ``%load_ext``: a daemon thread reads the config, builds the session's registry
and gets the configured providers ready (``registry.warming``), so the first ``%%llm`` does not
spend a second or two importing an SDK while the user waits for its first token.

``%load_ext`` only asks for the thread to start once the cell that loaded the extension has
finished (IPython's ``post_run_cell``), so loading stays within its time budget and imports
nothing heavy, and the rest of that cell does not compete with the warm-up. A magic call that
arrives while the thread runs waits for it instead of doing the same work a second time. The
warm-up never reports anything: the session keeps a config problem for the first call to
announce, and a provider that cannot be prepared fails again, and is reported, at its first call.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["cancel_warm_up", "start_warm_up_after_this_cell", "wait_for_warm_up"]

_EVENT = "post_run_cell"

logger = logging.getLogger("orchestify_nb.magics")

_thread: threading.Thread | None = None
_lock = threading.Lock()
#: The shell whose next ``post_run_cell`` starts the warm-up.
_waiting_shell: InteractiveShell | None = None


def start_warm_up_after_this_cell(shell: InteractiveShell) -> None:
    """Start the warm-up when the cell running now (``%load_ext``) has finished."""
    global _waiting_shell
    cancel_warm_up()
    _waiting_shell = shell
    shell.events.register(_EVENT, _start_after_cell)


def cancel_warm_up() -> None:
    """Forget a warm-up not started yet, and wait for one that is running (``%unload_ext``)."""
    global _waiting_shell
    if _waiting_shell is not None:
        _waiting_shell.events.unregister(_EVENT, _start_after_cell)
        _waiting_shell = None
    wait_for_warm_up()


def _start_after_cell(result: object) -> None:
    """IPython's ``post_run_cell`` callback: runs once, then starts the thread."""
    global _waiting_shell
    if _waiting_shell is not None:
        _waiting_shell.events.unregister(_EVENT, _start_after_cell)
        _waiting_shell = None
    start_warm_up()


def start_warm_up() -> None:
    """Start the warm-up thread, unless one is running already."""
    global _thread
    with _lock:
        if _thread is not None and _thread.is_alive():
            return
        _thread = threading.Thread(target=_warm_up, name="orchestify-warm-up", daemon=True)
        _thread.start()


def wait_for_warm_up() -> None:
    """Return once no warm-up is running (at once if none was started)."""
    thread = _thread
    if thread is not None and thread is not threading.current_thread():
        thread.join()


def _warm_up() -> None:
    try:
        from orchestify_nb.registry.warming import warm_up_providers
        from orchestify_nb.render import StreamRenderer  # noqa: F401  (imported for the first call)
        from orchestify_nb.runtime import iterate_sync  # noqa: F401
        from orchestify_nb.session import get_session

        session = get_session()
        warm_up_providers({pid: session.registry.get(pid) for pid in session.registry})
    except Exception as error:  # never reported here: the first call meets it again
        logger.debug("warm-up stopped early: %s", type(error).__name__)
