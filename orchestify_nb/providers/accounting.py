"""Pricing a call and turning it (ok, failed or cancelled) into one ledger row.

Kept apart from the provider's call loop so that what a row holds is decided in one place: the
response's token counts and timing, the price quote, and the labels of the caller's
``call_context``. ``CallAccounting`` is the part of ``LLMProvider`` that does it.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Protocol

from orchestify_nb.errors import ProviderError
from orchestify_nb.providers.calls import CallInProgress
from orchestify_nb.providers.structured import validate_answer
from orchestify_nb.providers.types import LLMResponse, TokenUsage
from orchestify_nb.tokens import TokenCounts
from orchestify_nb.usage.context import current_call_context
from orchestify_nb.usage.record import CallStatus, UsageRecord

if TYPE_CHECKING:
    from orchestify_nb.pricing import ModelPrice, PriceQuote
    from orchestify_nb.providers.types import LLMRequest
    from orchestify_nb.usage.reservations import BudgetReservation


class UsageSink(Protocol):
    """Where finished calls go (the ledger). ``check_budget`` refuses a call before it starts."""

    def record(self, record: UsageRecord) -> None: ...

    def check_budget(self, provider_id: str) -> None: ...


class CallAccounting:
    """Prices, stamps and records each call of a provider, and keeps its running totals."""

    provider_type: ClassVar[str]
    provider_id: str
    base_url: str | None
    pricing_overrides: dict[str, ModelPrice]
    _usage_sink: UsageSink | None
    _usage: TokenUsage
    _log: logging.Logger

    def _price(self, response: LLMResponse) -> PriceQuote:
        """Price a finished call from the maintained price data (config overrides win)."""
        from orchestify_nb.pricing import price_call

        return price_call(
            provider_type=self.provider_type,
            model=response.model,
            tokens=response.tokens,
            overrides=self.pricing_overrides,
            base_url=self.base_url,
        )

    def _with_one_hour_writes(
        self, request: LLMRequest, response: LLMResponse, quote: PriceQuote
    ) -> PriceQuote:
        """Anthropic bills a one-hour cache write at twice the input price; the price data has
        the five-minute rate (1.25 times), so the difference is added for ``cache_prompt="1h"``."""
        from orchestify_nb.providers.prompt_cache import write_surcharge_factor

        writes = response.tokens.cache_write
        factor = write_surcharge_factor(request.prompt_cache, response.model)
        if quote.cost_usd is None or not writes or not factor:
            return quote
        plain = self._price(
            LLMResponse(content="", model=response.model, tokens=TokenCounts(writes))
        )
        if plain.cost_usd is None:
            return quote
        return replace(quote, cost_usd=quote.cost_usd + plain.cost_usd * factor)

    def _prompt_cache_saving(self, response: LLMResponse, quote: PriceQuote) -> float | None:
        """The call's price with every cached input token at the normal input rate, minus its
        actual price; ``None`` when nothing was read from or written to the prompt cache, or the
        model has no price."""
        tokens = response.tokens
        if quote.cost_usd is None or not (tokens.cache_read or tokens.cache_write):
            return None
        from orchestify_nb.pricing import price_call

        uncached = price_call(
            provider_type=self.provider_type,
            model=response.model,
            tokens=replace(tokens, cache_read=0, cache_write=0),
            overrides=self.pricing_overrides,
            base_url=self.base_url,
        )
        return None if uncached.cost_usd is None else uncached.cost_usd - quote.cost_usd

    def get_usage(self) -> TokenUsage:
        """Totals of this provider's calls since creation or the last ``reset_usage()``."""
        return self._usage.copy()

    def reset_usage(self) -> None:
        self._usage = TokenUsage()

    @property
    def usage_sink(self) -> UsageSink:
        """Where this provider's calls are recorded: its own sink, else the default ledger."""
        if self._usage_sink is None:
            from orchestify_nb.usage import get_default_ledger

            return get_default_ledger()
        return self._usage_sink

    def _check_budget(self, request: LLMRequest) -> BudgetReservation:
        """Reserve the request's worst case against the budgets (refused if it cannot fit); the
        caller releases it once the call is recorded."""
        from orchestify_nb.providers.budgeting import reserve_budget

        return reserve_budget(self, request)

    def _finish(self, call: CallInProgress) -> LLMResponse:
        """The finished call's one response: timed, priced, stamped and recorded."""
        response = call.response()
        quote = self._with_one_hour_writes(call.request, response, self._price(response))
        response.cost_usd, response.priced, response.price_source = (
            quote.cost_usd,
            quote.priced,
            quote.source,
        )
        response.prompt_cache_saved_usd = self._prompt_cache_saving(response, quote)
        response.provider_id = self.provider_id
        response.model_requested = call.request.model
        misfit = validate_answer(call.request, response)  # with output_schema: parsed, or not
        response.record_id = self._record(
            call, response, quote, error_type="StructuredOutputError" if misfit else None
        )
        self._log.debug(
            "%s: %d in / %d out tokens, cost %s, %.3fs",
            response.model,
            response.tokens.input,
            response.tokens.output,
            "unpriced" if response.cost_usd is None else f"${response.cost_usd:.6f}",
            response.latency_s or 0.0,
        )
        return response

    def _record_unfinished(
        self, call: CallInProgress, status: CallStatus, error: ProviderError | None
    ) -> None:
        """Record a failed or cancelled call with the usage reported and the text that came;
        the error carries that partial answer as ``partial_response``."""
        partial = call.response()
        quote = self._price(partial) if partial.tokens else None
        if quote is not None:
            partial.cost_usd, partial.priced = quote.cost_usd, quote.priced
        partial.provider_id, partial.model_requested = self.provider_id, call.request.model
        partial.record_id = self._record(
            call, partial, quote, status=status, error_type=type(error).__name__ if error else None
        )
        if error is not None:
            error.partial_response = partial
            self._log.warning("%s failed: %s", call.request.model, error)

    def _record(
        self,
        call: CallInProgress,
        response: LLMResponse,
        quote: PriceQuote | None,
        *,
        status: CallStatus = "ok",
        error_type: str | None = None,
    ) -> str:
        """Build the call's ledger row, fold it into this provider's totals and write it."""
        record = usage_record(
            provider_id=self.provider_id,
            provider_type=self.provider_type,
            model_requested=call.request.model,
            response=response,
            quote=quote,
            started_at=call.started_wall,
            status=status,
            error_type=error_type,
        )
        self._usage.add_record(record)
        try:
            self.usage_sink.record(record)
        except Exception:  # the answer matters more than the ledger row; say so loudly
            self._log.exception("could not write the usage record %s to the ledger", record.id)
        return record.id


