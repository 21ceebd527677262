"""Loading the example, discovery order, the embedded default, and secrets kept secret."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from orchestify_nb.config import (
    CONFIG_ENV,
    BudgetLimits,
    ModelPrice,
    config_search_path,
    default_config,
    discover_config,
    load_config,
)
from orchestify_nb.errors import ConfigError

EXAMPLE = Path(__file__).parents[2] / "examples" / "providers.yaml"
KEYS = {
    "ANTHROPIC_API_KEY": "sk-ant-example-key-0001",
    "OPENAI_API_KEY": "sk-openai-example-key-0002",
    "AZURE_API_KEY": "azure-example-key-0003",
}
HAS_LLAMA_CPP = importlib.util.find_spec("llama_cpp") is not None


def test_example_config_loads_with_keys_as_secrets() -> None:
    config = load_config(EXAMPLE, environ=KEYS)
    assert list(config.providers) == ["claude_main", "openai_main", "azure", "local"]
    assert config.providers["claude_main"].default_model == "claude-sonnet-4-6"
    assert config.providers["azure"].type == "litellm"
    assert config.default_provider == "claude_main"
    assert config.agents["coder"].model == "gpt-4.1"
    assert config.source == str(EXAMPLE)
    assert (
        config.line_of(("agents", "coder", "model"))
        == EXAMPLE.read_text().splitlines().index("    model: gpt-4.1") + 1
    )
    for secret in KEYS.values():
        assert secret not in repr(config)
        assert secret not in str(config.model_dump())
        assert secret not in config.model_dump_json()


def test_example_budgets_have_overall_and_per_provider_limits() -> None:
    budgets = load_config(EXAMPLE, environ=KEYS).budgets
    assert budgets is not None
    assert budgets.overall == BudgetLimits(per_day=10.0)
    assert budgets.for_provider("claude_main") == BudgetLimits(per_session=2.0, total=100.0)
    assert budgets.for_provider("openai_main") is None
    assert budgets.warn_at == 0.8


def test_provider_pricing_layers_its_own_overrides_over_the_top_level() -> None:
    config = load_config(
        {
            "providers": {
                "a": {
                    "type": "openai",
                    "pricing": {"m1": {"input_per_mtok": 9, "output_per_mtok": 9}},
                },
                "b": {"type": "openai"},
            },
            "pricing": {
                "m1": {"input_per_mtok": 1, "output_per_mtok": 2},
                "m2": {"input_per_mtok": 3, "output_per_mtok": 4},
            },
        }
    )
    assert config.provider_pricing("a") == {"m1": ModelPrice(9, 9), "m2": ModelPrice(3, 4)}
    assert config.provider_pricing("b")["m1"] == ModelPrice(1, 2)


def test_empty_file_and_empty_sections_are_an_empty_config(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    sections = tmp_path / "sections.yaml"
    sections.write_text("providers:\nagents:\n")
    assert load_config(empty).providers == {}
    assert load_config(sections).agents == {}


def test_a_directory_loads_its_orchestify_yaml(tmp_path: Path) -> None:
    (tmp_path / "orchestify.yaml").write_text("providers:\n  l:\n    type: local\n")
    assert list(load_config(tmp_path).providers) == ["l"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"holds none of orchestify\.yaml"):
        load_config(tmp_path / "empty")


def test_yaml_anchors_and_merge_keys_are_supported(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "providers:\n"
        "  a: &base\n    type: openai\n    max_tokens: 100\n"
        "  b:\n    <<: *base\n    max_tokens: 200\n"
    )
    config = load_config(path)
    assert config.providers["b"].type == "openai"
    assert config.providers["b"].max_tokens == 200


def test_sampling_settings_stay_allowed_where_the_api_takes_them(tmp_path: Path) -> None:
    """Only the anthropic SDK's API version refuses them: LiteLLM (even for Claude models, as it
    sends the older version), OpenAI and local providers keep temperature, top_p and top_k."""
    path = tmp_path / "c.yaml"
    path.write_text(
        "providers:\n"
        "  via_litellm:\n    type: litellm\n    default_model: anthropic/claude-sonnet-4-6\n"
        "    options: {temperature: 0.3, top_p: 0.9, top_k: 5}\n"
        "  gpt:\n    type: openai\n    options: {temperature: 0.3, top_p: 0.9}\n"
        "  claude:\n    type: anthropic\n"
        "agents:\n"
        "  default_agent:\n    temperature: 0.2\n"  # the default is via_litellm, listed first
        "  writer:\n    provider: gpt\n    temperature: 0.7\n"
        "  researcher:\n    provider: claude\n    system: Cite your sources.\n"
    )

    config = load_config(path)

    assert config.providers["via_litellm"].options == {"temperature": 0.3, "top_p": 0.9, "top_k": 5}
    assert config.agents["default_agent"].temperature == 0.2
    assert config.agents["writer"].temperature == 0.7


@pytest.mark.parametrize(
    ("keys", "expected_cloud", "expected_default"),
    [
        ({}, [], "local"),
        ({"OPENAI_API_KEY": "sk-o"}, ["openai"], "openai"),
        ({"ANTHROPIC_API_KEY": "sk-a", "OPENAI_API_KEY": "sk-o"}, ["claude", "openai"], "claude"),
        ({"ANTHROPIC_API_KEY": ""}, [], "local"),
    ],
)
def test_embedded_default_registers_each_cloud_provider_with_a_key(
    keys: dict[str, str], expected_cloud: list[str], expected_default: str
) -> None:
    config = default_config(environ=keys)
    cloud = [pid for pid, p in config.providers.items() if p.type != "local"]
    assert cloud == expected_cloud
    assert ("local" in config.providers) is HAS_LLAMA_CPP
    if HAS_LLAMA_CPP or expected_cloud:
        assert config.default_provider == expected_default
    assert config.source == "embedded default"
    for pid in expected_cloud:
        key = config.providers[pid].api_key
        assert (
            key is not None
            and key.get_secret_value()
            == keys[{"claude": "ANTHROPIC_API_KEY", "openai": "OPENAI_API_KEY"}[pid]]
        )


def _write(path: Path, provider_id: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"providers:\n  {provider_id}:\n    type: local\n")
    return path


def test_discovery_prefers_the_variable_then_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    explicit = _write(tmp_path / "elsewhere" / "mine.yaml", "from_variable")
    _write(tmp_path / "orchestify.yaml", "from_cwd")
    config, problem = discover_config(environ={CONFIG_ENV: str(explicit)})
    assert (list(config.providers), problem) == (["from_variable"], None)
    config, problem = discover_config(environ={})
    assert (list(config.providers), problem) == (["from_cwd"], None)
    assert config_search_path(environ={})[0] == tmp_path / "orchestify.yaml"
    assert config_search_path(environ={})[1].parts[-2:] == ("orchestify_nb", "orchestify.yaml")


def test_discovery_without_files_gives_the_embedded_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config, problem = discover_config(environ={"OPENAI_API_KEY": "sk-o"})
    assert problem is None
    assert config.source == "embedded default"
    assert "openai" in config.providers


def test_discovery_never_raises_a_broken_file_gives_default_and_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "orchestify.yaml").write_text("providers:\n  x:\n    type: nope\n")
    config, problem = discover_config(environ={"ANTHROPIC_API_KEY": "sk-a"})
    assert config.source == "embedded default"
    assert list(p for p in config.providers if p != "local") == ["claude"]
    assert isinstance(problem, ConfigError)
    assert "line 3" in str(problem) and "unknown provider type 'nope'" in str(problem)


def test_discovery_reports_a_variable_naming_a_missing_file(tmp_path: Path) -> None:
    config, problem = discover_config(environ={CONFIG_ENV: str(tmp_path / "gone.yaml")})
    assert config.source == "embedded default"
    assert problem is not None and "ORCHESTIFY_CONFIG is set to" in str(problem)
