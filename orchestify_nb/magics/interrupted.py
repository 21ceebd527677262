"""An interrupted ``%%llm`` cell ends like the panel's Stop: the partial answer, a footer with
what the call cost, the output's provenance metadata, and one line of error.

The error is still raised, so Run All (JupyterLab, nbclient) stops at the cell; it is the user's
``KeyboardInterrupt`` itself (``ename`` stays ``KeyboardInterrupt``) with ``_render_traceback_``
set on it, which IPython uses instead of the 40-line traceback through our call stack.
The usage comes from the ledger row the provider base class wrote when the call was cancelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestify_nb.render import footer_text

if TYPE_CHECKING:
    from orchestify_nb.magics.options import CellOptions
    from orchestify_nb.providers.base import LLMProvider
    from orchestify_nb.providers.types import LLMMessage, LLMResponse
    from orchestify_nb.render import StreamRenderer
    from orchestify_nb.usage.record import UsageRecord

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

    record = cancelled_record(provider, renderer)
    if record is None:
        model = options.model or provider.default_model or "?"
        unknown = f"{provider.provider_id} · {model} · usage not recorded"
        renderer.interrupt(f"{unknown} · {renderer.elapsed_s():.2f} s")
    else:
        partial = partial_response(renderer, provider, record)
        metadata = answer_metadata(partial, options, messages, system) | {"status": "cancelled"}
        renderer.interrupt(footer_text(partial), metadata)
    return one_line_interrupt()


def one_line_interrupt() -> KeyboardInterrupt:
    """A ``KeyboardInterrupt`` that IPython shows as one line."""
    interrupt = KeyboardInterrupt(INTERRUPTED_MESSAGE)
    line = f"KeyboardInterrupt: {INTERRUPTED_MESSAGE}"
    setattr(interrupt, "_render_traceback_", lambda: [line])  # noqa: B010 (instance hook)
    return interrupt


def cancelled_record(provider: LLMProvider, renderer: StreamRenderer) -> UsageRecord | None:
    """The ledger row of this call: the newest ``cancelled`` row of ``provider`` written by this
    kernel since the renderer started (``None`` if the provider records elsewhere)."""
    from orchestify_nb.usage.ledger import Ledger

    ledger = provider.usage_sink
    if not isinstance(ledger, Ledger) or renderer.started_wall is None:
        return None
    try:
        rows = ledger.records(
            since=renderer.started_wall, provider=provider.provider_id, status="cancelled"
        )
    except Exception:  # a ledger that cannot be read must not hide the partial answer
        return None
    mine = [row for row in rows if row.session_id == ledger.session_id]
    return mine[-1] if mine else None


def partial_response(
    renderer: StreamRenderer, provider: LLMProvider, record: UsageRecord
) -> LLMResponse:
    """The interrupted answer as a response: the text shown, the usage recorded."""
    from orchestify_nb.providers.types import LLMResponse

    return LLMResponse(
        content=renderer.text,
        thinking=renderer.thinking,
        model=record.model,
        model_requested=record.model_requested,
        provider_id=provider.provider_id,
        tokens_input=record.input_tokens,
        tokens_output=record.output_tokens,
        cache_read_tokens=record.cache_read_tokens,
        cache_write_tokens=record.cache_write_tokens,
        reasoning_tokens=record.reasoning_tokens,
        cost_usd=record.cost_usd,
        priced=record.priced,
        price_source=record.price_source,
        latency_s=record.latency_s,
        time_to_first_token_s=record.time_to_first_token_s,
        finish_reason="cancelled",
        record_id=record.id,
    )
