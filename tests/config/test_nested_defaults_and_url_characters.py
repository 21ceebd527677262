"""``${A:-${B}}`` is filled (never sent as text), and a ``base_url`` holding a line break, a
space or another invisible character is refused at its line without being quoted."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestify_nb.config import load_config
from orchestify_nb.config.source import substitute_env
from orchestify_nb.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${A:-${B}}", {"B": "from-b"}, "from-b"),
        ("${A:-${B}}", {"A": "from-a"}, "from-a"),
        ("${A:-${B:-${C:-deep}}}", {}, "deep"),
        (
            "http://${HOST:-${FALLBACK_HOST:-127.0.0.1}}:${PORT:-8000}/v1",
            {},
            "http://127.0.0.1:8000/v1",
        ),
        ("${A:-prefix-${B}-suffix}", {"B": "b"}, "prefix-b-suffix"),
        ("${A:-$${B}}", {}, "${B}"),
    ],
)
def test_a_default_holding_a_reference_is_filled(
    text: str, env: dict[str, str], expected: str
) -> None:
    assert substitute_env(text, env) == (expected, [])


def test_a_nested_default_is_filled_only_when_it_is_used() -> None:
    assert substitute_env("${A:-${UNSET}}", {"A": "a"}) == ("a", [])
    _, complaints = substitute_env("${A:-${UNSET}}", {})
    assert complaints == [
        "environment variable UNSET is not set; set UNSET or use ${UNSET:-...} to give a default"
    ]


def test_an_unclosed_nested_default_is_one_complaint() -> None:
    _, complaints = substitute_env("${A:-${B}", {})
    assert len(complaints) == 1 and "'${A:-${B' is not a valid reference" in complaints[0]


def test_defaults_nested_past_the_limit_are_refused_quickly() -> None:
    levels = 9  # one more than the limit, 8
    text = "${A:-" * levels * 100 + "x" + "}" * levels * 100
    _, complaints = substitute_env(text, {})
    assert complaints and "more than 8 levels deep" in complaints[0]


def test_a_nested_default_in_a_config_file_reaches_the_provider(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "providers:\n  gpt:\n    type: openai\n    base_url: ${GATEWAY_URL:-${LOCAL_URL}}\n",
        encoding="utf-8",
    )
    config = load_config(path, environ={"LOCAL_URL": "http://127.0.0.1:9000/v1"})
    assert config.providers["gpt"].base_url == "http://127.0.0.1:9000/v1"


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ('"http://user:hunter2-SECRET@gw.example/v1\\r\\nX-Injected: 1"', "a carriage return (CR)"),
        ('"http://gw.example/v1\\nX-Injected: 1"', "a line feed (LF)"),
        ('"http://gw.example/v1 /chat"', "a space"),
        ('"http://gw.example/v1\\t"', "a tab"),
        ('"http://gw.example/\\u200bv1"', "the invisible character U+200B"),
        ('"http://gw.example/v1\\x00"', "the invisible character U+0000"),
    ],
)
def test_a_base_url_with_a_control_character_or_space_is_refused_at_its_line(
    tmp_path: Path, url: str, named: str
) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        f"providers:\n  gpt:\n    type: openai\n    base_url: {url}\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    text = str(raised.value)
    assert "line 4" in text and f"base_url holds {named}" in text
    assert "gw.example" not in text and "hunter2" not in text


def test_a_base_url_with_a_line_break_from_the_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match="base_url holds a line feed"):
        load_config(
            {"providers": {"gpt": {"type": "openai", "base_url": "${URL}"}}},
            environ={"URL": "http://gw.example/v1\nX-Injected: 1"},
        )
