"""An interrupted ``%%llm`` cell ends like the panel's Stop: the partial answer, a footer with
what the call cost, the output's provenance metadata, and one line of error.

The error is still raised, so Run All (JupyterLab, nbclient) stops at the cell; it is the user's
``KeyboardInterrupt`` itself (``ename`` stays ``KeyboardInterrupt``) with ``_render_traceback_``
set on it, which IPython uses instead of the 40-line traceback through our call stack.
The usage comes from the ledger row the provider base class wrote when the call was cancelled
(``render.cancelled``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestify_nb.render import footer_text
from orchestify_nb.render.cancelled import cancelled_record, partial_response

if TYPE_CHECKING:
    from orchestify_nb.magics.options import CellOptions
    from orchestify_nb.providers.base import LLMProvider
    from orchestify_nb.providers.types import LLMMessage
    from orchestify_nb.render import StreamRenderer

#: The one line shown under an interrupted answer.
INTERRUPTED_MESSAGE = (
    "interrupted by the user; the partial answer above is kept and recorded as cancelled"
)


def interrupted_call(
    renderer: StreamRenderer,
    provider: LLMProvider,
    options: CellOptions,
    messages: list[LLMMessage],
    system: str | None,
) -> KeyboardInterrupt:
    """Draw the partial answer with its footer and metadata; return the one-line interrupt for
    the caller to raise."""
    from orchestify_nb.magics.cell import answer_metadata

    record = None
    if renderer.started_wall is not None:
        record = cancelled_record(provider, renderer.started_wall)
    if record is None:
        model = options.model or provider.default_model or "?"
        unknown = f"{provider.provider_id} · {model} · usage not recorded"
        renderer.interrupt(f"{unknown} · {renderer.elapsed_s():.2f} s")
    else:
        partial = partial_response(record, renderer.text, renderer.thinking)
        metadata = answer_metadata(partial, options, messages, system) | {"status": "cancelled"}
        renderer.interrupt(footer_text(partial), metadata)
    return one_line_interrupt()


def one_line_interrupt() -> KeyboardInterrupt:
    """A ``KeyboardInterrupt`` that IPython shows as one line."""
    interrupt = KeyboardInterrupt(INTERRUPTED_MESSAGE)
    line = f"KeyboardInterrupt: {INTERRUPTED_MESSAGE}"
    setattr(interrupt, "_render_traceback_", lambda: [line])  # noqa: B010 (instance hook)
    return interrupt
