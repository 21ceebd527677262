"""``run_batch``: send many prompts to one provider, as fast as its limits allow, losing nothing.

A batch runs in two steps. ``prepare_batch`` (sync, no I/O) validates every row, estimates the
cost and refuses it if a budget would break; it returns a ``BatchRun`` whose ``result`` exists
from that moment. ``BatchRun.run()`` then sends the rows and fills the result in place, so
whoever holds the run still has every finished row after a cancel or an interrupt.

A fixed pool of ``concurrency`` workers takes rows from one shared iterator: a semaphore in
effect, without a waiting task per row (a 5,000-row batch holds ``concurrency`` tasks, not
5,000). Each row's retries are the provider's own policy; a row that still fails keeps its error
and the batch goes on. Every call runs inside ``call_context(tag=batch_id)``, so the usage ledger
groups the batch's calls by that tag.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Coroutine, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from orchestify_nb.batch.budget import refuse_over_budget
from orchestify_nb.batch.estimate import BatchEstimate, estimate_batch
from orchestify_nb.batch.job_runs import JobSettings, job_settings, run_as_job
from orchestify_nb.batch.limits import PacedLimiter
from orchestify_nb.batch.progress import BatchProgress
from orchestify_nb.batch.providers import resolve_provider
from orchestify_nb.batch.result import BatchInputError, BatchResult, BatchRow, Prompt
from orchestify_nb.batch.shared_prefix import share_prompt_prefix
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.caching import CACHE_MODES, CacheMode
from orchestify_nb.providers.types import LLMRequest
from orchestify_nb.usage.context import call_context

__all__ = [
    "BatchInterrupted",
    "BatchRun",
    "last_result",
    "prepare_batch",
    "run_batch",
    "run_batch_sync",
]

DEFAULT_CONCURRENCY = 16

T = TypeVar("T")

_last_result: BatchResult | None = None


class BatchInterrupted(KeyboardInterrupt):
    """The user interrupted ``run_batch_sync``; ``result`` holds every row finished before it."""

    def __init__(self, result: BatchResult) -> None:
        self.result = result
        super().__init__(
            f"batch {result.batch_id} interrupted: {result.count('ok')} of {len(result)} rows "
            "answered and kept, the rest marked cancelled. The partial result is this "
            "exception's .result and orchestify_nb.batch.last_result(); run the batch again "
            "with resume=True to send only the missing rows."
        )


def last_result() -> BatchResult | None:
    """The most recent batch of this process, finished or not (an interrupted run's rows too)."""
    return _last_result


def new_batch_id() -> str:
    """A readable, unique tag: ``batch-20250101-120000-1a2b3c``."""
    return f"batch-{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


@dataclass
class BatchRun:
    """A validated, estimated batch, ready to send; ``run()`` fills ``result`` in place.

    ``requests`` are the rows' requests, built and checked once by ``prepare_batch`` (one per
    row of ``to_send``): the estimate counted them, and they are sent as built.
    """

    provider: LLMProvider
    result: BatchResult
    estimate: BatchEstimate
    to_send: list[BatchRow]
    requests: list[LLMRequest]
    concurrency: int
    rpm: float | None
    tpm: float | None
    progress: bool
    description: str | None
    cache: CacheMode | None = None
    #: Set with ``mode="batch"``: the rows go as one provider batch job (``batch.job_runs``).
    job: JobSettings | None = None

    async def run(self) -> BatchResult:
        """Send the rows; on cancel, keep the finished ones and mark the rest ``cancelled``."""
        result = self.result
        if self.progress and self.to_send:
            print(self.estimate.summary())
        bar = BatchProgress(
            total=len(self.to_send),
            description=self.description or result.batch_id,
            enabled=self.progress and bool(self.to_send),
        )
        started = time.perf_counter()
        try:
            with call_context(tag=result.batch_id):
                if self.job is not None:
                    bar.close()
                    await run_as_job(
                        self.provider, self.job, self.to_send, result, progress=self.progress
                    )
                else:
                    await self._send_rows(bar)
        except BaseException:
            result.interrupted = True
            raise
        finally:
            for row in self.to_send:
                if row.status == "pending":
                    row.status = "cancelled"
            result.wall_time_s = time.perf_counter() - started
            bar.close()
        return result

    async def _send_rows(self, progress: BatchProgress) -> None:
        """At most ``concurrency`` calls in flight, starts paced by ``rpm``/``tpm``."""
        provider = self.provider
        request_limiter = PacedLimiter(self.rpm) if self.rpm else None
        token_limiter = PacedLimiter(self.tpm) if self.tpm else None
        queue: Iterator[tuple[BatchRow, LLMRequest, int]] = zip(
            self.to_send, self.requests, self.estimate.row_input_tokens, strict=True
        )

        async def worker() -> None:
            # The workers share one iterator; next() is synchronous, so each row goes to one.
            for row, request, input_tokens in queue:
                if request_limiter is not None:
                    await request_limiter.acquire()
                if token_limiter is not None:
                    await token_limiter.acquire(input_tokens + request.max_tokens)
                started = time.perf_counter()
                try:
                    response = await provider.complete(request, cache=self.cache)
                except Exception as error:  # the row keeps its error; the batch goes on
                    row.fail(error, time.perf_counter() - started)
                else:
                    row.succeed(response)
                progress.row_finished(row)

        async with asyncio.TaskGroup() as workers:
            for _ in range(min(self.concurrency, len(self.to_send))):
                workers.create_task(worker())


def prepare_batch(
    prompts: Iterable[Prompt],
    *,
    provider: LLMProvider | str | None = None,
    model: str | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    rpm: float | None = None,
    tpm: float | None = None,
    resume: BatchResult | bool | None = None,
    tag: str | None = None,
    progress: bool = True,
    description: str | None = None,
    cache: CacheMode | None = None,
    mode: str = "realtime",
    **params: Any,
) -> BatchRun:
    """Validate and estimate a batch without sending anything (arguments as ``run_batch``).

    Raises the provider's ``ModelNotSupportedError``/``UnsupportedOptionError`` for bad
    arguments, ``BatchInputError`` for a bad ``resume=``, ``BatchModeUnsupportedError`` for
    what ``mode="batch"`` cannot carry, and ``BudgetExceededError`` when the estimated cost would
    break a configured budget.
    """
    global _last_result
    if concurrency < 1:
        raise BatchInputError(f"concurrency must be at least 1, got {concurrency}.")
    for name, limit in (("rpm", rpm), ("tpm", tpm)):
        if limit is not None and limit <= 0:
            raise BatchInputError(f"{name} must be positive (or None for no limit), got {limit}.")
    if cache is not None and cache not in CACHE_MODES:
        raise BatchInputError(
            f"cache must be one of {', '.join(CACHE_MODES)} (or None for the default), "
            f"got {cache!r}."
        )
    chosen = resolve_provider(provider)
    prompt_list = list(prompts)
    job = None if mode == "realtime" else job_settings(mode, chosen, model, prompt_list, params)
    if job is not None and resume:
        raise BatchInputError("resume= re-sends realtime rows; a batch job has job.resubmit().")
    previous = _previous_result(resume, prompt_list)
    rows = [_carry_over(index, prompt, previous) for index, prompt in enumerate(prompt_list)]
    to_send = [row for row in rows if row.status == "pending"]
    requests = [chosen.build_request(row.prompt, model=model, **params) for row in to_send]
    declined = "cache_prompt" in params and not params["cache_prompt"]
    requests = share_prompt_prefix(requests, chosen.provider_type, declined=declined)
    estimate = estimate_batch(chosen, requests, batch=job is not None)
    refuse_over_budget(chosen, estimate)
    result = BatchResult(
        batch_id=tag or (previous.batch_id if previous else new_batch_id()),
        provider_id=chosen.provider_id,
        model=requests[0].model if requests else (model or chosen.default_model or ""),
        rows=rows,
        estimate=estimate,
    )
    _last_result = result
    return BatchRun(
        provider=chosen,
        result=result,
        estimate=estimate,
        to_send=to_send,
        requests=requests,
        concurrency=concurrency,
        rpm=rpm,
        tpm=tpm,
        progress=progress,
        description=description,
        cache=cache,
        job=job,
    )


async def run_batch(prompts: Iterable[Prompt], **kwargs: Any) -> BatchResult:
    """Answer every prompt (a text, or a list of messages) and return the rows in input order.

    Keyword arguments: ``provider`` (an ``LLMProvider`` or a provider id from the session's
    registry; default: its default provider), ``model``, ``concurrency`` (calls in flight,
    default 16), ``rpm``/``tpm`` (pace starts to a request/token-per-minute limit; a row books
    its estimated prompt tokens + ``max_tokens``), ``resume`` (a previous ``BatchResult`` for the
    same prompts, or ``True`` for the last one run in this process: only its unanswered rows are
    sent, under the same batch id), ``tag`` (the batch id in the usage ledger; default a new
    ``batch-...`` id), ``progress`` (show the estimate and a tqdm bar, default True),
    ``description`` (the bar's label), ``cache`` (the response cache's mode for every row:
    ``auto``, ``replay``, ``refresh`` or ``off``; see ``providers.caching``), ``mode``
    (``"realtime"``; ``"batch"`` sends the text prompts as one provider batch job at half
    price and waits for it, up to 24 hours, ``result.job_id`` naming it; ``"auto"`` does so
    from 1,000 prompts where the provider has a batch API; see ``batch.job_runs``). Rows that
    start
    with the same long text (a shared template) ask the provider's prompt cache for it
    (``batch.shared_prefix``; ``cache_prompt=False`` turns that off). Anything else
    (``system``, ``max_tokens``, ``temperature``, provider options) goes to every
    ``provider.complete()`` call.

    Raises ``BudgetExceededError`` before sending when the estimated cost would break a budget.
    Cancelling the task keeps every finished row (``last_result()``) and marks the rest
    ``cancelled``.
    """
    return await prepare_batch(prompts, **kwargs).run()


def run_batch_sync(prompts: Iterable[Prompt], **kwargs: Any) -> BatchResult:
    """``run_batch`` from sync code such as a notebook cell, where ``asyncio.run`` cannot work.

    Runs on the runtime's private loop and closes the provider's connections on that loop when
    done (connections cannot outlive their loop). On interrupt, raises ``BatchInterrupted``
    carrying the partial result.
    """
    batch = prepare_batch(prompts, **kwargs)
    try:
        return run_on_private_loop(batch.run(), [batch.provider])
    except KeyboardInterrupt:
        raise BatchInterrupted(batch.result) from None


def run_on_private_loop(work: Coroutine[Any, Any, T], providers: Iterable[LLMProvider]) -> T:
    """Run ``work`` via ``runtime.run_sync``, then close the ``providers``' connections on the
    same loop (they are bound to it and would otherwise outlive it)."""
    from orchestify_nb.runtime import run_sync

    async def run_and_close() -> T:
        try:
            return await work
        finally:
            for provider in {id(provider): provider for provider in providers}.values():
                await provider.aclose()

    return run_sync(run_and_close())


def _previous_result(
    resume: BatchResult | bool | None, prompts: list[Prompt]
) -> BatchResult | None:
    """The earlier result to resume from, checked to be for the same prompts."""
    if resume is None or resume is False:
        return None
    previous = _last_result if resume is True else resume
    if previous is None:
        raise BatchInputError(
            "resume=True, but no batch has run in this process yet. Run it without resume=, "
            "or pass the earlier BatchResult as resume=."
        )
    if not isinstance(previous, BatchResult):
        raise BatchInputError(
            f"resume= takes a BatchResult or True, not {type(previous).__name__}."
        )
    mismatch = len(previous.rows) != len(prompts) or any(
        row.prompt != prompt for row, prompt in zip(previous.rows, prompts, strict=False)
    )
    if mismatch:
        raise BatchInputError(
            f"cannot resume batch {previous.batch_id}: its {len(previous.rows)} prompts differ "
            f"from the {len(prompts)} given. Pass the same prompts in the same order, or run "
            "without resume=."
        )
    return previous


def _carry_over(index: int, prompt: Prompt, previous: BatchResult | None) -> BatchRow:
    """A fresh row, or the previous run's answered row for the same prompt."""
    if previous is not None and previous.rows[index].status == "ok":
        return previous.rows[index]
    return BatchRow(index=index, prompt=prompt)
