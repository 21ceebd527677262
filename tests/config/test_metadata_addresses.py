"""A ``base_url`` at a cloud metadata service (which would receive the key and headers) is
refused at its config line, and when a provider is built in Python, in every spelling of the
address, unless the provider says ``allow_metadata_address: true``."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestify_nb import OpenAIProvider
from orchestify_nb.config import load_config
from orchestify_nb.errors import ConfigError
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.litellm_provider import LiteLLMProvider
from orchestify_nb.registry import ProviderRegistry

METADATA_URLS = [
    "http://169.254.169.254/latest/meta-data",
    "http://[fd00:ec2::254]/v1",
    "http://metadata.google.internal/computeMetadata/v1",
    "http://Metadata.Google.Internal./v1",
    "https://metadata.azure.com/v1",
    "http://100.100.100.200/v1",
    "http://169.254.10.20:8080/v1",  # any IPv4 link-local address
    "http://[fe80::1]/v1",  # any IPv6 link-local address
    "http://[fe80::1%25eth0]:8000/v1",  # with a zone
    "http://[::ffff:169.254.169.254]/v1",  # IPv4-mapped IPv6
    "http://[::ffff:a9fe:a9fe]/v1",
    "http://2852039166/v1",  # decimal
    "http://0xa9fea9fe/v1",  # hex
    "http://0251.0376.0251.0376/v1",  # octal
    "http://169.254.43518/v1",  # shortened
    "http://user:pw@169.254.169.254/v1",
]
ORDINARY_URLS = [
    "http://127.0.0.1:8000/v1",
    "http://[::1]:8000/v1",
    "https://api.openai.com/v1",
    "http://10.0.0.5/v1",
    "http://metadata.example.com/v1",
    "http://cafe:8000/v1",
]


def write(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    path = tmp_path / "orchestify.yaml"
    path.write_text(
        "providers:\n"
        "  gpt:\n"
        "    type: openai\n"
        "    api_key: sk-test\n"
        f"    base_url: {base_url}\n"
        f"{extra}",
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize("url", METADATA_URLS)
def test_a_metadata_base_url_is_refused_at_its_line_with_the_fix(tmp_path: Path, url: str) -> None:
    path = write(tmp_path, url)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message and "line 5" in message and "providers.gpt.base_url" in message
    assert "metadata" in message and "allow_metadata_address: true" in message
    assert "\n" not in message and "pw@" not in message


@pytest.mark.parametrize("url", METADATA_URLS)
@pytest.mark.parametrize("cls", [ClaudeProvider, OpenAIProvider, LiteLLMProvider])
def test_a_provider_built_in_python_refuses_a_metadata_base_url(url: str, cls: type) -> None:
    with pytest.raises(ConfigError, match="allow_metadata_address=True") as caught:
        cls(provider_id="p", api_key="sk-test", base_url=url, default_model="m")
    assert "pw@" not in str(caught.value)


@pytest.mark.parametrize("url", ORDINARY_URLS)
def test_ordinary_base_urls_stay_accepted(tmp_path: Path, url: str) -> None:
    assert load_config(write(tmp_path, url)).providers["gpt"].base_url == url
    OpenAIProvider(provider_id="p", base_url=url, default_model="m")


def test_allow_metadata_address_lets_it_through_in_the_config_and_in_python(
    tmp_path: Path,
) -> None:
    url = "http://169.254.169.254/v1"
    config = load_config(write(tmp_path, url, "    allow_metadata_address: true\n"))
    provider = ProviderRegistry.from_config(config).get("gpt")
    assert provider.base_url == url
    assert OpenAIProvider(base_url=url, allow_metadata_address=True).base_url == url


def test_allow_metadata_address_on_a_local_provider_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(
        "providers:\n  mine:\n    type: local\n    model_path: /x.gguf\n"
        "    allow_metadata_address: true\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"line 5.*allow_metadata_address"):
        load_config(path)
