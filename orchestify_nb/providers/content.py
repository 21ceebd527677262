"""Content parts: a turn's text, images and documents, carried by every backend.

A message's ``content`` is plain text (a ``str``), or a tuple of parts when it holds more than
text: ``@{fig}`` in a cell puts an ``ImagePart`` between the text around it. Each backend turns
parts into its API's own shape (``anthropic_content``, ``chat_content``); a model that cannot
read images is refused before anything is sent (``providers.capabilities``), and a document
goes as extracted text to an API that takes no documents.
"""

from __future__ import annotations

import base64
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Content",
    "ContentPart",
    "DocumentPart",
    "ImagePart",
    "TextPart",
    "content_fingerprint",
    "media_parts",
    "normalize_content",
    "text_of",
]

#: What Anthropic bills an image of unknown size at most (about 1.15 megapixels).
MAX_IMAGE_TOKENS = 1600
#: Anthropic's rule for an image's tokens: width × height / 750.
PIXELS_PER_TOKEN = 750
#: The longest edge Anthropic keeps; bigger images are scaled down on its side (and billed so).
MAX_IMAGE_EDGE = 1568
#: A rough price of one document page read as an image besides its text (Anthropic's PDFs).
TOKENS_PER_PAGE_IMAGE = 1000

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
}


@dataclass(frozen=True, slots=True)
class TextPart:
    """Text between the other parts."""

    text: str


@dataclass(frozen=True, slots=True)
class ImagePart:
    """An image (PNG, JPEG, GIF or WebP bytes); ``width``/``height`` in pixels when known."""

    data: bytes = field(repr=False)
    media_type: str = "image/png"
    name: str = "image"
    width: int | None = None
    height: int | None = None

    def __post_init__(self) -> None:
        if self.media_type not in IMAGE_TYPES.values():
            raise ValueError(
                f"image {self.name!r} is {self.media_type}; the APIs take "
                f"{', '.join(sorted(set(IMAGE_TYPES.values())))}"
            )

    @property
    def tokens(self) -> int:
        """Input tokens the image costs, by Anthropic's published rule (OpenAI's tiles come to
        about as many); the most an image can cost when its size is unknown."""
        if not self.width or not self.height:
            return MAX_IMAGE_TOKENS
        scale = min(1.0, MAX_IMAGE_EDGE / max(self.width, self.height))
        pixels = self.width * scale * self.height * scale
        return min(MAX_IMAGE_TOKENS, math.ceil(pixels / PIXELS_PER_TOKEN))

    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{self.base64()}"


@dataclass(frozen=True, slots=True)
class DocumentPart:
    """A PDF. ``text`` is its extracted text, sent instead of the file to an API that takes
    no documents; ``pages`` its page count when known."""

    data: bytes = field(repr=False)
    media_type: str = "application/pdf"
    name: str = "document.pdf"
    text: str | None = field(default=None, repr=False)
    pages: int | None = None

    @property
    def tokens(self) -> int:
        """An estimate: the text's tokens, plus each page read as an image."""
        from orchestify_nb.token_counting import get_token_counter

        words = get_token_counter().count_text(self.text) if self.text else 0
        return words + TOKENS_PER_PAGE_IMAGE * (self.pages or 1)

    def base64(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{self.base64()}"


ContentPart = TextPart | ImagePart | DocumentPart
MediaPart = ImagePart | DocumentPart
#: A message's content: text, or parts.
Content = str | tuple[ContentPart, ...]


def normalize_content(content: str | Sequence[ContentPart | str]) -> Content:
    """``content`` as the form ``LLMMessage`` keeps: a string as is; parts as a tuple, with
    bare strings as ``TextPart``, neighbouring text joined, and text-only parts as one string
    (so a prompt without media is exactly what it was before parts existed)."""
    if isinstance(content, str):
        return content
    parts: list[ContentPart] = []
    for part in content:
        if isinstance(part, str):
            part = TextPart(part)
        if not isinstance(part, TextPart | ImagePart | DocumentPart):
            raise TypeError(
                f"a message's content parts are TextPart, ImagePart or DocumentPart, "
                f"not {type(part).__name__}"
            )
        if isinstance(part, TextPart) and parts and isinstance(parts[-1], TextPart):
            parts[-1] = TextPart(parts[-1].text + part.text)
        elif not (isinstance(part, TextPart) and not part.text):
            parts.append(part)
    if not parts:
        return ""
    if len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    return tuple(parts)


def text_of(content: Content) -> str:
    """The text of ``content``: its text parts joined (images and documents left out)."""
    if isinstance(content, str):
        return content
    return "".join(part.text for part in content if isinstance(part, TextPart))


def shown_text(content: Content) -> str:
    """``content``'s text, with each image or document named in brackets: for displays and
    logs, which show what was sent without the bytes."""
    if isinstance(content, str):
        return content
    return "".join(
        part.text
        if isinstance(part, TextPart)
        else f"[{'image' if isinstance(part, ImagePart) else 'document'} {part.name}]"
        for part in content
    )


def media_parts(content: Content) -> list[MediaPart]:
    """The images and documents in ``content``."""
    if isinstance(content, str):
        return []
    return [part for part in content if not isinstance(part, TextPart)]


def media_tokens(contents: Iterable[Content]) -> int:
    """The estimated input tokens of the images and documents in ``contents``."""
    return sum(part.tokens for content in contents for part in media_parts(content))


def content_fingerprint(content: Content) -> str | list[dict[str, Any]]:
    """``content`` as JSON-ready data for hashing (the response cache's key, a cell's prompt
    hash): text as it is, media by type and the SHA-256 of its bytes."""
    if isinstance(content, str):
        return content
    return [
        {"type": "text", "text": part.text}
        if isinstance(part, TextPart)
        else {"type": part.media_type, "sha256": hashlib.sha256(part.data).hexdigest()}
        for part in content
    ]


def anthropic_content(content: Content) -> str | list[dict[str, Any]]:
    """``content`` as a Messages API turn's content: base64 image and document blocks."""
    if isinstance(content, str):
        return content
    blocks: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            source = {"type": "base64", "media_type": part.media_type, "data": part.base64()}
            blocks.append({"type": "image", "source": source})
        else:
            source = {"type": "base64", "media_type": part.media_type, "data": part.base64()}
            blocks.append({"type": "document", "source": source, "title": part.name})
    return blocks


def chat_content(content: Content) -> str | list[dict[str, Any]]:
    """``content`` as a Chat Completions message's content: ``image_url`` data URLs and
    ``file`` parts (LiteLLM turns both into each backend's own blocks)."""
    if isinstance(content, str):
        return content
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, TextPart):
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part, ImagePart):
            parts.append({"type": "image_url", "image_url": {"url": part.data_url()}})
        else:
            file = {"filename": part.name, "file_data": part.data_url()}
            parts.append({"type": "file", "file": file})
    return parts
