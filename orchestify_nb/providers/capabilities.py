"""What a provider's model can take (tools, thinking, images, documents), checked before any
request: a call the model would refuse is one clear error naming the model, and nothing is sent.
"""

from __future__ import annotations

from dataclasses import replace

from orchestify_nb.errors import UnsupportedContentError, UnsupportedOptionError
from orchestify_nb.providers.content import (
    Content,
    DocumentPart,
    ImagePart,
    TextPart,
    media_parts,
    normalize_content,
)
from orchestify_nb.providers.types import LLMRequest


class ModelCapabilities:
    """The capability questions every ``LLMProvider`` answers, and the checks built on them.

    The defaults are a text-only model that calls no tools; backends say more per model.
    """

    provider_id: str

    def supports_tools(self, model: str | None = None) -> bool:
        return False

    def supports_thinking(self, model: str | None = None) -> bool:
        return False

    def supports_code_execution(self, model: str | None = None) -> bool:
        return False

    def supports_images(self, model: str | None = None) -> bool:
        """Whether the model reads image parts (``@{fig}``, ``ImagePart``)."""
        return False

    def supports_documents(self, model: str | None = None) -> bool:
        """Whether the API takes a PDF as a document part; if not, its text is sent."""
        return False

    def validate_options(self, request: LLMRequest) -> None:
        """Raise ``UnsupportedOptionError`` for options the model rejects, before any request."""
        if request.thinking is not None and not self.supports_thinking(request.model):
            self._refuse(request, "this model does not support extended thinking", "thinking")
        if request.tools and not self.supports_tools(request.model):
            self._refuse(request, "this model does not support tool calls", "tools")
        images = [
            part
            for message in request.messages
            for part in media_parts(message.content)
            if isinstance(part, ImagePart)
        ]
        if images and not self.supports_images(request.model):
            names = ", ".join(image.name for image in images)
            raise UnsupportedContentError(
                f"this model cannot read images, and the prompt holds {len(images)} ({names})",
                provider_id=self.provider_id,
                model=request.model,
                hint=(
                    "Send it to a model that takes images (Claude, GPT-4o or newer, a LiteLLM "
                    "vision route), or describe the image in text; nothing was sent"
                ),
            )

    def _refuse(self, request: LLMRequest, problem: str, option: str) -> None:
        raise UnsupportedOptionError(
            problem,
            provider_id=self.provider_id,
            model=request.model,
            hint=f"Drop {option}=..., or pick a model that supports it.",
        )

    def fit_content(self, request: LLMRequest) -> LLMRequest:
        """``request`` with each document as its extracted text when the API takes none."""
        if self.supports_documents(request.model) or not any(
            isinstance(part, DocumentPart)
            for message in request.messages
            for part in media_parts(message.content)
        ):
            return request
        messages = [
            replace(message, content=self._documents_as_text(request, message.content))
            for message in request.messages
        ]
        return replace(request, messages=messages)

    def _documents_as_text(self, request: LLMRequest, content: Content) -> Content:
        if isinstance(content, str):
            return content
        parts: list[TextPart | ImagePart | DocumentPart] = []
        for part in content:
            if isinstance(part, DocumentPart):
                if part.text is None:
                    raise UnsupportedContentError(
                        f"this API takes no documents, and no text could be read from {part.name}",
                        provider_id=self.provider_id,
                        model=request.model,
                        hint="Install pypdf (pip install pypdf) to send the PDF's text",
                    )
                part = TextPart(f"Document {part.name}:\n{part.text}")
            parts.append(part)
        return normalize_content(parts)
