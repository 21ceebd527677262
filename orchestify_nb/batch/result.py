"""The outcome of a batch: one row per prompt, in input order, each ok, failed or cancelled.

A ``BatchResult`` exists from the moment a batch starts and is filled in as answers arrive, so
an interrupted run still holds every finished row (and ``resume`` can send only the rest).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from orchestify_nb.errors import OrchestifyError
from orchestify_nb.providers.types import LLMMessage, LLMResponse

if TYPE_CHECKING:
    import pandas as pd

    from orchestify_nb.batch.estimate import BatchEstimate

#: One prompt: a user message as text, or a whole conversation.
Prompt: TypeAlias = str | Sequence[LLMMessage | Mapping[str, Any]]
RowStatus = Literal["pending", "ok", "error", "cancelled"]

#: Columns of ``BatchResult.to_dataframe()`` and of the DataFrame accessor (with its prefix).
ROW_FIELDS = ("tokens_input", "tokens_output", "cost_usd", "latency_s", "status", "error")


class BatchInputError(OrchestifyError, ValueError):
    """The batch's input cannot be sent as given (nothing was sent); the message says why."""


@dataclass(slots=True)
class BatchRow:
    """One prompt and what became of it. ``error`` is the provider's message for a failed row."""

    index: int
    prompt: Prompt
    status: RowStatus = "pending"
    response: LLMResponse | None = None
    error: str | None = None
    error_type: str | None = None
    latency_s: float | None = None

    @property
    def content(self) -> str | None:
        return self.response.content if self.response is not None else None

    @property
    def tokens_input(self) -> int:
        return self.response.tokens_input if self.response is not None else 0

    @property
    def tokens_output(self) -> int:
        return self.response.tokens_output if self.response is not None else 0

    @property
    def cost_usd(self) -> float | None:
        return self.response.cost_usd if self.response is not None else None

    def succeed(self, response: LLMResponse) -> None:
        self.status, self.response, self.latency_s = "ok", response, response.latency_s

    def fail(self, error: BaseException, latency_s: float) -> None:
        self.status, self.error, self.error_type = "error", str(error), type(error).__name__
        self.latency_s = latency_s

    def as_dict(self) -> dict[str, Any]:
        """The row's fields as ``ROW_FIELDS`` name them (for DataFrames)."""
        return {
            "tokens_input": self.tokens_input if self.response else None,
            "tokens_output": self.tokens_output if self.response else None,
            "cost_usd": self.cost_usd,
            "latency_s": self.latency_s,
            "status": self.status,
            "error": self.error,
        }


@dataclass
class BatchResult:
    """Every row of a batch in input order, plus what it cost and how long it took.

    ``batch_id`` is the tag every call of the batch carries in the usage ledger, so
    ``ledger.to_dataframe(tag=result.batch_id)`` lists them. ``interrupted`` is True when the run
    was cancelled; its unfinished rows have status ``cancelled``.
    """

    batch_id: str
    provider_id: str
    model: str
    rows: list[BatchRow]
    estimate: BatchEstimate | None = None
    wall_time_s: float = 0.0
    interrupted: bool = False
    #: With ``mode="batch"``: the provider batch job the rows went as (``batch.job(job_id)``).
    job_id: str | None = None

    @property
    def answers(self) -> list[str | None]:
        """Each row's answer text, ``None`` where the row failed or was cancelled."""
        return [row.content for row in self.rows]

    def count(self, status: RowStatus) -> int:
        return sum(1 for row in self.rows if row.status == status)

    @property
    def tokens_input(self) -> int:
        return sum(row.tokens_input for row in self.rows)

    @property
    def tokens_output(self) -> int:
        return sum(row.tokens_output for row in self.rows)

    @property
    def cost_usd(self) -> float | None:
        """Sum over the priced answers; ``None`` when answers exist but none has a price."""
        costs = [row.cost_usd for row in self.rows if row.status == "ok"]
        known = [cost for cost in costs if cost is not None]
        return sum(known) if known or not costs else None

    @property
    def unpriced_rows(self) -> int:
        return sum(1 for row in self.rows if row.status == "ok" and row.cost_usd is None)

    def summary(self) -> str:
        """One line: counts by status, tokens, cost and wall time."""
        cost = self.cost_usd
        priced = "cost unknown" if cost is None else f"${cost:,.4f}"
        if cost is not None and self.unpriced_rows:
            priced += f" (+{self.unpriced_rows} unpriced rows)"
        return (
            f"batch {self.batch_id} ({self.provider_id}/{self.model}): "
            f"{self.count('ok')} ok, {self.count('error')} failed, "
            f"{self.count('cancelled')} cancelled of {len(self.rows)}; "
            f"{self.tokens_input:,} in / {self.tokens_output:,} out tokens; {priced}; "
            f"{self.wall_time_s:.1f} s"
        )

    def to_dataframe(self) -> pd.DataFrame:
        """One row per prompt, in input order: prompt, answer, tokens, cost, latency, status."""
        import pandas as pd

        records = [
            {"prompt": row.prompt, "answer": row.content, **row.as_dict()} for row in self.rows
        ]
        frame = pd.DataFrame.from_records(
            records, columns=["prompt", "answer", *ROW_FIELDS], index=range(len(self.rows))
        )
        return frame.astype({"tokens_input": "Int64", "tokens_output": "Int64"})

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[BatchRow]:
        return iter(self.rows)

    def __getitem__(self, index: int) -> BatchRow:
        return self.rows[index]

    def __repr__(self) -> str:
        return f"<BatchResult {self.summary()}>"
