"""``${VAR}`` and ``${VAR:-default}`` in string scalars, ``$${`` as an escape."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from orchestify_nb.config import load_config
from orchestify_nb.config.source import substitute_env


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("${HOST}", {"HOST": "example.org"}, "example.org"),
        ("http://${HOST}:${PORT}/v1", {"HOST": "h", "PORT": "8000"}, "http://h:8000/v1"),
        ("${HOST:-localhost}", {}, "localhost"),
        ("${HOST:-localhost}", {"HOST": ""}, "localhost"),
        ("${HOST:-localhost}", {"HOST": "set"}, "set"),
        ("${EMPTY_DEFAULT:-}", {}, ""),
        ("${URL:-http://a:1/b}", {}, "http://a:1/b"),
        ("price is $${NOT_A_VAR}", {"NOT_A_VAR": "x"}, "price is ${NOT_A_VAR}"),
        ("$HOME and $$ stay", {"HOME": "/root"}, "$HOME and $$ stay"),
    ],
)
def test_references_are_filled(text: str, env: dict[str, str], expected: str) -> None:
    assert substitute_env(text, env) == (expected, [])


def test_unset_and_empty_variables_are_named_with_the_fix() -> None:
    _, unset = substitute_env("${A}", {})
    _, empty = substitute_env("${A}", {"A": ""})
    assert unset == ["environment variable A is not set; set A or use ${A:-...} to give a default"]
    assert "A is set but empty" in empty[0]


def test_substitution_happens_in_strings_only_and_typed_fields_convert(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "providers:\n"
        "  gpt:\n"
        "    type: openai\n"
        "    api_key: ${OPENAI_API_KEY}\n"
        "    base_url: http://${EMU_HOST:-127.0.0.1}:${EMU_PORT}/v1\n"
        "    max_tokens: ${MAX_TOKENS:-256}\n"
        "    options: {note: '$${literal}', count: 3}\n"
    )
    config = load_config(path, environ={"OPENAI_API_KEY": "sk-test-1", "EMU_PORT": "9001"})
    gpt = config.providers["gpt"]
    assert isinstance(gpt.api_key, SecretStr)
    assert gpt.api_key.get_secret_value() == "sk-test-1"
    assert gpt.base_url == "http://127.0.0.1:9001/v1"
    assert gpt.max_tokens == 256
    assert gpt.options == {"note": "${literal}", "count": 3}


def test_empty_key_from_default_means_no_key(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("providers:\n  gpt:\n    type: openai\n    api_key: ${OPENAI_API_KEY:-}\n")
    assert load_config(path, environ={}).providers["gpt"].api_key is None


def test_mappings_are_substituted_like_files() -> None:
    config = load_config(
        {"providers": {"c": {"type": "anthropic", "api_key": "${K}", "default_model": "${M:-x}"}}},
        environ={"K": "sk-ant-123"},
    )
    claude = config.providers["c"]
    assert claude.api_key is not None and claude.api_key.get_secret_value() == "sk-ant-123"
    assert claude.default_model == "x"
    assert config.source is None


def test_os_environ_is_the_default_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ORCHESTIFY_TEST_MODEL", "gpt-4.1")
    path = tmp_path / "c.yaml"
    path.write_text(
        "providers:\n  gpt:\n    type: openai\n    default_model: ${ORCHESTIFY_TEST_MODEL}\n"
    )
    assert load_config(path).providers["gpt"].default_model == "gpt-4.1"
