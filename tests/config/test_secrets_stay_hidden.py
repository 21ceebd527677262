"""Secrets a config holds besides ``api_key``: extra headers (a gateway's key), credentials in a
``base_url``, and whatever a validation error would otherwise keep of its input."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from orchestify_nb.config import OrchestifyConfig, ProviderConfig, load_config
from orchestify_nb.config.secrets import is_secret_name, redact_url, url_secrets
from orchestify_nb.errors import ConfigError

KEY = "sk-proj-" + "HIDDENCHECK-7fQ2mZ9xLw4Rt8Vb"  # split: no key-shaped literal in the repo
GATEWAY_KEY = "pk-gateway-HIDDENCHECK-c3Nd8Jq1Ys"


def views(model: OrchestifyConfig | ProviderConfig) -> str:
    return "\n".join(
        (
            repr(model),
            str(model),
            repr(model.model_dump()),
            repr(model.model_dump(mode="json")),
            model.model_dump_json(),
        )
    )


# ------------------------------------------------------------------------ validation errors
def test_a_model_wide_check_keeps_no_input_that_holds_the_key() -> None:
    with pytest.raises(ValidationError) as caught:
        ProviderConfig.model_validate({"type": "openai", "api_key": KEY, "n_ctx": 512})

    error = caught.value
    assert "n_ctx only applies to type: local" in str(error)
    assert KEY not in str(error) and KEY.encode() not in pickle.dumps(error)
    assert error.errors()[0]["input"] == {}  # the input dict, emptied


def test_a_key_pasted_into_another_field_is_masked_but_plain_mistakes_stay_quoted() -> None:
    with pytest.raises(ValidationError) as caught:
        ProviderConfig.model_validate(
            {"type": "openai", "api_key": KEY, "max_tokens": KEY, "timeout": "soon"}
        )

    inputs = {item["loc"]: item["input"] for item in caught.value.errors()}
    assert inputs == {("max_tokens",): "***", ("timeout",): "soon"}
    assert KEY.encode() not in pickle.dumps(caught.value)


def test_assigning_a_key_to_the_wrong_field_keeps_no_key_in_the_error() -> None:
    provider = ProviderConfig(type="openai", api_key=SecretStr(KEY))

    with pytest.raises(ValidationError) as caught:
        provider.max_tokens = KEY  # type: ignore[assignment]

    assert caught.value.errors()[0]["input"] == "***"
    assert KEY.encode() not in pickle.dumps(caught.value)


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        ("    n_ctx: 512\n", "line 5, key providers.gpt.n_ctx: n_ctx only applies to type: local"),
        (
            "default_provider: gtp\n",
            "line 5, key default_provider: default_provider 'gtp' is not defined "
            "(did you mean 'gpt'?)",
        ),
    ],
    ids=["local-only field", "undefined default provider"],
)
def test_model_wide_problems_still_reach_the_loader_with_their_lines(
    tmp_path: Path, lines: str, problem: str
) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(f"providers:\n  gpt:\n    type: openai\n    api_key: {KEY}\n{lines}")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert problem in str(caught.value)
    assert KEY not in str(caught.value)


# ------------------------------------------------------------------------------ headers
def test_headers_and_extra_headers_are_held_as_secrets_and_sent_together(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(
        "providers:\n  gateway:\n    type: openai\n    base_url: https://gateway.example/v1\n"
        "    headers:\n      X-Team: research\n      Helicone-Auth: ${GATEWAY}\n"
        "    options:\n      top_p: 0.5\n      extra_headers:\n"
        f"        x-portkey-api-key: {GATEWAY_KEY}\n        x-team: overridden\n"
    )

    provider = load_config(path, environ={"GATEWAY": KEY}).providers["gateway"]

    sent = {name: value.get_secret_value() for name, value in provider.client_headers().items()}
    assert sent == {"x-portkey-api-key": GATEWAY_KEY, "X-Team": "research", "Helicone-Auth": KEY}
    assert provider.request_options() == {"top_p": 0.5}
    assert isinstance(provider.options["extra_headers"]["x-portkey-api-key"], SecretStr)
    for secret in (KEY, GATEWAY_KEY, "research"):
        assert secret not in views(provider)


def test_a_header_value_that_is_not_text_is_reported_without_echoing_headers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(
        "providers:\n  gateway:\n    type: openai\n    headers:\n      X-Retry: [1, 2]\n"
        f"    options:\n      extra_headers:\n        api-key: {GATEWAY_KEY}\n"
        "        x-count: 3\n"
    )

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    message = str(caught.value)
    assert "line 5, key providers.gateway.headers.X-Retry: should be a valid string" in message
    assert "line 6, key providers.gateway.options" in message
    assert "options.extra_headers.x-count should be text" in message
    assert GATEWAY_KEY not in message


@pytest.mark.parametrize(
    "name", ["api-key", "x-api-key", "Authorization", "auth", "Helicone-Auth", "token", "x-token"]
)
def test_gateway_header_names_look_secret(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["max_tokens", "author", "model", "keyboard", "top_p"])
def test_ordinary_names_do_not_look_secret(name: str) -> None:
    assert not is_secret_name(name)


# ----------------------------------------------------------------------------- base_url
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("https://user:hunter2@proxy.example/v1", "https://***@proxy.example/v1"),
        ("https://sk-in-the-user-part@proxy.example", "https://***@proxy.example"),
        (
            "https://x.openai.azure.com/openai?api-version=2024-06-01&api-key=abc123",
            "https://x.openai.azure.com/openai?api-version=2024-06-01&api-key=***",
        ),
        ("https://f.example/api?code=abc123&sig=def456", "https://f.example/api?code=***&sig=***"),
        ("https://h.example/cb#access_token=abc123", "https://h.example/cb#access_token=***"),
        ("http://[::1", "***"),
    ],
)
def test_redact_url_masks_credentials_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_url_secrets_lists_each_credential_for_scrubbing() -> None:
    url = "https://user:hunter2@proxy.example/v1?token=abc123&v=1"
    assert url_secrets(url) == ["user:hunter2", "hunter2", "abc123"]


def test_a_base_url_is_shown_without_its_credentials_but_used_whole(tmp_path: Path) -> None:
    url = "https://user:hunter2pass@proxy.example/v1?api-key=abc123xyz"
    path = tmp_path / "orchestify.yaml"
    path.write_text(f"providers:\n  p:\n    type: openai\n    base_url: {url}\n")

    config = load_config(path)

    assert config.providers["p"].base_url == url
    for secret in ("hunter2pass", "abc123xyz"):
        assert secret not in views(config)
    assert "https://***@proxy.example/v1?api-key=***" in repr(config)


def test_a_base_url_password_is_scrubbed_from_config_errors(tmp_path: Path) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text(
        "providers:\n  p:\n    type: openai\n    base_url: https://u:hunter2pass@proxy.example\n"
        "    default_model: [hunter2pass]\n"
    )

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert "providers.p.default_model" in str(caught.value)
    assert "hunter2pass" not in str(caught.value)


def test_headers_on_a_local_model_are_a_problem_at_their_line(tmp_path: Path) -> None:
    path = tmp_path / "orchestify.yaml"
    path.write_text("providers:\n  local:\n    type: local\n    headers:\n      X-Team: a\n")

    with pytest.raises(ConfigError) as caught:
        load_config(path)

    assert "line 4, key providers.local.headers: headers are sent over HTTP" in str(caught.value)
