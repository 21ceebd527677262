"""Tokens per second through LocalProvider.stream() against raw llama-cpp-python, in one run.

Claim: streaming through LocalProvider (worker thread, asyncio hand-off, usage recording) costs
next to nothing: its tokens/s is at least 0.95 of llama_cpp.Llama.create_completion(stream=True)
on the same prompt, model object and sampling settings. Runs alternate (raw, provider, provider,
raw, ...) so drift on a shared machine hits both sides alike; the figures are medians. Both
start from a fresh context (no reuse of the previous call's prompt cache). "tokens/s" counts the
whole call, prompt included; "decode tokens/s" the rate after the first token.

Usage: python benchmarks/local_tokens.py [--rounds 7] [--tokens 64]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import dataclass

from orchestify_nb.providers.local import DEFAULT_REPEAT_PENALTY, LocalProvider
from orchestify_nb.usage.ledger import Ledger

PROMPT = "The history of the printing press begins"
TARGET_RATIO = 0.95


@dataclass(frozen=True)
class Run:
    tokens: int
    seconds: float
    first_token_s: float
    text: str

    @property
    def tokens_per_s(self) -> float:
        """End to end: prompt evaluation included."""
        return self.tokens / self.seconds

    @property
    def decode_tokens_per_s(self) -> float:
        """After the first token: the streaming rate a reader sees."""
        return (self.tokens - 1) / (self.seconds - self.first_token_s)


def raw_run(provider: LocalProvider, max_tokens: int, expected_tokens: int) -> Run:
    """llama-cpp-python's own streaming API on the very same Llama object, from a fresh context
    like LocalProvider (which never reuses the previous call's cached prompt)."""
    llama = provider.loaded_model().llama
    started = time.perf_counter()
    llama.reset()
    first = None
    parts = []
    for chunk in llama.create_completion(
        PROMPT,
        max_tokens=max_tokens,
        temperature=0.0,
        repeat_penalty=DEFAULT_REPEAT_PENALTY,
        stream=True,
    ):
        first = first or time.perf_counter()
        parts.append(chunk["choices"][0]["text"])  # type: ignore[index]
    elapsed = time.perf_counter() - started
    return Run(expected_tokens, elapsed, (first or started) - started, "".join(parts))


async def provider_run(provider: LocalProvider, max_tokens: int) -> Run:
    started = time.perf_counter()
    first = None
    tokens = 0
    parts = []
    async for event in provider.stream(PROMPT, prompt_format="completion", max_tokens=max_tokens):
        if event.type == "text":
            first = first or time.perf_counter()
            parts.append(event.text)
        elif event.response is not None:
            tokens = event.response.tokens_output
    elapsed = time.perf_counter() - started
    return Run(tokens, elapsed, (first or started) - started, "".join(parts))


def median(runs: list[Run], field: str) -> float:
    return statistics.median(getattr(run, field) for run in runs)


async def main(rounds: int, max_tokens: int) -> float:
    provider = LocalProvider(usage_sink=Ledger(":memory:"))
    llama = provider.loaded_model().llama
    llama.reset()
    reference = llama.create_completion(
        PROMPT, max_tokens=max_tokens, temperature=0.0, repeat_penalty=DEFAULT_REPEAT_PENALTY
    )
    expected_tokens = int(reference["usage"]["completion_tokens"])  # type: ignore[index]
    warm = await provider_run(provider, max_tokens)  # warms caches, checks both agree
    if warm.tokens != expected_tokens or warm.text != reference["choices"][0]["text"]:  # type: ignore[index]
        raise SystemExit("LocalProvider and raw llama.cpp disagree on this prompt; fix that first")

    raw: list[Run] = []
    ours: list[Run] = []
    for index in range(rounds):
        if index % 2 == 0:
            raw.append(raw_run(provider, max_tokens, expected_tokens))
            ours.append(await provider_run(provider, max_tokens))
        else:
            ours.append(await provider_run(provider, max_tokens))
            raw.append(raw_run(provider, max_tokens, expected_tokens))

    ratio = median(ours, "tokens_per_s") / median(raw, "tokens_per_s")
    decode_ratio = median(ours, "decode_tokens_per_s") / median(raw, "decode_tokens_per_s")
    print(f"model: {provider.file_name}, prompt {PROMPT!r}, {expected_tokens} tokens, greedy")
    print(f"rounds: {rounds} (interleaved), n_threads: {llama.n_threads}; medians")
    print(f"{'':34}{'tokens/s':>9}{'decode tokens/s':>17}{'first token':>13}{'total':>8}")
    for name, runs in (("raw llama_cpp create_completion", raw), ("LocalProvider.stream()", ours)):
        print(
            f"{name:34}{median(runs, 'tokens_per_s'):9.1f}"
            f"{median(runs, 'decode_tokens_per_s'):17.1f}"
            f"{median(runs, 'first_token_s') * 1000:10.0f} ms"
            f"{median(runs, 'seconds'):7.2f}s"
        )
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(
        f"ratio LocalProvider / raw, tokens/s: {ratio:.3f} ({verdict} the target >= {TARGET_RATIO})"
    )
    print(f"ratio LocalProvider / raw, decode tokens/s: {decode_ratio:.3f}")
    return ratio


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--tokens", type=int, default=64)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rounds, arguments.tokens))
