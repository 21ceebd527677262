"""Figures, images and PDFs as content parts: what a model that reads images is shown.

A matplotlib figure (or axes) is drawn to PNG, a PIL image saved as PNG, an image file sent as
it is; each is scaled down when its tokens (Anthropic's width × height / 750) would pass the
budget, and the scaling is said. A PDF goes as a document part, with its text (read by
``pypdf`` when installed) for APIs that take no documents; a PDF over the budget goes as its
text alone, cut to the budget.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

from orchestify_nb.context.rendering import Rendered, fit
from orchestify_nb.providers.content import (
    IMAGE_TYPES,
    MAX_IMAGE_EDGE,
    PIXELS_PER_TOKEN,
    DocumentPart,
    ImagePart,
)

#: The figure's resolution when it has none of its own worth keeping.
FIGURE_DPI = 100


def _fitting_scale(width: float, height: float, budget: int) -> float:
    """The scale (at most 1) at which an image of ``width`` × ``height`` pixels fits both the
    token budget and the longest edge the APIs keep."""
    by_budget = math.sqrt(budget * PIXELS_PER_TOKEN / (width * height))
    return min(1.0, by_budget, MAX_IMAGE_EDGE / max(width, height))


def _image(data: bytes, media_type: str, name: str, kind: str, cut: tuple[str, ...]) -> Rendered:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as opened:
        width, height = opened.size
    part = ImagePart(data, media_type, name, width, height)
    return Rendered(f"[image {name}: {width}×{height} {kind}]", kind, cut, parts=(part,))


def render_figure(obj: Any, budget: int) -> Rendered:
    """A matplotlib ``Figure`` (or ``Axes``: its figure) as a PNG image part."""
    figure = obj if hasattr(obj, "savefig") else obj.get_figure()
    width_in, height_in = figure.get_size_inches()
    dpi = figure.dpi or FIGURE_DPI
    scale = _fitting_scale(width_in * dpi, height_in * dpi, budget)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi * scale)
    cut = (f"drawn at {scale:.0%} size to fit {budget:,} tokens",) if scale < 1 else ()
    label = figure.get_label() or "figure"
    return _image(buffer.getvalue(), "image/png", label, "matplotlib figure", cut)


def render_pil(obj: Any, budget: int) -> Rendered:
    """A PIL image as a PNG image part."""
    width, height = obj.size
    scale = _fitting_scale(width, height, budget)
    image = obj
    cut: tuple[str, ...] = ()
    if scale < 1:
        size = (max(1, int(width * scale)), max(1, int(height * scale)))
        image = obj.resize(size)
        cut = (f"scaled from {width}×{height} to {size[0]}×{size[1]} to fit {budget:,} tokens",)
    if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        image = image.convert("RGBA")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    name = Path(getattr(obj, "filename", "") or "image").name
    return _image(buffer.getvalue(), "image/png", name, "PIL image", cut)


def render_image_file(path: Path, budget: int) -> Rendered:
    """An image file: sent as it is when it fits and is of a type the APIs take (by its bytes,
    not its name), else as a PNG, scaled down when needed."""
    from PIL import Image

    data = path.read_bytes()
    kind = f"image file {path.suffix}"
    with Image.open(io.BytesIO(data)) as opened:
        media_type = Image.MIME.get(opened.format or "", "")
        if _fitting_scale(*opened.size, budget) < 1 or media_type not in IMAGE_TYPES.values():
            opened.load()
            redrawn = render_pil(opened, budget)
            return Rendered(redrawn.text, kind, redrawn.cut, 0, redrawn.parts)
    return _image(data, media_type, path.name, kind, ())


def render_pdf(path: Path, budget: int) -> Rendered:
    """A PDF as a document part with its text; over the budget, its text alone, cut."""
    data = path.read_bytes()
    text, pages = _pdf_text(data)
    document = DocumentPart(data, name=path.name, text=text, pages=pages)
    described = f"File {path.name} ({pages or 'unknown number of'} pages)"
    if document.tokens <= budget:
        return Rendered(described, "PDF document", parts=(document,))
    if text is None:
        from orchestify_nb.context.files import ContextFileError

        raise ContextFileError(
            f"@{{file:{path.name}}}: the PDF takes about {document.tokens:,} tokens, over the "
            f"budget of {budget:,}, and its text cannot be read to send instead (pip install "
            "pypdf); raise context_tokens= to send the PDF whole"
        )
    cut = fit(Rendered(f"{described}:\n{text}", "PDF text"), budget)
    why = f"sent as text: the PDF (~{document.tokens:,} tokens) is over the budget"
    return Rendered(cut.text, cut.kind, (why, *cut.cut), cut.tokens)


def _pdf_text(data: bytes) -> tuple[str | None, int | None]:
    """A PDF's text and page count, when ``pypdf`` is installed (else ``None``s)."""
    try:
        from pypdf import PdfReader
    except ImportError:
        return None, None
    reader = PdfReader(io.BytesIO(data))
    pages = [page.extract_text() or "" for page in reader.pages]
    return "\n\n".join(pages), len(pages)
