"""``compare``: the same prompts across several provider/model pairs, as one tidy DataFrame.

All pairs run at once (each provider has its own rate limits, so one pair does not slow another)
under one ledger tag, and the answers come back one row per prompt × model, ready for
``pivot``/``groupby`` or side-by-side reading.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from orchestify_nb.batch.result import ROW_FIELDS, BatchInputError, BatchResult, Prompt
from orchestify_nb.batch.runner import BatchRun, new_batch_id, prepare_batch, run_on_private_loop
from orchestify_nb.providers.base import LLMProvider

if TYPE_CHECKING:
    import pandas as pd

#: One contender: a provider (id or instance) with a model, or a provider with its default model.
ModelSpec = tuple[LLMProvider | str, str | None] | LLMProvider | str


def _prepare_all(
    models: Sequence[ModelSpec], prompts: Sequence[Prompt], kwargs: dict[str, Any]
) -> list[BatchRun]:
    if not models:
        raise BatchInputError("compare() needs at least one (provider, model) pair in models=.")
    if "provider" in kwargs or "model" in kwargs or "resume" in kwargs:
        raise BatchInputError("compare() takes providers and models only through models=[...].")
    tag = kwargs.pop("tag", None) or new_batch_id().replace("batch-", "compare-", 1)
    runs = []
    for spec in models:
        provider, model = spec if isinstance(spec, tuple) else (spec, None)
        runs.append(prepare_batch(prompts, provider=provider, model=model, tag=tag, **kwargs))
    for run in runs:
        run.description = f"{run.result.provider_id}/{run.result.model}"
    return runs


def results_frame(results: Iterable[BatchResult]) -> pd.DataFrame:
    """One row per prompt × model: prompt, provider, model, answer and the row's figures."""
    import pandas as pd

    records = [
        {
            "prompt_index": row.index,
            "prompt": row.prompt,
            "provider": result.provider_id,
            "model": result.model,
            "answer": row.content,
            **row.as_dict(),
        }
        for result in results
        for row in result.rows
    ]
    columns = ["prompt_index", "prompt", "provider", "model", "answer", *ROW_FIELDS]
    frame = pd.DataFrame.from_records(records, columns=columns)
    frame = frame.astype({"tokens_input": "Int64", "tokens_output": "Int64"})
    return frame.sort_values(["prompt_index"], kind="stable", ignore_index=True)


async def _run_all(runs: list[BatchRun]) -> pd.DataFrame:
    await asyncio.gather(*(run.run() for run in runs))
    return results_frame(run.result for run in runs)


async def acompare(
    models: Sequence[ModelSpec], prompts: Iterable[Prompt], **kwargs: Any
) -> pd.DataFrame:
    """``compare`` for async code: ``await acompare(models=[...], prompts=[...])``."""
    return await _run_all(_prepare_all(models, list(prompts), kwargs))


def compare(models: Sequence[ModelSpec], prompts: Iterable[Prompt], **kwargs: Any) -> pd.DataFrame:
    """Run ``prompts`` on every ``(provider, model)`` in ``models`` and return a tidy DataFrame.

    ``models`` items are ``(provider_id_or_instance, model)`` pairs (``model=None``: the
    provider's default) or a bare provider. Other keyword arguments are those of ``run_batch``
    (``concurrency`` and ``rpm``/``tpm`` apply to each pair; ``mode="batch"`` submits one
    provider batch job per pair and waits for them all at once). Every call is tagged with one
    ``compare-...`` id (or ``tag=``) in the usage ledger. Runs from a notebook cell.
    """
    runs = _prepare_all(models, list(prompts), kwargs)
    try:
        return run_on_private_loop(_run_all(runs), [run.provider for run in runs])
    except KeyboardInterrupt:
        raise CompareInterrupted(results_frame(run.result for run in runs)) from None


class CompareInterrupted(KeyboardInterrupt):
    """The user interrupted ``compare``; ``frame`` holds every pair's rows (finished ones with
    their answers, the rest marked cancelled), in the same tidy shape ``compare`` returns."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        answered = int((frame["status"] == "ok").sum()) if len(frame) else 0
        super().__init__(
            f"compare interrupted: {answered} of {len(frame)} prompt × model rows answered and "
            "kept in this exception's .frame, the rest marked cancelled."
        )
