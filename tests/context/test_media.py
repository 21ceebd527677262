"""Figures, images and PDFs as content parts: ``render`` and ``@{...}`` give image and document
parts within the budget (scaling said), and an object's ``_repr_llm_`` may return parts."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from orchestify_nb.context import render
from orchestify_nb.magics.interpolation import (
    InterpolationError,
    interpolate,
    interpolate_content,
)
from orchestify_nb.providers.content import DocumentPart, ImagePart, TextPart
from tests.media_samples import figure, minimal_pdf


def image_size(part: ImagePart) -> tuple[int, int]:
    with Image.open(io.BytesIO(part.data)) as opened:
        return opened.size


def test_a_figure_becomes_a_png_image_part_with_its_token_count() -> None:
    shown = render(figure(4.0, 3.0))

    (part,) = shown.parts
    assert isinstance(part, ImagePart) and part.media_type == "image/png"
    assert part.data.startswith(b"\x89PNG") and image_size(part) == (400, 300)
    assert shown.tokens == part.tokens == 160  # 400 x 300 / 750
    assert shown.kind == "matplotlib figure" and shown.cut == ()


def test_a_figure_over_the_budget_is_drawn_smaller_and_the_cut_says_so() -> None:
    shown = render(figure(8.0, 6.0), budget=200)

    (part,) = shown.parts
    assert isinstance(part, ImagePart)
    assert shown.tokens <= 200
    width, height = image_size(part)
    assert width < 800 and abs(width / height - 4 / 3) < 0.02
    assert shown.cut and "size to fit 200 tokens" in shown.cut[0]


def test_a_big_pil_image_is_scaled_to_the_longest_edge_the_apis_keep() -> None:
    shown = render(Image.new("RGB", (4000, 1000), "white"), budget=5000)

    (part,) = shown.parts
    assert isinstance(part, ImagePart)
    assert image_size(part) == (1568, 392)
    assert "scaled from 4000×1000 to 1568×392" in shown.cut[0]


def test_repr_llm_may_return_content_parts() -> None:
    image = ImagePart(b"\x89PNG\r\n\x1a\n" + b"\0" * 16, name="logo")

    class Brand:
        def _repr_llm_(self, budget: int) -> list[object]:
            return ["Our logo:", image]

    shown = render(Brand())

    assert shown.parts == (TextPart("Our logo:"), image)
    assert shown.text == "Our logo:" and shown.kind == "Brand (its _repr_llm_)"


@pytest.fixture
def in_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_an_image_file_and_a_figure_are_parts_of_the_prompt_between_its_text(
    in_folder: Path,
) -> None:
    figure(2.0, 1.0).savefig(in_folder / "plot.png")
    namespace = {"fig": figure(3.0, 2.0)}
    manifest: list = []

    content = interpolate_content(
        "Compare @{fig} with @{file:plot.png} please", namespace, budget=2000, manifest=manifest
    )

    assert isinstance(content, tuple)
    kinds = [type(part).__name__ for part in content]
    assert kinds == ["TextPart", "ImagePart", "TextPart", "ImagePart", "TextPart"]
    assert [part.name for part in content if isinstance(part, ImagePart)] == [
        "fig",
        "file:plot.png",
    ]
    assert [(item.name, item.tokens) for item in manifest] == [
        ("fig", 80),  # 300 x 200 / 750
        ("file:plot.png", 27),  # 200 x 100 / 750, rounded up
    ]


def test_an_image_file_whose_name_lies_is_sent_as_what_it_is(in_folder: Path) -> None:
    Image.new("RGB", (30, 20)).save(in_folder / "photo.png", format="JPEG")

    (part,) = render(in_folder / "photo.png").parts

    assert isinstance(part, ImagePart) and part.media_type == "image/jpeg"


def test_a_pdf_is_a_document_part_with_its_text_for_apis_without_documents(
    in_folder: Path,
) -> None:
    (in_folder / "report.pdf").write_bytes(minimal_pdf("Revenue rose 12 percent"))

    shown = render(in_folder / "report.pdf")

    (part,) = shown.parts
    assert isinstance(part, DocumentPart) and part.pages == 1
    assert part.text == "Revenue rose 12 percent"
    assert shown.kind == "PDF document" and 1000 < shown.tokens < 1100


def test_a_pdf_over_the_budget_goes_as_its_text_cut_to_the_budget(in_folder: Path) -> None:
    (in_folder / "report.pdf").write_bytes(minimal_pdf("Revenue rose 12 percent"))

    shown = render(in_folder / "report.pdf", budget=300)

    assert shown.parts == () and shown.tokens <= 300
    assert "Revenue rose 12 percent" in shown.text
    assert "sent as text" in shown.cut[0]


def test_a_system_prompt_cannot_hold_an_image() -> None:
    with pytest.raises(InterpolationError, match="only a prompt can hold"):
        interpolate("Style guide: @{fig}", {"fig": figure()}, budget=2000)
