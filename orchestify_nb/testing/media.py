"""Images and documents in a request, as the real APIs check and count them.

Both APIs refuse media they cannot read with a 400 (a wrong media type, bytes that are not the
image they claim to be, a data URL that is not one); the emulator does too, so a translation bug
fails in a test as it would in production. An image is counted as Anthropic bills it (width ×
height / 750 tokens), not as its base64 text, so usage in tests looks like the real thing.
"""

from __future__ import annotations

import base64
import binascii
import math
import struct
from collections.abc import Iterator
from typing import Any

IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
#: The bytes each image type starts with.
_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}
#: What an image of unknown size counts (Anthropic's most for one image).
_MAX_IMAGE_TOKENS = 1600
#: What a document page counts besides its text.
_PAGE_TOKENS = 1000


def _parts(body: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every content part of every message, with where it is (``messages.1.content.0``)."""
    for index, message in enumerate(body.get("messages") or []):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for position, part in enumerate(content):
            if isinstance(part, dict):
                yield f"messages.{index}.content.{position}", part
                if part.get("type") == "tool_result" and isinstance(part.get("content"), list):
                    for inner, block in enumerate(part["content"]):
                        if isinstance(block, dict):
                            yield f"messages.{index}.content.{position}.content.{inner}", block


def _decoded(data: object) -> bytes | None:
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def anthropic_media_problem(body: dict[str, Any]) -> str | None:
    """The Messages API's 400 for an image or document block it cannot read, else ``None``."""
    for where, part in _parts(body):
        kind = part.get("type")
        if kind not in ("image", "document"):
            continue
        source = part.get("source")
        if not isinstance(source, dict) or source.get("type") != "base64":
            return f"{where}.source: only base64 sources are accepted by this emulator"
        media_type = source.get("media_type")
        data = _decoded(source.get("data"))
        if data is None:
            return f"{where}.source.data: The data is not valid base64"
        if kind == "image":
            if media_type not in IMAGE_TYPES:
                return f"{where}.source.media_type: Input should be one of {IMAGE_TYPES}"
            if not data.startswith(_MAGIC[media_type]):
                return f"{where}: Image does not match the provided media type {media_type}"
        elif media_type != "application/pdf" or not data.startswith(b"%PDF"):
            return f"{where}.source: The PDF specified was not valid"
    return None


def openai_media_problem(body: dict[str, Any]) -> str | None:
    """Chat Completions' 400 for an ``image_url`` or ``file`` part it cannot read."""
    for where, part in _parts(body):
        kind = part.get("type")
        if kind == "image_url":
            url = (part.get("image_url") or {}).get("url")
            if not isinstance(url, str) or not _data_url_of(url, IMAGE_TYPES):
                return f"Invalid image in {where}: expected a data URL of a PNG, JPEG, GIF or WebP"
        elif kind == "file":
            data = (part.get("file") or {}).get("file_data")
            if not isinstance(data, str) or not _data_url_of(data, ("application/pdf",)):
                return f"Invalid file data in {where}: expected a data URL of a PDF"
    return None


def _data_url_of(url: str, media_types: tuple[str, ...]) -> bytes | None:
    """The bytes of a ``data:<type>;base64,...`` URL of one of ``media_types``."""
    head, _, data = url.partition(",")
    media_type = head.removeprefix("data:").removesuffix(";base64")
    if (
        not head.startswith("data:")
        or not head.endswith(";base64")
        or media_type not in media_types
    ):
        return None
    return _decoded(data)


def media_of(body: dict[str, Any]) -> list[tuple[str, bytes]]:
    """Each image or document the request carries, as (media type, bytes), in either API's
    shape: what a test reads back to see the model was really shown the figure."""
    found: list[tuple[str, bytes]] = []
    for _where, part in _parts(body):
        kind = part.get("type")
        if kind in ("image", "document"):
            source = part.get("source") or {}
            data = _decoded(source.get("data"))
            if data is not None:
                found.append((str(source.get("media_type")), data))
        elif kind in ("image_url", "file"):
            url = (part.get("image_url") or {}).get("url") or (part.get("file") or {}).get(
                "file_data"
            )
            if isinstance(url, str) and url.startswith("data:"):
                media_type = url[5:].partition(";")[0]
                data = _decoded(url.partition(",")[2])
                if data is not None:
                    found.append((media_type, data))
    return found


def without_media(body: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """``body`` with its images and documents taken out, and the tokens they count: an image
    by its size (PNG), a document by its pages."""
    tokens = 0
    messages = []
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            messages.append(message)
            continue
        kept = []
        for part in content:
            counted = _media_tokens(part) if isinstance(part, dict) else None
            if counted is None:
                kept.append(part)
            else:
                tokens += counted
        messages.append({**message, "content": kept})
    return {**body, "messages": messages}, tokens


def _media_tokens(part: dict[str, Any]) -> int | None:
    """The tokens a media part counts, or ``None`` when it is not one."""
    kind = part.get("type")
    if kind in ("document", "file"):
        return _PAGE_TOKENS
    if kind == "image":
        return _image_tokens(_decoded((part.get("source") or {}).get("data")) or b"")
    if kind == "image_url":
        url = (part.get("image_url") or {}).get("url") or ""
        return _image_tokens(_decoded(str(url).partition(",")[2]) or b"")
    return None


def _image_tokens(data: bytes) -> int:
    """Anthropic's rule for a PNG's tokens, from the size in its header."""
    if data.startswith(_MAGIC["image/png"]) and len(data) >= 24:
        width: int
        height: int
        width, height = struct.unpack(">II", data[16:24])
        return min(_MAX_IMAGE_TOKENS, max(1, math.ceil(width * height / 750)))
    return _MAX_IMAGE_TOKENS
