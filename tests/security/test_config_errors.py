"""A broken config says what is wrong without quoting the key: a bad value next to the key, a YAML
syntax error on the ``api_key`` line, a key of the wrong type. Each case is tried with the key
written as a ``${VAR}`` reference and written literally in the file (both are supported), through
``load_config`` (the error raised) and ``discover_config`` (the problem a notebook shows)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestify_nb.config import (
    CONFIG_ENV,
    OrchestifyConfig,
    ProviderConfig,
    discover_config,
    load_config,
)
from orchestify_nb.errors import ConfigError
from orchestify_nb.registry import ProviderRegistry
from tests.security.leaks import ANTHROPIC_KEY_ENV, FakeKeys, assert_exception_clean

REFERENCE = f"${{{ANTHROPIC_KEY_ENV}}}"


@dataclass(frozen=True)
class BrokenConfig:
    """The lines of one provider entry; ``{key}`` is where the key goes."""

    name: str
    entry: str

    def text(self, key: str) -> str:
        body = self.entry.format(key=key)
        return "providers:\n  claude:\n" + "".join(f"    {line}\n" for line in body.splitlines())


CASES = (
    BrokenConfig("max_tokens_not_a_number", "type: anthropic\napi_key: {key}\nmax_tokens: lots"),
    BrokenConfig("unknown_type_above_the_key", "type: anthropc\napi_key: {key}"),
    BrokenConfig("base_url_not_http", "type: anthropic\napi_key: {key}\nbase_url: ftp://x"),
    BrokenConfig("negative_timeout", "type: anthropic\napi_key: {key}\ntimeout: -1"),
    BrokenConfig("local_only_field", "type: anthropic\napi_key: {key}\nmodel_path: m.gguf"),
    BrokenConfig("misspelt_api_key_field", "type: anthropic\napi_kye: {key}"),
    BrokenConfig(
        "key_also_pasted_into_max_tokens", "type: anthropic\napi_key: {key}\nmax_tokens: {key}"
    ),
    BrokenConfig("yaml_colon_after_key", "type: anthropic\napi_key: {key}: oops"),
    BrokenConfig("yaml_unclosed_quote_on_key_line", 'type: anthropic\napi_key: "{key}'),
    BrokenConfig("yaml_tab_before_key_line", "type: anthropic\n\tapi_key: {key}"),
    BrokenConfig("yaml_bad_indent_of_key_line", "type: anthropic\n  api_key: {key}"),
    BrokenConfig("api_key_is_a_list", "type: anthropic\napi_key: [{key}]"),
    BrokenConfig("api_key_is_a_mapping", "type: anthropic\napi_key: {{value: {key}}}"),
    BrokenConfig("api_key_with_int_tag", "type: anthropic\napi_key: !!int {key}"),
    BrokenConfig("api_key_with_unknown_tag", "type: anthropic\napi_key: !secret {key}"),
    BrokenConfig("api_key_as_undefined_alias", "type: anthropic\napi_key: *{key}"),
)


def case_params() -> list[Any]:
    return [
        pytest.param(case, written_as, id=f"{case.name}-{written_as}")
        for case in CASES
        for written_as in ("reference", "literal")
    ]


@pytest.mark.parametrize(("case", "written_as"), case_params())
def test_config_error_names_the_problem_without_the_key(
    case: BrokenConfig,
    written_as: str,
    keys: FakeKeys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(case.text(REFERENCE if written_as == "reference" else keys.anthropic))

    with pytest.raises(Exception) as caught:  # a leak matters whatever the type
        load_config(path)
    assert_exception_clean(caught.value, keys.all)

    monkeypatch.setenv(CONFIG_ENV, str(path))
    _config, problem = discover_config()
    assert problem is not None
    assert_exception_clean(problem, keys.all)


#: Config models validated from plain data (a dict the user read or built, the key a string)
#: next to a mistake that a model-wide check reports: pydantic quotes the whole input of such a
#: check, cut in the middle, so the key's first or last characters show.
DIRECT_CONSTRUCTIONS: dict[str, Callable[[str], object]] = {
    "ProviderConfig-key_last": lambda key: ProviderConfig.model_validate(
        {"type": "openai", "model_path": "m.gguf", "api_key": key}
    ),
    "ProviderConfig-key_first": lambda key: ProviderConfig.model_validate(
        {"api_key": key, "type": "openai", "n_ctx": 512}
    ),
    "OrchestifyConfig-providers_last": lambda key: OrchestifyConfig.model_validate(
        {"default_provider": "nope", "providers": {"gpt": {"type": "openai", "api_key": key}}}
    ),
}


@pytest.mark.parametrize("construction", list(DIRECT_CONSTRUCTIONS))
def test_config_models_validated_from_plain_data_reject_bad_values_without_the_key(
    construction: str, keys: FakeKeys
) -> None:
    with pytest.raises(ValueError) as caught:
        DIRECT_CONSTRUCTIONS[construction](keys.openai)
    assert_exception_clean(caught.value, keys.all)


def test_mapping_configs_with_plain_keys_report_problems_without_the_key(keys: FakeKeys) -> None:
    """``load_config(mapping)`` and ``ProviderRegistry.from_config(mapping)`` take plain keys."""
    entry = {"type": "openai", "api_key": keys.openai, "max_tokens": keys.openai}
    attempts: dict[str, Callable[[], object]] = {
        "load_config": lambda: load_config({"providers": {"gpt": entry}, "default_provider": "x"}),
        "ProviderRegistry.from_config": lambda: ProviderRegistry.from_config({"gpt": entry}),
    }
    for name, attempt in attempts.items():
        with pytest.raises(ConfigError) as caught:
            attempt()
        assert "providers.gpt.max_tokens" in str(caught.value), name
        assert_exception_clean(caught.value, keys.all)
