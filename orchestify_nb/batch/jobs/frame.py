"""``df.llm.complete(..., mode="batch")`` and ``df.llm.collect(job)``: rows as a batch job.

Submitting fills ``<out>_status`` with ``submitted`` and ``<out>_batch_job`` with the job id (the
answers are hours away); ``collect`` fills ``<out>``, ``<out>_status``, ``<out>_error``,
``<out>_tokens_input``/``_output``, ``<out>_cost_usd`` (batch rate) and ``<out>_saved_usd``
(realtime minus batch cost of the same usage) in input order, in this kernel or a later one.
``mode="auto"`` picks batch when the provider has a batch API and the rows number at least
``AUTO_BATCH_ROWS``, realtime otherwise, and says which.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from orchestify_nb.batch.budget import refuse_over_budget
from orchestify_nb.batch.estimate import estimate_batch
from orchestify_nb.batch.jobs.job import BatchJob, BatchJobError, job
from orchestify_nb.batch.jobs.routes import batch_route, no_batch_mode, submit_through
from orchestify_nb.batch.jobs.typed import fill_typed_columns, schema_fields
from orchestify_nb.batch.providers import resolve_provider
from orchestify_nb.providers.structured import output_schema_of

if TYPE_CHECKING:
    import pandas as pd

    from orchestify_nb.providers.base import LLMProvider

#: ``mode="auto"`` sends a job this large or larger as a batch (below it, realtime is quick and
#: the saving small; above it, half price is worth the wait of up to 24 hours).
AUTO_BATCH_ROWS = 1000
#: ``df.llm.complete`` arguments that only pace or show a realtime run: a job has no use for them.
_REALTIME_ONLY = frozenset({"concurrency", "rpm", "tpm", "progress", "description", "cache"})
#: The schema each typed job of this kernel was submitted with (a type cannot be stored in the
#: ledger; a later kernel passes it to ``collect`` again).
_SCHEMAS: dict[str, Any] = {}
#: ``collect``'s columns (``<out><suffix>``): the ``RowOutcome`` field each holds, and its dtype
#: (``None``: let pandas infer, i.e. its string dtype). The cost is at the batch rate, the
#: saving what the same usage would have cost more in realtime.
_OUTCOME_COLUMNS: dict[str, tuple[str, str | None]] = {
    "": ("text", "object"),
    "_status": ("status", None),
    "_error": ("error", "object"),
    "_tokens_input": ("input_tokens", "Int64"),
    "_tokens_output": ("output_tokens", "Int64"),
    "_cost_usd": ("cost_usd", "float64"),
    "_saved_usd": ("saved_usd", "float64"),
}


def choose_mode(mode: str, provider: LLMProvider, model: str | None, rows: int) -> tuple[str, str]:
    """``(realtime|batch, why)`` for a requested ``mode`` (``model``: the provider's default
    when ``None``)."""
    if mode not in ("realtime", "batch", "auto"):
        raise BatchJobError(f"mode={mode!r} is not one of 'realtime', 'batch' or 'auto'.")
    name = model or provider.default_model or ""
    has_batch = batch_route(provider, name) is not None
    if mode == "batch" and not has_batch:
        raise BatchJobError(
            f"{no_batch_mode(provider, name)}, so it has no batch mode; use mode='realtime' "
            "or mode='auto'."
        )
    if mode != "auto":
        return mode, f"mode={mode!r} was asked for"
    if not has_batch:
        return "realtime", no_batch_mode(provider, name)
    if rows < AUTO_BATCH_ROWS:
        return "realtime", f"{rows} rows is below the batch threshold of {AUTO_BATCH_ROWS}"
    return "batch", f"{rows} rows >= {AUTO_BATCH_ROWS}: half price, results within 24 hours"


class BatchModeUnsupportedError(BatchJobError):
    """``mode="batch"`` asked of a function that cannot run as a provider batch job yet."""


def submit_frame(
    frame: pd.DataFrame,
    prompts: list[str],
    *,
    out: str,
    kwargs: dict[str, Any],
    schema: Any = None,
) -> BatchJob:
    """Submit ``prompts`` (one per row of ``frame``) and mark the rows submitted (see
    ``submit_prompts``)."""
    the_job = submit_prompts(prompts, kwargs=kwargs, schema=schema)
    frame[f"{out}_status"] = "submitted"
    frame[f"{out}_batch_job"] = the_job.id
    return the_job


def submit_prompts(prompts: list[str], *, kwargs: dict[str, Any], schema: Any = None) -> BatchJob:
    """Submit ``prompts`` as a job of the provider's batch API; with a ``schema``, every request
    asks for it (see ``jobs.typed``). The estimate, at the batch rate, is shown first, and a
    job a budget cannot pay for is refused as in realtime."""
    provider = resolve_provider(kwargs.pop("provider", None))
    model = kwargs.pop("model", None) or provider.default_model
    if not model:
        raise BatchJobError("a batch job needs a model: pass model= or set the provider's default.")
    route = batch_route(provider, str(model))
    if route is None:
        raise BatchJobError(f"{no_batch_mode(provider, str(model))}; use mode='realtime'.")
    max_tokens, system = int(kwargs.pop("max_tokens", 1024)), kwargs.pop("system", None)
    ledger, tag = kwargs.pop("ledger", None), kwargs.pop("tag", None)
    unsupported = sorted(set(kwargs) - _REALTIME_ONLY)
    if unsupported:
        again = " (job.resubmit() sends a job's failed rows again)" if "resume" in kwargs else ""
        raise BatchJobError(
            f"{', '.join(unsupported)}: not supported in batch mode yet (a batch job takes "
            f"provider, model, max_tokens and system); drop it or use mode='realtime'{again}."
        )
    typed = {} if schema is None else {"output_schema": schema}
    requests = [
        provider.build_request(
            prompt, model=str(model), max_tokens=max_tokens, system=system, **typed
        )
        for prompt in dict.fromkeys(prompts)  # what is sent: each distinct prompt once
    ]
    estimate = estimate_batch(provider, requests, batch=True)
    refuse_over_budget(provider, estimate)
    if kwargs.get("progress", True):
        print(estimate.summary())
    extra, name = None, None
    if schema is not None and requests:
        asked = replace(requests[0], model=route.model)  # as the batch API names the model
        extra, name = schema_fields(route.api, asked), output_schema_of(schema).name
    the_job = submit_through(
        provider,
        route,
        prompts,
        max_tokens=max_tokens,
        system=system,
        ledger=ledger,
        extra=extra,
        schema_name=name,
        tag=tag,
    )
    if schema is not None:
        _SCHEMAS[the_job.id] = schema
    return the_job


def collect_frame(
    frame: pd.DataFrame,
    which: BatchJob | str | None,
    *,
    out: str,
    schema: Any = None,
    ledger: str | None = None,
) -> pd.DataFrame:
    """Fill ``out`` columns from a finished job (default: the job id in ``<out>_batch_job``);
    a job of typed answers also fills the schema's columns (``schema=`` needed in a kernel
    other than the one that submitted it)."""
    if which is None:
        column = f"{out}_batch_job"
        if column not in frame.columns:
            raise BatchJobError(
                f"no {column!r} column: pass the job (or its id) to df.llm.collect(job, out=...)."
            )
        which = str(frame[column].iloc[0])
    the_job = job(which, ledger=ledger) if isinstance(which, str) else which
    schema = schema if schema is not None else _SCHEMAS.get(the_job.id)
    if schema is None and the_job.schema_name is not None:
        raise BatchJobError(
            f"job {the_job.id} asked for typed answers ({the_job.schema_name}): pass that schema "
            "to df.llm.collect(job, schema=...) to fill its columns."
        )
    positions, source_count = the_job.rows_in_source()
    if source_count != len(frame):
        raise BatchJobError(
            f"job {the_job.id} is for {source_count} rows but the DataFrame has {len(frame)}: "
            "collect into the DataFrame the job was submitted from."
        )
    outcomes = the_job.outcomes()
    for suffix, (field, dtype) in _OUTCOME_COLUMNS.items():
        values = [getattr(outcome, field) for outcome in outcomes]
        _fill_rows(frame, f"{out}{suffix}", positions, values, dtype)
    _fill_rows(frame, f"{out}_batch_job", positions, [the_job.id] * len(positions), None)
    if schema is not None:
        fill_typed_columns(frame, schema, out, positions, outcomes)
    return frame


def _fill_rows(
    frame: pd.DataFrame, column: str, positions: list[int], values: list[Any], dtype: str | None
) -> None:
    """Set ``column`` at ``positions``; the other rows keep their values (a re-submitted job
    fills only the rows that failed before)."""
    import pandas as pd

    if column in frame.columns and len(positions) < len(frame):
        merged = frame[column].astype(object).where(frame[column].notna(), None).tolist()
    else:
        merged = [None] * len(frame)
    for position, value in zip(positions, values, strict=True):
        merged[position] = value
    frame[column] = pd.Series(merged, index=frame.index, dtype=dtype)
