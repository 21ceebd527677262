"""Clear, typed errors for the ways a local model goes wrong: no file, a file that is not a
GGUF, a broken GGUF, a prompt too long for the context, and options it does not have."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestify_nb.errors import (
    BadRequestError,
    ConfigError,
    ModelNotSupportedError,
    ProviderError,
    UnsupportedOptionError,
)
from orchestify_nb.providers.local import LOCAL_OPTIONS, LocalProvider
from orchestify_nb.usage.ledger import Ledger

pytestmark = pytest.mark.local_model


def test_missing_model_file_is_a_config_error_naming_the_path_and_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "models" / "llama-3-8b-instruct.gguf"

    with pytest.raises(ConfigError) as caught:
        LocalProvider(model_path=missing)

    message = str(caught.value)
    assert str(missing) in message
    assert "does not exist" in message
    assert "model_path" in message


def test_file_that_is_not_a_gguf_is_refused_when_the_provider_is_built(tmp_path: Path) -> None:
    garbage = tmp_path / "model.gguf"
    garbage.write_bytes(b"<html>403 Forbidden</html>" + bytes(range(256)) * 16)

    with pytest.raises(ConfigError) as caught:
        LocalProvider(model_path=garbage)

    message = str(caught.value)
    assert str(garbage) in message
    assert "not a GGUF model file" in message
    assert "b'<htm'" in message


async def test_truncated_gguf_fails_on_first_call_with_llama_cpps_reason(
    truncated_gguf: Path,
) -> None:
    provider = LocalProvider(model_path=truncated_gguf)

    with pytest.raises(ProviderError) as caught:
        await provider.complete("Hello")

    message = str(caught.value)
    assert f"could not load the GGUF model {str(truncated_gguf)!r}" in message
    assert "failed to read" in message  # llama.cpp's own words, routed from its log
    assert "truncated or corrupt" in message


async def test_prompt_longer_than_the_context_is_a_bad_request_naming_n_ctx() -> None:
    provider = LocalProvider(n_ctx=64)

    with pytest.raises(BadRequestError) as caught:
        await provider.complete("word " * 200, prompt_format="completion")

    assert "context holds 64" in str(caught.value)
    assert "larger n_ctx" in str(caught.value)


async def test_unknown_option_is_refused_before_anything_runs(
    provider: LocalProvider, isolated_ledger: Ledger
) -> None:
    with pytest.raises(UnsupportedOptionError) as caught:
        await provider.complete("Hello", frequency_penalty=0.5)

    assert "frequency_penalty" in str(caught.value)
    assert all(option in str(caught.value) for option in LOCAL_OPTIONS)
    assert isolated_ledger.records() == []


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"prompt_format": "chatml"}, "unknown prompt_format 'chatml'"),
        ({"seed": "lucky"}, "wrong type"),
        ({"temperature": -1.0}, "temperature must be 0 or more"),
        ({"tools": [{"name": "now", "description": "the time"}]}, "tool calls"),
        ({"thinking": 1024}, "extended thinking"),
    ],
)
async def test_options_the_local_model_cannot_honour_are_refused(
    provider: LocalProvider, options: dict[str, object], words: str
) -> None:
    with pytest.raises(UnsupportedOptionError, match=words):
        await provider.complete("Hello", **options)  # type: ignore[arg-type]


async def test_chat_template_format_on_a_base_model_says_it_has_no_template(
    provider: LocalProvider,
) -> None:
    with pytest.raises(UnsupportedOptionError, match="no chat template"):
        await provider.complete("Hello", prompt_format="chat_template")


def test_another_model_name_is_refused_with_how_to_use_another_file(
    provider: LocalProvider, tmp_path: Path
) -> None:
    with pytest.raises(ModelNotSupportedError, match=r"path to a \.gguf"):
        provider.build_request("Hello", model="gpt-4o")
    with pytest.raises(ModelNotSupportedError, match="does not exist"):
        provider.build_request("Hello", model=str(tmp_path / "other.gguf"))


def test_provider_reports_its_model_file_and_capabilities(provider: LocalProvider) -> None:
    assert provider.provider_type == "local"
    assert provider.known_models() == ["gemma-3-270m-q4_k_m.gguf"]
    assert provider.default_model == "gemma-3-270m-q4_k_m.gguf"
    assert not provider.supports_tools() and not provider.supports_thinking()
    assert not provider.supports_images() and not provider.supports_documents()


async def test_an_image_is_refused_naming_the_local_model_and_nothing_runs(
    provider: LocalProvider, isolated_ledger: Ledger
) -> None:
    from orchestify_nb.errors import UnsupportedContentError
    from orchestify_nb.providers.content import ImagePart
    from orchestify_nb.providers.types import LLMMessage
    from tests.media_samples import png_bytes

    chart = LLMMessage("user", ["What does this show?", ImagePart(png_bytes(), name="fig")])

    with pytest.raises(UnsupportedContentError) as caught:
        await provider.complete([chart])

    message = str(caught.value)
    assert "cannot read images" in message and "(fig)" in message
    assert f"model {provider.file_name!r}" in message
    assert isolated_ledger.records() == []  # refused before a call: nothing to record


def test_a_pdf_reaches_the_local_model_as_its_text(provider: LocalProvider) -> None:
    from orchestify_nb.providers.content import DocumentPart
    from orchestify_nb.providers.types import LLMMessage
    from tests.media_samples import minimal_pdf

    report = DocumentPart(minimal_pdf("Revenue rose"), name="report.pdf", text="Revenue rose")
    request = provider.build_request([LLMMessage("user", ["Summarise: ", report])])

    assert request.messages[0].content == "Summarise: Document report.pdf:\nRevenue rose"
