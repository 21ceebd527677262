"""Every bad config gives one paragraph naming the file, the line, the key and the fix."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from orchestify_nb.config import load_config
from orchestify_nb.errors import ConfigError

SECRET = "sk-ant-" + "SECRET-value-1234567890"  # split: no key-shaped literal in the repo

#: What the config says about an agent with ``temperature`` on an ``anthropic`` provider.
ANTHROPIC_REFUSES_TEMPERATURE = (
    "agent '{agent}' sets temperature, which the Anthropic Messages API (version 2026-10-21, "
    "sent by anthropic SDK 2.x) no longer accepts; remove it and steer the agent with `system:`"
)

# (case id, YAML text, environment, phrases the message must contain)
CASES: list[tuple[str, str, dict[str, str], list[str]]] = [
    (
        "yaml syntax error",
        """
        providers:
          claude:
            type: anthropic
            default_model: claude: sonnet
        """,
        {},
        ["line 4", "YAML syntax error", "mapping values are not allowed", "quote a value"],
    ),
    (
        "tab indentation",
        "providers:\n  claude:\n\ttype: anthropic\n",
        {},
        ["line 3", "tabs", "indent with spaces"],
    ),
    (
        "missing env var",
        """
        providers:
          claude:
            type: anthropic
            api_key: ${ANTHROPIC_API_KEY}
        """,
        {},
        [
            "line 4",
            "providers.claude.api_key",
            "ANTHROPIC_API_KEY is not set",
            "set ANTHROPIC_API_KEY or use ${ANTHROPIC_API_KEY:-...}",
        ],
    ),
    (
        "malformed reference",
        """
        providers:
          claude:
            type: anthropic
            base_url: http://${HOST
        """,
        {},
        ["line 4", "not a valid reference", "$${"],
    ),
    (
        "unknown provider type",
        """
        providers:
          claude:
            type: antropic
        """,
        {},
        [
            "line 3",
            "providers.claude.type",
            "unknown provider type 'antropic'",
            "did you mean 'anthropic'?",
            "anthropic, openai, litellm, local",
        ],
    ),
    (
        "missing provider type",
        """
        providers:
          claude:
            default_model: claude-sonnet-4-5
        """,
        {},
        ["line 2", "providers.claude.type", "required key 'type' is missing", "local"],
    ),
    (
        "misspelt key",
        """
        providers:
          claude:
            type: anthropic
            max_tokns: 100
        """,
        {},
        ["line 4", "unknown key 'max_tokns'", "did you mean 'max_tokens'?", "remove or rename"],
    ),
    (
        "misspelt top-level section",
        """
        provider:
          claude:
            type: anthropic
        """,
        {},
        ["line 1", "unknown key 'provider'", "did you mean 'providers'?"],
    ),
    (
        "unknown agent provider",
        """
        providers:
          claude_main:
            type: anthropic
          openai_main:
            type: openai
        agents:
          writer:
            provider: claude_mian
        """,
        {},
        [
            "line 8",
            "agents.writer.provider",
            "'claude_mian' is not defined",
            "did you mean 'claude_main'?",
            "defined providers: claude_main, openai_main",
        ],
    ),
    (
        "default provider not defined",
        """
        providers:
          claude:
            type: anthropic
        default_provider: gpt
        """,
        {},
        ["line 4", "default_provider 'gpt' is not defined", "defined providers: claude"],
    ),
    (
        "budget for an unknown provider",
        """
        providers:
          claude:
            type: anthropic
        budgets:
          providers:
            openai:
              per_day: 1
        """,
        {},
        ["line 6", "budgets.providers.openai", "budget for provider 'openai' is not defined"],
    ),
    (
        "wrong value type",
        """
        providers:
          claude:
            type: anthropic
            max_tokens: lots
        """,
        {},
        ["line 4", "providers.claude.max_tokens", "valid integer", "(got 'lots')"],
    ),
    (
        "negative timeout",
        """
        providers:
          claude:
            type: anthropic
            timeout: -5
        """,
        {},
        ["line 4", "providers.claude.timeout", "greater than 0"],
    ),
    (
        "section that is not a mapping",
        """
        providers:
          claude: anthropic
        """,
        {},
        ["line 2", "providers.claude", "expected a mapping"],
    ),
    (
        "local-only setting on a cloud provider",
        """
        providers:
          claude:
            type: anthropic
            model_path: /models/x.gguf
        """,
        {},
        ["line 4", "providers.claude.model_path", "model_path only applies to type: local"],
    ),
    (
        "base url without scheme",
        """
        providers:
          gpt:
            type: openai
            base_url: 127.0.0.1:8000/v1
        """,
        {},
        ["line 4", "providers.gpt.base_url", "must start with http:// or https://"],
    ),
    (
        "bad pricing override",
        """
        pricing:
          my-model:
            input_per_mtok: 1
            output_per_mtok: cheap
        """,
        {},
        ["line 4", "pricing.my-model.output_per_mtok", "valid number"],
    ),
    (
        "duplicate key",
        """
        providers:
          claude:
            type: anthropic
          claude:
            type: openai
        """,
        {},
        ["line 4", "key 'claude' appears twice (lines 2 and 4)", "keep one"],
    ),
    (
        "file holds a list",
        """
        - providers
        """,
        {},
        ["line 1", "should be a mapping", "holds a list"],
    ),
    (
        "agent temperature out of range",
        """
        providers:
          gpt:
            type: openai
        agents:
          writer:
            provider: gpt
            temperature: 3
        """,
        {},
        ["line 7", "agents.writer.temperature", "less than or equal to 2"],
    ),
    (
        "temperature on an agent of an anthropic provider",
        """
        providers:
          gpt:
            type: openai
          claude:
            type: anthropic
        agents:
          writer:
            provider: claude
            system: Be brief.
            temperature: 0.2
        """,
        {},
        [
            "line 10",
            "agents.writer.temperature",
            ANTHROPIC_REFUSES_TEMPERATURE.format(agent="writer"),
        ],
    ),
    (
        "temperature on an agent of the default provider, anthropic",
        """
        providers:
          gpt:
            type: openai
          claude:
            type: anthropic
        default_provider: claude
        agents:
          writer:
            temperature: 0.2
        """,
        {},
        [
            "line 9",
            ANTHROPIC_REFUSES_TEMPERATURE.format(agent="writer"),
            "uses the default provider 'claude'",
        ],
    ),
    (
        "temperature on an agent of the first provider, anthropic, with no default named",
        """
        providers:
          claude:
            type: anthropic
          gpt:
            type: openai
        agents:
          writer:
            temperature: 0
        """,
        {},
        ["line 8", "agent 'writer' sets temperature", "default provider 'claude'"],
    ),
]

CASES += [
    (
        f"{option} in the options of an anthropic provider",
        f"""
        providers:
          claude:
            type: anthropic
            options:
              stop_sequences: ["###"]
              {option}: 0.5
        """,
        {},
        [
            "line 6",
            f"providers.claude.options.{option}",
            f"options sets {option}, which the Anthropic Messages API (version 2026-10-21, "
            "sent by anthropic SDK 2.x) no longer accepts; remove it",
        ],
    )
    for option in ("temperature", "top_p", "top_k")
]


@pytest.mark.parametrize(
    ("text", "env", "phrases"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_config_gives_one_paragraph_with_file_line_key_and_fix(
    tmp_path: Path, text: str, env: dict[str, str], phrases: list[str]
) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(dedent(text).lstrip("\n"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ=env)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"Config file {path}")
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in: {message}"


def test_several_problems_are_reported_together_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(
        dedent(
            """
            providers:
              a:
                type: openai
                api_key: ${MISSING_KEY_A}
              b:
                type: antropic
                max_tokns: 5
            """
        ).lstrip("\n"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert "has 3 problems" in message
    assert message.index("line 4") < message.index("line 6") < message.index("line 7")


@pytest.mark.parametrize(
    "api_key_line",
    [f"api_key: {SECRET}: oops", f"api_key: [{SECRET}]", f"api_key: {{k: {SECRET}}}"],
    ids=["syntax error on the key's line", "key as a list", "key as a mapping"],
)
def test_a_bad_api_key_value_is_never_echoed(tmp_path: Path, api_key_line: str) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(f"providers:\n  claude:\n    type: anthropic\n    {api_key_line}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert "line 4" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_secret_environment_values_are_scrubbed_from_messages(tmp_path: Path) -> None:
    # The key lands in an int field: pydantic would echo it, the message must not.
    path = tmp_path / "orchestify.yaml"
    path.write_text("providers:\n  c:\n    type: anthropic\n    max_tokens: ${ANTHROPIC_API_KEY}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={"ANTHROPIC_API_KEY": SECRET})
    assert "line 4" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_missing_file_names_the_path_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist; check the path"):
        load_config(tmp_path / "nope.yaml")


def test_mapping_problems_name_the_key_without_a_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config({"providers": {"x": {"type": "local", "n_ctx": 0}}})
    message = str(caught.value)
    assert message.startswith("Config mapping, key providers.x.n_ctx: should be greater than 0")
