"""Refuse a batch whose estimated cost would break a budget, before its first request.

The ledger checks each call against budgets already spent; a batch must also look ahead. Its
input cost is certain (prompts are sent whatever the answers), so a batch whose input alone does
not fit what is left of a budget is refused with ``BudgetExceededError``. If only the ceiling
(every answer at ``max_tokens``) does not fit, a ``BudgetWarning`` says so and the batch runs:
the per-call check stops it once the budget is actually spent, and each refused row keeps that
error.
"""

from __future__ import annotations

import warnings

from orchestify_nb.batch.estimate import BatchEstimate
from orchestify_nb.errors import BudgetExceededError
from orchestify_nb.providers.base import LLMProvider


def refuse_over_budget(provider: LLMProvider, estimate: BatchEstimate) -> None:
    """Raise ``BudgetExceededError`` if the estimated input cost exceeds a budget's remainder."""
    sink = provider.usage_sink
    sink.check_budget(provider.provider_id)
    budget_status = getattr(sink, "budget_status", None)  # a custom sink may have no budgets
    if budget_status is None or not estimate.rows or estimate.input_cost_usd is None:
        return
    from orchestify_nb.usage.budgets import BudgetWarning, usd

    for status in budget_status():
        budget = status.budget
        if not budget.applies_to(provider.provider_id):
            continue
        left = f"{usd(status.remaining_usd)} of {usd(budget.limit_usd)} left {budget.window()}"
        if estimate.input_cost_usd > status.remaining_usd:
            raise BudgetExceededError(
                f"the batch's input alone is estimated at {usd(estimate.input_cost_usd)} "
                f"({estimate.rows:,} rows, ~{estimate.input_tokens:,} tokens by "
                f"{estimate.method}), more than {budget.describe()} allows: {left}; nothing "
                "was sent",
                provider_id=provider.provider_id,
                model=estimate.model,
                hint=(
                    "Send fewer rows or shorter prompts, pick a cheaper model, or raise "
                    "limit_usd under `budgets:` in your orchestify.yaml (`%llm budget` shows "
                    "every budget)."
                ),
            )
        if estimate.max_cost_usd is not None and estimate.max_cost_usd > status.remaining_usd:
            warnings.warn(
                f"This batch may exceed {budget.describe()}: up to "
                f"{usd(estimate.max_cost_usd)} if every answer uses max_tokens, and {left}. "
                "Rows are refused once the budget is spent; lower max_tokens to be safe.",
                BudgetWarning,
                stacklevel=3,
            )