def usage_record(
    *,
    provider_id: str,
    provider_type: str,
    model_requested: str,
    response: LLMResponse,
    quote: PriceQuote | None,
    started_at: datetime,
    status: CallStatus = "ok",
    error_type: str | None = None,
) -> UsageRecord:
    """The ledger row of one call, labelled with the ``call_context`` in force."""
    context = current_call_context()
    return UsageRecord(
        provider_id=provider_id,
        provider_type=provider_type,
        model_requested=model_requested,
        model=response.model,
        started_at=started_at,
        finished_at=UsageRecord.now(),
        status=status,
        tokens=response.tokens,
        usage_estimated=response.usage_estimated,
        cost_usd=quote.cost_usd if quote else None,
        priced=quote.priced if quote else False,
        price_source=quote.source if quote else None,
        latency_s=response.latency_s,
        time_to_first_token_s=response.time_to_first_token_s,
        finish_reason=response.finish_reason if status == "ok" else status_reason(status),
        error_type=error_type,
        agent=context.agent,
        tag=context.tag,
        notebook_path=context.notebook_path,
        cell_execution_count=context.cell_execution_count,
        run_id=context.run_id,
        step=context.step,
        prompt_cache_saved_usd=response.prompt_cache_saved_usd,
    )


def status_reason(status: CallStatus) -> str:
    """The finish reason recorded for a call that did not finish."""
    return "cancelled" if status == "cancelled" else "error"
