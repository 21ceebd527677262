"""Images and documents as content parts, over the real SDKs and the emulator: each API gets
them in its own format (Anthropic base64 blocks, OpenAI data URLs), a model that reads no
images is one clear error before anything is sent, and a PDF goes as text where the API takes
no documents."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest

from orchestify_nb.errors import BadRequestError, UnsupportedContentError
from orchestify_nb.providers.base import LLMProvider
from orchestify_nb.providers.caching import cache_key
from orchestify_nb.providers.claude import ClaudeProvider
from orchestify_nb.providers.content import DocumentPart, ImagePart, TextPart, chat_content
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.providers.types import LLMMessage
from orchestify_nb.testing import LLMEmulator, Reply
from orchestify_nb.testing.media import media_of
from tests.media_samples import minimal_pdf, png_bytes
from tests.providers.conftest import Backend

PNG = png_bytes()


def chart_question() -> list[LLMMessage]:
    image = ImagePart(PNG, "image/png", "fig", 400, 300)
    return [LLMMessage("user", ["What does this chart show?\n", image, "\nOne sentence."])]


@pytest.mark.parametrize("streamed", [False, True], ids=["complete", "stream"])
async def test_an_image_part_reaches_each_api_in_its_own_format(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend, streamed: bool
) -> None:
    llm_emulator.enqueue(Reply(text="A rising line."))

    if streamed:
        events = [event async for event in provider.stream(chart_question())]
        response = events[-1].response
        assert response is not None
    else:
        response = await provider.complete(chart_question())

    assert response.content == "A rising line."
    content = llm_emulator.requests[-1].body["messages"][-1]["content"]
    if backend.speaks_anthropic:
        image = next(block for block in content if block["type"] == "image")
        assert image["source"] == {
            "type": "base64",
            "media_type": "image/png",
            "data": base64.b64encode(PNG).decode(),
        }
    else:
        image = next(part for part in content if part["type"] == "image_url")
        assert (
            image["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()
        )
    texts = [part["text"] for part in content if part["type"] == "text"]
    assert "".join(texts) == "What does this chart show?\n\nOne sentence."
    # counted as the API counts an image (400 x 300 / 750 = 160), not as its base64 text
    assert response.tokens.input < 300


async def test_a_model_that_reads_no_images_is_refused_by_name_before_sending(
    llm_emulator: LLMEmulator,
) -> None:
    provider = OpenAIProvider(
        api_key="sk-test", base_url=llm_emulator.openai_base_url, default_model="gpt-3.5-turbo"
    )

    with pytest.raises(UnsupportedContentError) as raised:
        await provider.complete(chart_question())

    message = str(raised.value)
    assert "cannot read images" in message and "'gpt-3.5-turbo'" in message and "(fig)" in message
    assert llm_emulator.requests == []
    await provider.aclose()


async def test_the_emulator_refuses_an_image_that_is_not_what_it_claims_like_the_api(
    llm_emulator: LLMEmulator,
) -> None:
    provider = ClaudeProvider(api_key="sk-ant-test", base_url=llm_emulator.base_url)
    claimed_jpeg = ImagePart(PNG, "image/jpeg", "fig")

    with pytest.raises(BadRequestError, match="Image does not match the provided media type"):
        await provider.complete([LLMMessage("user", ["Look:", claimed_jpeg])])
    await provider.aclose()


PDF = minimal_pdf("Quarterly revenue rose 12 percent")


def report_question() -> list[LLMMessage]:
    document = DocumentPart(
        PDF, name="report.pdf", text="Quarterly revenue rose 12 percent", pages=1
    )
    return [LLMMessage("user", ["Summarise:\n", document])]


async def test_a_pdf_goes_as_a_document_where_the_api_takes_one_else_as_its_text(
    provider: LLMProvider, llm_emulator: LLMEmulator, backend: Backend
) -> None:
    llm_emulator.enqueue(Reply(text="Revenue grew."))

    await provider.complete(report_question())

    body = llm_emulator.requests[-1].body
    content = body["messages"][-1]["content"]
    if backend.name == "openai":  # a custom base_url: an OpenAI-compatible server, no files
        assert isinstance(content, str) or all(part["type"] == "text" for part in content)
        assert "Quarterly revenue rose 12 percent" in str(content)
        assert media_of(body) == []
    else:  # Anthropic's document block; LiteLLM's file part (gpt-4o reads PDFs)
        assert media_of(body) == [("application/pdf", PDF)]


def test_chat_content_sends_a_pdf_as_a_file_part_with_a_data_url() -> None:
    parts = chat_content((TextPart("Read:"), DocumentPart(PDF, name="report.pdf")))

    assert isinstance(parts, list)
    assert parts[1] == {
        "type": "file",
        "file": {
            "filename": "report.pdf",
            "file_data": "data:application/pdf;base64," + base64.b64encode(PDF).decode(),
        },
    }


def test_the_response_cache_keys_an_image_by_its_bytes(
    make_provider: Callable[..., LLMProvider],
) -> None:
    provider = make_provider()

    def key(data: bytes) -> str:
        message = LLMMessage("user", ["What is this?", ImagePart(data, name="fig")])
        return cache_key("anthropic", None, provider.build_request([message]))

    assert key(PNG) == key(bytes(PNG))
    assert key(PNG) != key(png_bytes(5.0, 3.0))


def test_a_message_keeps_text_as_a_string_and_parts_as_a_tuple() -> None:
    image = ImagePart(PNG, name="fig")

    assert LLMMessage("user", ["a", "b"]).content == "ab"
    with_image = LLMMessage("user", ["a ", image, TextPart(" b")])
    assert with_image.content == (TextPart("a "), image, TextPart(" b"))
    assert with_image.text == "a  b"
    assert "data" not in repr(with_image)  # the bytes stay out of reprs and logs
    with pytest.raises(ValueError, match="image/bmp"):
        ImagePart(b"BM..", "image/bmp")


def test_the_estimates_before_sending_count_an_image_as_the_api_bills_it(
    make_provider: Callable[..., LLMProvider],
) -> None:
    from orchestify_nb.batch.estimate import estimate_batch
    from orchestify_nb.providers.budgeting import estimate_input_tokens

    provider = make_provider()
    plain = provider.build_request("What does this chart show?\n\nOne sentence.")
    with_image = provider.build_request(chart_question())

    added = estimate_input_tokens(with_image) - estimate_input_tokens(plain)
    assert added == 160  # 400 x 300 / 750, not the PNG's base64 length
    rows = estimate_batch(provider, [plain, with_image]).input_tokens
    assert rows - 2 * estimate_batch(provider, [plain]).input_tokens == 160


def test_displays_name_the_images_and_documents_a_turn_held() -> None:
    from orchestify_nb.providers.content import shown_text

    turn = LLMMessage("user", ["Compare ", ImagePart(PNG, name="fig"), DocumentPart(PDF)])

    assert shown_text(turn.content) == "Compare [image fig][document document.pdf]"
    assert shown_text("plain") == "plain"
