"""Warm-up after ``%load_ext``: a daemon thread reads the config, builds the session's registry
and gets the configured providers ready (``registry.warming``), so the first ``%%llm`` does not
spend a second or two importing an SDK while the user waits for its first token.

``%load_ext`` only asks for the thread to start once the cell that loaded the extension has
finished (IPython's ``post_run_cell``), so loading stays within its time budget and imports
nothing heavy, and the rest of that cell does not compete with the warm-up. A magic call that
arrives while the thread runs waits for the session and the default provider to be ready
instead of doing the same work a second time (``_WarmUp`` says why not for the rest). The
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

_thread: _WarmUp | None = None
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
        _thread = _WarmUp()
        _thread.start()


def wait_for_warm_up(*, everything: bool = True) -> None:
    """Return once no warm-up is running (at once if none was started); with
    ``everything=False``, as soon as the session and the default provider are ready."""
    thread = _thread
    if thread is None or thread is threading.current_thread():
        return
    if everything:
        thread.join()
    else:
        thread.first_ready.wait()


class _WarmUp(threading.Thread):
    """The session, then the default provider (``first_ready`` is set), then the others.

    A first call waits for ``first_ready`` only: most use the default provider, and one that
    uses another need not wait for every SDK (LiteLLM alone takes seconds to import); its own
    preparation imports what it needs, and the import system makes a module being imported
    by this thread wait rather than load twice."""

    def __init__(self) -> None:
        super().__init__(name="orchestify-warm-up", daemon=True)
        self.first_ready = threading.Event()

    def run(self) -> None:
        try:
            from orchestify_nb.registry.warming import warm_up_providers
            from orchestify_nb.render import StreamRenderer  # noqa: F401  (for the first call)
            from orchestify_nb.runtime import iterate_sync  # noqa: F401
            from orchestify_nb.session import get_session

            registry = get_session().registry
            default = registry.default_provider_id
            first = {default: registry.get(default)} if default is not None else {}
            warm_up_providers(first)
            self.first_ready.set()
            warm_up_providers({pid: registry.get(pid) for pid in registry if pid != default})
        except Exception as error:  # never reported here: the first call meets it again
            logger.debug("warm-up stopped early: %s", type(error).__name__)
        finally:
            self.first_ready.set()
