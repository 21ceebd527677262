"""Request- and token-per-minute pacing, measured on the emulator's request log."""

from __future__ import annotations

import pytest

from orchestify_nb.batch import prepare_batch, run_batch
from orchestify_nb.batch.limits import PacedLimiter
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.testing import LLMEmulator
from tests.batch.conftest import most_in_any_window

PROMPTS = [f"row {i}" for i in range(25)]


async def test_rpm_limit_is_respected_on_the_servers_clock(
    llm_emulator: LLMEmulator, claude: ClaudeProvider
) -> None:
    # 600 rpm = 10 per second. Unlimited, all 25 rows (concurrency 25) arrive at once.
    result = await run_batch(PROMPTS, provider=claude, concurrency=25, rpm=600, progress=False)

    arrivals = [request.received_at for request in llm_emulator.requests]
    assert result.count("ok") == len(PROMPTS)
    # The limiter starts at most 10 in any second; allow 2 more on the server's clock, where the
    # first request (which also opens the connection) can arrive late, next to the second.
    assert most_in_any_window(arrivals, window_s=1.0) <= 10 + 2


async def test_tpm_limit_books_prompt_tokens_plus_max_tokens(
    llm_emulator: LLMEmulator, claude: ClaudeProvider
) -> None:
    prompts = PROMPTS[:20]
    max_tokens = 200
    estimate = prepare_batch(prompts, provider=claude, max_tokens=max_tokens, progress=False)
    booked_per_row = max(estimate.estimate.row_input_tokens) + max_tokens
    rows_per_second = 8
    tpm = booked_per_row * rows_per_second * 60

    await run_batch(
        prompts, provider=claude, concurrency=20, tpm=tpm, max_tokens=max_tokens, progress=False
    )

    arrivals = [request.received_at for request in llm_emulator.requests]
    assert len(arrivals) == len(prompts)
    assert most_in_any_window(arrivals, window_s=1.0) <= rows_per_second + 2


def test_paced_limiter_spaces_reservations_evenly() -> None:
    limiter = PacedLimiter(per_minute=600)
    waits = [limiter.reserve() for _ in range(4)]
    assert waits[0] == 0
    assert waits[1:] == pytest.approx([0.1, 0.2, 0.3], abs=0.05)
    heavy = PacedLimiter(per_minute=6_000)
    assert heavy.reserve(50) == 0
    assert heavy.reserve(1) == pytest.approx(0.5, abs=0.05)


def test_a_non_positive_rate_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        PacedLimiter(per_minute=0)
