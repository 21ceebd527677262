"""Batch runs: many prompts, one call each, concurrent and rate-limited, with progress and cost.

``await run_batch(prompts, provider=..., model=...)`` (or ``run_batch_sync`` from a cell),
``compare(models=[...], prompts=[...])`` for a tidy side-by-side DataFrame, and the DataFrame
accessor ``df.llm.complete("Summarise: {text}", out="summary")``. Importing this module imports
pandas to register the accessor; importing ``orchestify_nb`` itself does not.
"""

from __future__ import annotations

from orchestify_nb.batch.accessor import LLMAccessor, register_accessor
from orchestify_nb.batch.compare import CompareInterrupted, acompare, compare
from orchestify_nb.batch.estimate import BatchEstimate
from orchestify_nb.batch.jobs import BatchJob, BatchJobError, job, jobs
from orchestify_nb.batch.jobs.frame import BatchModeUnsupportedError
from orchestify_nb.batch.result import BatchInputError, BatchResult, BatchRow
from orchestify_nb.batch.runner import (
    BatchInterrupted,
    BatchRun,
    last_result,
    prepare_batch,
    run_batch,
    run_batch_sync,
)

register_accessor()

__all__ = [
    "BatchEstimate",
    "BatchInputError",
    "BatchInterrupted",
    "BatchJob",
    "BatchJobError",
    "BatchModeUnsupportedError",
    "BatchResult",
    "BatchRow",
    "BatchRun",
    "CompareInterrupted",
    "LLMAccessor",
    "acompare",
    "compare",
    "job",
    "jobs",
    "last_result",
    "prepare_batch",
    "run_batch",
    "run_batch_sync",
]
