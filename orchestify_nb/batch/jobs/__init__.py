"""Provider batch jobs: submit rows at half price, track them in the ledger, collect later."""

from orchestify_nb.batch.jobs.job import BatchJob, BatchJobError, RowOutcome, job, jobs, submit

__all__ = ["BatchJob", "BatchJobError", "RowOutcome", "job", "jobs", "submit"]
