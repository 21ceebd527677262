"""``run_batch`` and ``compare`` with ``mode="batch"``: the prompts as one provider batch job.

The run submits the job, waits for it without blocking the event loop (polling with backoff,
so ``compare`` waits for every model's job at once), then fills the same ``BatchRow``s a
realtime run fills: the answer as an ``LLMResponse`` with its tokens and its cost at the batch
rate, or the row's status (``errored``, ``expired``, ``canceled``) as its error. Cancelling
stops the waiting, not the job: it keeps running at the provider, and
``orchestify_nb.batch.job(result.job_id)`` collects it later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from orchestify_nb.batch.jobs.frame import BatchModeUnsupportedError, choose_mode
from orchestify_nb.batch.jobs.job import BatchJob, RowOutcome
from orchestify_nb.batch.jobs.routes import BatchRoute, batch_route, submit_through
from orchestify_nb.providers.types import LLMResponse
from orchestify_nb.tokens import TokenCounts

if TYPE_CHECKING:
    from orchestify_nb.batch.result import BatchResult, BatchRow, Prompt
    from orchestify_nb.providers.base import LLMProvider

#: What a provider batch job carries besides the prompt.
_JOB_PARAMS = frozenset({"max_tokens", "system"})
_POLL_S, _MAX_POLL_S = 5.0, 60.0


@dataclass(frozen=True, slots=True)
class JobSettings:
    """How a run's rows go as a provider batch job."""

    route: BatchRoute
    max_tokens: int | None
    system: str | None
    poll_s: float = _POLL_S


def job_settings(
    mode: str,
    provider: LLMProvider,
    model: str | None,
    prompts: list[Prompt],
    params: Mapping[str, Any],
) -> JobSettings | None:
    """The job settings when ``mode`` runs these prompts as a batch job (``None``: realtime);
    raises ``BatchModeUnsupportedError`` for what a job cannot carry, before anything is sent."""
    chosen, why = choose_mode(mode, provider, model, len(prompts))
    if chosen == "realtime":
        if mode == "auto":
            print(f"mode='auto': realtime, because {why}.")
        return None
    name = model or provider.default_model or ""
    route = batch_route(provider, name)
    assert route is not None  # choose_mode picked batch
    if not all(isinstance(prompt, str) for prompt in prompts):
        raise BatchModeUnsupportedError(
            "a batch job sends text prompts; conversations (lists of messages) run realtime: "
            "use mode='realtime'"
        )
    extra = sorted(set(params) - _JOB_PARAMS - {"cache_prompt"})
    if extra:
        raise BatchModeUnsupportedError(
            f"{', '.join(extra)}: not carried by a batch job (it takes model, max_tokens and "
            "system); drop it or use mode='realtime'"
        )
    return JobSettings(route, params.get("max_tokens"), params.get("system"))


async def run_as_job(
    provider: LLMProvider,
    settings: JobSettings,
    rows: list[BatchRow],
    result: BatchResult,
    *,
    progress: bool,
) -> None:
    """Submit ``rows`` as one job, wait for it, and fill them from its outcomes."""
    route = settings.route
    job = await asyncio.to_thread(
        submit_through,
        provider,
        route,
        [str(row.prompt) for row in rows],
        max_tokens=settings.max_tokens or provider.max_tokens,
        system=settings.system,
        tag=result.batch_id,
    )
    result.job_id = job.id
    if progress:
        print(f"Submitted batch job {job.id} ({len(rows):,} rows); waiting for it.")
    try:
        await _wait(job, settings.poll_s, progress)
    except asyncio.CancelledError:
        print(f"Stopped waiting; batch job {job.id} keeps running at the provider.")
        raise
    outcomes = await asyncio.to_thread(job.outcomes)
    for row, outcome in zip(rows, outcomes, strict=True):
        _fill(row, outcome, provider, route)


async def _wait(job: BatchJob, poll_s: float, progress: bool) -> None:
    """Poll with backoff until every part has ended, a tqdm bar showing requests done."""
    from tqdm.auto import tqdm

    done, total, ended = await asyncio.to_thread(job.progress)
    bar = tqdm(total=total, initial=done, desc=f"batch {job.id}", unit="req", disable=not progress)
    delay = poll_s
    try:
        while not ended:
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_POLL_S)
            done, total, ended = await asyncio.to_thread(job.progress)
            bar.n = done
            bar.refresh()
    finally:
        bar.close()


def _fill(row: BatchRow, outcome: RowOutcome, provider: LLMProvider, route: BatchRoute) -> None:
    if outcome.status != "succeeded":
        row.status, row.error = "error", outcome.error or f"request {outcome.status}"
        row.error_type = f"batch job: {outcome.status}"
        return
    response = LLMResponse(
        content=outcome.text or "",
        model=route.model,
        tokens=TokenCounts(input=outcome.input_tokens, output=outcome.output_tokens),
        finish_reason="stop",
        cost_usd=outcome.cost_usd,
        priced=outcome.cost_usd is not None,
        provider_id=provider.provider_id,
        model_requested=route.model,
        saved_usd=outcome.saved_usd,
    )
    row.succeed(response)
