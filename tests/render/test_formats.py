"""MIME bundles per output format, the footer, and reading code and JSON out of answers."""

from __future__ import annotations

from typing import Any

import pytest

from orchestify_nb.providers.types import LLMResponse
from orchestify_nb.render import (
    OUTPUT_FORMATS,
    answer_bundle,
    extract_code,
    footer_text,
    parse_json_answer,
    response_bundle,
)
from orchestify_nb.tokens import TokenCounts


@pytest.mark.parametrize("output_format", OUTPUT_FORMATS)
@pytest.mark.parametrize("streaming", [False, True])
def test_every_bundle_has_a_real_text_plain(output_format: Any, streaming: bool) -> None:
    bundle = answer_bundle(
        "The answer.",
        output_format=output_format,
        thinking="hmm",
        streaming=streaming,
    )
    assert "The answer." in bundle["text/plain"]
    assert len(bundle) >= 2  # a rich form besides text/plain


def test_markdown_thinking_is_collapsed_when_final_and_open_while_it_streams_alone() -> None:
    final = answer_bundle("Answer", thinking="step 1 < step 2")["text/markdown"]
    assert "<details><summary>Thinking</summary>" in final and "step 1 &lt; step 2" in final
    thinking_only = answer_bundle("", thinking="step 1", streaming=True)["text/markdown"]
    assert "<details open>" in thinking_only
    answering = answer_bundle("Ans", thinking="step 1", streaming=True)["text/markdown"]
    assert "<details open>" not in answering and answering.endswith("Ans ▌")


def test_text_format_escapes_html_and_html_format_does_not() -> None:
    assert "&lt;b&gt;" in answer_bundle("<b>x</b>", output_format="text")["text/html"]
    assert "<b>x</b>" in answer_bundle("<b>x</b>", output_format="html")["text/html"]


def test_extract_code_takes_fenced_blocks_and_their_language() -> None:
    answer = "Try:\n```sql\nSELECT 1;\n```\nthen\n```\nSELECT 2;\n```\n"
    extracted = extract_code(answer)
    assert extracted.code == "SELECT 1;\n\nSELECT 2;"
    assert extracted.language == "sql"
    assert extract_code("x = 1\n").code == "x = 1"
    assert extract_code("x = 1\n").language == "python"


def test_json_answers_are_validated_and_pretty_printed() -> None:
    parsed = parse_json_answer('```json\n{"a": [1, 2]}\n```')
    assert parsed.value == {"a": [1, 2]} and parsed.error is None
    assert parsed.pretty == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    broken = parse_json_answer('{"a": }')
    assert broken.error == "line 1, column 7: Expecting value"
    bundle = answer_bundle('{"a": }', output_format="json")
    assert "application/json" not in bundle and "not valid JSON" in bundle["text/plain"]


def test_footer_names_provider_model_tokens_cost_and_latency() -> None:
    response = LLMResponse(
        content="x",
        model="claude-sonnet-4-6",
        tokens=TokenCounts(input=1200, output=80, cache_read=1000, reasoning=30),
        cost_usd=0.00123,
        priced=True,
        latency_s=1.234,
        provider_id="claude",
        finish_reason="length",
    )
    assert footer_text(response) == (
        "claude · claude-sonnet-4-6 · 1,200 in / 80 out tokens (1,000 cached, 30 reasoning)"
        " · $0.001230 · 1.23 s · cut at max_tokens"
    )
    assert "cost unknown" in footer_text(LLMResponse(content="x", model="m", cost_usd=None))
    assert response_bundle(response)["text/plain"].endswith("cut at max_tokens]")


def test_a_note_without_an_answer_stands_alone() -> None:
    bundle = answer_bundle("", note="stopped by RateLimitError")
    assert bundle["text/plain"] == "[stopped by RateLimitError]"
    assert bundle["text/markdown"] == "<sub>stopped by RateLimitError</sub>"


def test_footer_of_a_replayed_answer_says_cached_from_when_and_what_it_saved() -> None:
    from datetime import UTC, datetime

    response = LLMResponse(
        content="x",
        model="gpt-4o",
        provider_id="openai",
        tokens=TokenCounts(input=10, output=5),
        cost_usd=0.0,
        latency_s=0.0,
        cached_at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        saved_usd=0.0125,
    )

    assert footer_text(response) == (
        "openai · gpt-4o · 10 in / 5 out tokens · cached · from 2026-12-01 09:30 UTC"
        " · saved $0.012500"
    )
