"""``df.llm.complete(..., mode="batch")`` and ``df.llm.collect(job)``: rows as a batch job.

Submitting fills ``<out>_status`` with ``submitted`` and ``<out>_batch_job`` with the job id (the
answers are hours away); ``collect`` fills ``<out>``, ``<out>_status``, ``<out>_error``,
``<out>_tokens_input``/``_output``, ``<out>_cost_usd`` (batch rate) and ``<out>_saved_usd``
(realtime minus batch cost of the same usage) in input order, in this kernel or a later one.
``mode="auto"`` picks batch when the provider has a batch API and the rows number at least
``AUTO_BATCH_ROWS``, realtime otherwise, and says which.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from orchestify_nb.batch.jobs.job import BatchJob, BatchJobError, job, submit
from orchestify_nb.batch.jobs.plan import BatchApi
from orchestify_nb.batch.providers import resolve_provider

if TYPE_CHECKING:
    import pandas as pd

#: ``mode="auto"`` sends a job this large or larger as a batch (below it, realtime is quick and
#: the saving small; above it, half price is worth the wait of up to 24 hours).
AUTO_BATCH_ROWS = 1000
_BATCH_APIS = ("anthropic", "openai")


def choose_mode(mode: str, provider_type: str, rows: int) -> tuple[str, str]:
    """``(realtime|batch, why)`` for a requested ``mode``."""
    if mode not in ("realtime", "batch", "auto"):
        raise BatchJobError(f"mode={mode!r} is not one of 'realtime', 'batch' or 'auto'.")
    has_batch = provider_type in _BATCH_APIS
    if mode == "batch" and not has_batch:
        raise BatchJobError(
            f"the {provider_type!r} provider has no batch mode (provider batch jobs exist for "
            "anthropic and openai providers); use mode='realtime' or mode='auto'."
        )
    if mode != "auto":
        return mode, f"mode={mode!r} was asked for"
    if not has_batch:
        return "realtime", f"the {provider_type!r} provider has no batch API"
    if rows < AUTO_BATCH_ROWS:
        return "realtime", f"{rows} rows is below the batch threshold of {AUTO_BATCH_ROWS}"
    return "batch", f"{rows} rows >= {AUTO_BATCH_ROWS}: half price, results within 24 hours"


def submit_frame(
    frame: pd.DataFrame, prompts: list[str], *, out: str, kwargs: dict[str, Any]
) -> BatchJob:
    """Submit ``prompts`` (one per row of ``frame``) and mark the rows submitted."""
    provider = resolve_provider(kwargs.pop("provider", None))
    model = kwargs.pop("model", None) or provider.default_model
    if not model:
        raise BatchJobError("a batch job needs a model: pass model= or set the provider's default.")
    the_job = submit(
        prompts,
        api=cast(BatchApi, provider.provider_type),
        model=str(model),
        base_url=provider.base_url,
        max_tokens=int(kwargs.pop("max_tokens", 1024)),
        system=kwargs.pop("system", None),
        ledger=kwargs.pop("ledger", None),
        pricing=provider.pricing_overrides,
    )
    frame[f"{out}_status"] = "submitted"
    frame[f"{out}_batch_job"] = the_job.id
    return the_job


def collect_frame(frame: pd.DataFrame, which: BatchJob | str | None, *, out: str) -> pd.DataFrame:
    """Fill ``out`` columns from a finished job (default: the job id in ``<out>_batch_job``)."""
    import pandas as pd

    if which is None:
        column = f"{out}_batch_job"
        if column not in frame.columns:
            raise BatchJobError(
                f"no {column!r} column: pass the job (or its id) to df.llm.collect(job, out=...)."
            )
        which = str(frame[column].iloc[0])
    the_job = job(which) if isinstance(which, str) else which
    outcomes = the_job.outcomes()
    if len(outcomes) != len(frame):
        raise BatchJobError(
            f"job {the_job.id} has {len(outcomes)} rows but the DataFrame has {len(frame)}: "
            "collect into the DataFrame the job was submitted from."
        )
    index = frame.index
    frame[out] = pd.Series([o.text for o in outcomes], index=index, dtype=object)
    frame[f"{out}_status"] = [o.status for o in outcomes]
    frame[f"{out}_error"] = pd.Series([o.error for o in outcomes], index=index, dtype=object)
    frame[f"{out}_tokens_input"] = pd.Series([o.input_tokens for o in outcomes], index=index)
    frame[f"{out}_tokens_output"] = pd.Series([o.output_tokens for o in outcomes], index=index)
    for column in (f"{out}_tokens_input", f"{out}_tokens_output"):
        frame[column] = frame[column].astype("Int64")
    # The batch-rate cost, and what the same usage would have cost more in realtime.
    frame[f"{out}_cost_usd"] = pd.Series([o.cost_usd for o in outcomes], index=index, dtype=float)
    frame[f"{out}_saved_usd"] = pd.Series([o.saved_usd for o in outcomes], index=index, dtype=float)
    frame[f"{out}_batch_job"] = the_job.id
    return frame
