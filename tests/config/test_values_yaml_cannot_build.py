"""Values PyYAML cannot build (a wrong ``!!tag``, an unknown ``!tag``, an undefined or recursive
alias, a bad merge, a forbidden character) are reported like any other config problem: a
``ConfigError`` naming the line, the key and the fix, and never PyYAML's own text, which quotes
the value and its line (on an ``api_key`` line, the key)."""

from __future__ import annotations

import pickle
import traceback
from pathlib import Path

import pytest

from orchestify_nb.config import CONFIG_ENV, discover_config, load_config
from orchestify_nb.errors import ConfigError

KEY = "sk-ant-" + "api03-BUILDCHECK-Qm3v8TzL0pWx7Yb2Nc"  # split: no key-shaped literal in the repo
HEADER = "providers:\n  claude:\n    type: anthropic\n"

# (case id, lines after the provider's type, phrases the message must contain)
CASES = [
    (
        "int tag on the key",
        f"    api_key: !!int {KEY}\n",
        ["line 4", "providers.claude.api_key", "tagged !!int but is not a valid int", "remove"],
    ),
    (
        "unknown tag on the key",
        f"    api_key: !secret {KEY}\n",
        ["line 4", "providers.claude.api_key", "YAML tag", "remove the tag"],
    ),
    (
        "int tag on a variable reference",
        "    api_key: !!int ${KEY_VARIABLE}\n",
        ["line 4", "providers.claude.api_key", "tagged !!int"],
    ),
    (
        "the key written as an undefined alias",
        f"    api_key: *{KEY}\n",
        ["line 4, column 14", "found undefined alias", "define the &anchor"],
    ),
    (
        "a date that is not one",
        "    default_model: 2025-13-45\n",
        ["line 4", "providers.claude.default_model", "looks like a YAML timestamp", "quote it"],
    ),
    (
        "a tagged key name",
        "    !!int max_tokens: 5\n",
        ["line 4", "key providers.claude:", "tagged !!int"],
    ),
    (
        "an alias to the list that holds it",
        "    options: &loop {stop: [*loop]}\n",
        ["line 4", "providers.claude.options.stop[0]", "refers to the list or mapping"],
    ),
    (
        "a mapping that merges itself",
        "    options: &self {stop: [x], <<: *self}\n",
        ["line 4", "providers.claude.options", "refers to the list or mapping"],
    ),
    (
        "a merge of a list of numbers",
        "    <<: [1, 2]\n",
        ["line 4", "expected a mapping for merging", "merge (<<) only a mapping"],
    ),
    (
        "a control character pasted in with the key",
        f"    api_key: {KEY[:20]}\x07{KEY[20:]}\n",
        ["line 4", "control character", "#x0007", "delete it"],
    ),
]


def chain_texts(error: BaseException) -> str:
    """Everything the error carries: its text, its chain, and its pickle."""
    return "".join(traceback.format_exception(error)) + pickle.dumps(error).decode("latin-1")


@pytest.mark.parametrize(("lines", "phrases"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_an_unbuildable_value_is_a_config_problem_with_line_and_fix(
    tmp_path: Path, lines: str, phrases: list[str]
) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(HEADER + lines, encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={"KEY_VARIABLE": KEY})

    message = str(caught.value)
    for phrase in phrases:
        assert phrase in message, f"{phrase!r} not in: {message}"
    for fragment in (KEY, KEY[:12], KEY[-12:]):
        assert fragment not in chain_texts(caught.value)
    assert caught.value.__context__ is None  # PyYAML's error (it quotes the line) is not kept


def test_other_problems_are_still_reported_next_to_an_unbuildable_value(tmp_path: Path) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(HEADER + f"    api_key: !!int {KEY}\n    max_tokens: lots\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    message = str(caught.value)
    assert "has 2 problems" in message  # the api_key once (as read), and max_tokens
    assert "line 5, key providers.claude.max_tokens" in message and "'lots'" in message


def test_a_tag_that_fits_its_value_still_works(tmp_path: Path) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(HEADER + "    max_tokens: !!int '512'\n    api_key: !!str 12345\n")

    provider = load_config(path).providers["claude"]

    assert provider.max_tokens == 512
    assert provider.api_key is not None and provider.api_key.get_secret_value() == "12345"


def test_discovery_reports_nesting_too_deep_at_its_line_without_quoting_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nesting deeper than Python's recursion limit once gave a bare RecursionError: it is a
    config problem with its line, and discovery falls back to the default."""
    path = tmp_path / "orchestify.yaml"
    path.write_text(f"providers: {'[' * 5000}{KEY}{']' * 5000}\n", encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(path))

    config, problem = discover_config()

    assert config.source == "embedded default"
    assert isinstance(problem, ConfigError)
    message = str(problem)
    assert message.startswith(f"Config file {path}, line 1: lists and mappings are nested")
    assert "RecursionError" not in chain_texts(problem)
    assert KEY[:12] not in chain_texts(problem) and "[[[" not in message


def test_a_top_level_key_that_cannot_be_built_hides_no_other_problem(tmp_path: Path) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text("!!int budget: 5\n" + HEADER + "    max_tokens: lots\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    message = str(caught.value)
    assert "has 2 problems" in message
    assert "line 1: the value is tagged !!int" in message
    assert "line 5, key providers.claude.max_tokens" in message
