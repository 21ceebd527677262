"""``%llm jobs``: every recorded batch job with its state and progress, as a DataFrame.

Jobs not yet ended are asked for their progress (one request per provider job); a provider that
cannot be reached leaves the row's last known state and says so in ``progress``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from orchestify_nb.batch.jobs.job import job, jobs

if TYPE_CHECKING:
    import pandas as pd


def jobs_frame(*, ledger: str | None = None) -> pd.DataFrame:
    """``id, provider, model, state, rows, progress, submitted`` per job, newest first."""
    import pandas as pd

    rows = []
    for job_id, provider, model, state, count, submitted_ns in jobs(ledger=ledger):
        progress = "all ended" if state == "ended" else ""
        if state != "ended":
            try:
                done, total, ended = job(job_id, ledger=ledger).progress()
            except Exception as error:  # a listing must not fail on one unreachable provider
                progress = f"unknown ({type(error).__name__})"
            else:
                state = "ended" if ended else state
                progress = f"{done}/{total} requests"
        submitted = datetime.fromtimestamp(submitted_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M")
        rows.append((job_id, provider, model, state, count, progress, submitted))
    columns = ["id", "provider", "model", "state", "rows", "progress", "submitted"]
    return pd.DataFrame(rows, columns=columns)
