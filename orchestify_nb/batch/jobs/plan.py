"""Rows to provider batch requests: identical prompts sent once, jobs split at the API's limits.

A row's ``custom_id`` is the index of its distinct prompt (``r<index>``), so results map back to
rows whatever order the provider returns them in, and fanning a result out to every row that
asked the same prompt needs no second request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

BatchApi = Literal["anthropic", "openai"]

#: Per-job limits from the providers' docs: Anthropic 100,000 requests or 256 MB per batch;
#: OpenAI 50,000 requests or 200 MB per input file.
LIMITS: dict[BatchApi, tuple[int, int]] = {
    "anthropic": (100_000, 256 * 1024 * 1024),
    "openai": (50_000, 200 * 1024 * 1024),
}


@dataclass(frozen=True, slots=True)
class Plan:
    """Distinct prompts, which one each row asked, and the chunks (one provider job each)."""

    unique: list[str]
    row_to_unique: list[int]
    chunks: list[list[int]]


def custom_id(unique_index: int) -> str:
    return f"r{unique_index}"


def unique_index(custom_id_text: str) -> int:
    return int(custom_id_text[1:])


def request_body(
    api: BatchApi,
    prompt: str,
    *,
    model: str,
    max_tokens: int,
    system: str | None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The realtime request body a prompt becomes (the same shape the provider would get live);
    ``extra`` adds fields every request shares (the schema a typed answer must follow)."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
    if api == "anthropic":
        body: dict[str, Any] = {"model": model, "max_tokens": max_tokens, "messages": messages}
        if system:
            body["system"] = system
    else:
        if system:
            messages = [{"role": "system", "content": system}, *messages]
        body = {"model": model, "max_completion_tokens": max_tokens, "messages": messages}
    body.update(extra or {})
    return body


def plan(
    prompts: list[str],
    api: BatchApi,
    *,
    encoded_size: int,
    limits: tuple[int, int] | None = None,
) -> Plan:
    """Dedupe ``prompts`` and cut the distinct ones into chunks within ``limits``.

    ``encoded_size`` is the bytes a request costs besides its prompt text (model, wrapper), so
    the size check needs no full encoding of every request.
    """
    max_count, max_bytes = limits or LIMITS[api]
    index_of: dict[str, int] = {}
    row_to_unique = [index_of.setdefault(prompt, len(index_of)) for prompt in prompts]
    unique = list(index_of)
    chunks: list[list[int]] = []
    current: list[int] = []
    size = 0
    for index, prompt in enumerate(unique):
        cost = encoded_size + len(json.dumps(prompt)) + len(custom_id(index))
        if current and (len(current) >= max_count or size + cost > max_bytes):
            chunks.append(current)
            current, size = [], 0
        current.append(index)
        size += cost
    if current:
        chunks.append(current)
    return Plan(unique, row_to_unique, chunks)
