"""What a tool loop produced: each model turn, each tool call with its result, the whole
conversation, and the totals; plus the events its stream form yields as they happen."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from orchestify_nb.providers.content import Content
from orchestify_nb.providers.types import LLMMessage, LLMResponse, ToolCall
from orchestify_nb.tokens import TokenCounts

CallStatus = Literal["ok", "error", "denied"]
Outcome = Literal["answered", "max_steps", "failed"]
ToolEventType = Literal["call_started", "call_finished", "run_finished"]


@dataclass(frozen=True, slots=True)
class ToolResult:
    """One tool call and what came of it: ``output`` is exactly what the model was sent
    (the result, the error, or that the call was denied): text, or content parts when the
    tool returned images (an MCP server's image content, a figure)."""

    call: ToolCall
    tool_name: str
    status: CallStatus
    output: Content
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_message(self) -> LLMMessage:
        return LLMMessage(role="tool", content=self.output, tool_call_id=self.call.id)


@dataclass(slots=True)
class ToolStep:
    """One model turn (``number`` from 1, the ledger's ``step``) and the calls it made."""

    number: int
    response: LLMResponse
    results: list[ToolResult] = field(default_factory=list)
    duration_s: float = 0.0


@dataclass(slots=True)
class ToolRun:
    """A finished (or stopped) tool loop.

    ``response`` is the last model turn: the final answer when ``outcome == "answered"``; with
    ``"max_steps"`` the loop stopped while the model still wanted tools. ``messages`` is the
    whole conversation, replayable (Claude's signed thinking included). ``run_id`` tags every
    turn's ledger row.
    """

    run_id: str
    steps: list[ToolStep] = field(default_factory=list)
    messages: list[LLMMessage] = field(default_factory=list)
    outcome: Outcome = "answered"

    @property
    def response(self) -> LLMResponse | None:
        return self.steps[-1].response if self.steps else None

    @property
    def content(self) -> str:
        return self.response.content if self.response is not None else ""

    @property
    def tokens(self) -> TokenCounts:
        total = TokenCounts()
        for step in self.steps:
            total = total + step.response.tokens
        return total

    @property
    def cost_usd(self) -> float | None:
        """The turns' costs added up; ``None`` when a turn was unpriced (unknown is not $0)."""
        costs = [step.response.cost_usd for step in self.steps]
        if not costs or any(cost is None for cost in costs):
            return None
        return sum(cost for cost in costs if cost is not None)

    @property
    def tool_results(self) -> list[ToolResult]:
        return [result for step in self.steps for result in step.results]

    def __str__(self) -> str:
        return self.content


@dataclass(frozen=True, slots=True)
class ToolEvent:
    """A tool loop's own event in its stream (besides the model's deltas): a call started, a
    call finished (``result``), or the run finished (``run``, always the last event)."""

    type: ToolEventType
    step: int
    call: ToolCall | None = None
    tool_name: str = ""
    result: ToolResult | None = None
    run: ToolRun | None = None
