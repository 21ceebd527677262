"""A file by path (``@{file:notes.md}``): a text file's contents; an image file as an image
part; a PDF as a document part (see ``context.media``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from orchestify_nb.context.rendering import Rendered
from orchestify_nb.providers.content import IMAGE_TYPES

_MAX_BYTES = 2_000_000


class ContextFileError(ValueError):
    """A file that cannot be inserted; the message names it and why."""


def render_file(obj: Any, budget: int) -> Rendered:
    path = Path(obj)
    if not path.is_file():
        raise ContextFileError(f"@{{file:{path}}}: there is no file {str(path)!r}")
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from orchestify_nb.context.media import render_pdf

        return render_pdf(path, budget)
    if suffix in IMAGE_TYPES:
        from orchestify_nb.context.media import render_image_file

        return render_image_file(path, budget)
    data = path.read_bytes()[:_MAX_BYTES]
    if b"\x00" in data[:4096]:
        raise ContextFileError(
            f"@{{file:{path}}}: {path.name} is a binary file, not text; only text files, "
            f"PDFs and images ({', '.join(IMAGE_TYPES)}) can be inserted"
        )
    text = data.decode("utf-8", errors="replace")
    return Rendered(f"File {path.name}:\n{text}", f"file {path.suffix or 'text'}")
