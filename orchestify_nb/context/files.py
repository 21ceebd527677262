"""A file by path (``@{file:notes.md}``): a text file's contents; a PDF's extracted text when
``pypdf`` is installed. Images and PDFs as content parts for vision models are not sent yet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestify_nb.context.rendering import Rendered

_MAX_BYTES = 2_000_000


class ContextFileError(ValueError):
    """A file that cannot be inserted; the message names it and why."""


def render_file(obj: Any, budget: int) -> Rendered:
    path = Path(obj)
    if not path.is_file():
        raise ContextFileError(f"@{{file:{path}}}: there is no file {str(path)!r}")
    if path.suffix.lower() == ".pdf":
        return _pdf(path)
    data = path.read_bytes()[:_MAX_BYTES]
    if b"\x00" in data[:4096]:
        raise ContextFileError(
            f"@{{file:{path}}}: {path.name} is a binary file, not text; images and other binary "
            "files cannot be inserted as text"
        )
    text = data.decode("utf-8", errors="replace")
    return Rendered(f"File {path.name}:\n{text}", f"file {path.suffix or 'text'}")


def _pdf(path: Path) -> Rendered:
    try:
        from pypdf import PdfReader
    except ImportError:
        raise ContextFileError(
            f"@{{file:{path}}}: reading a PDF needs pypdf (pip install pypdf)"
        ) from None
    pages = [page.extract_text() or "" for page in PdfReader(path).pages]
    return Rendered(f"File {path.name} ({len(pages)} pages):\n" + "\n\n".join(pages), "file .pdf")
