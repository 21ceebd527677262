"""How a conversation becomes the one text a local model sees, and where its answer stops.

Small base models (like the bundled Gemma 3 270M) have no chat template; they continue text. A
``User:``/``Assistant:`` transcript, cut where the model starts writing the next ``User:`` line,
gets them to answer plausibly; a prompt written to be continued ("The capital of France is")
suits them best. Instruct GGUFs carry a chat template, which is used as is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from orchestify_nb.errors import UnsupportedOptionError
from orchestify_nb.providers.types import LLMMessage

__all__ = ["PROMPT_FORMATS", "PromptFormat", "RenderedPrompt", "StopGate", "render_prompt"]

PromptFormat = Literal["auto", "chat_template", "transcript", "completion"]
PROMPT_FORMATS: tuple[str, ...] = get_args(PromptFormat)
TRANSCRIPT_STOP = "\nUser:"
_ROLE_LABELS = {"user": "User", "assistant": "Assistant", "tool": "Tool"}


def check_prompt_format(prompt_format: object) -> PromptFormat:
    """Return ``prompt_format`` if it is one we know; raise ``UnsupportedOptionError`` if not."""
    if prompt_format not in PROMPT_FORMATS:
        raise UnsupportedOptionError(
            f"unknown prompt_format {prompt_format!r}",
            hint=f"Use one of {', '.join(PROMPT_FORMATS)}",
        )
    return prompt_format  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    """The exact text the model sees, and how to tokenize and stop it."""

    text: str
    prompt_format: PromptFormat
    stop: tuple[str, ...] = ()
    add_bos: bool = True
    special_tokens: bool = False
    strip_leading_space: bool = False


def render_prompt(
    messages: Sequence[LLMMessage],
    system: str | None,
    prompt_format: PromptFormat,
    chat_template: str | None = None,
    bos_token: str = "",
    eos_token: str = "",
) -> RenderedPrompt:
    """Turn a conversation into one prompt that suits the model.

    ``chat_template`` renders the GGUF's own template (instruct models). ``transcript`` writes
    ``User:``/``Assistant:`` lines and stops where the model starts the next ``User:`` line: a
    base model answers that plausibly. ``completion`` sends the text as is (system text, then the
    turns joined), for prompts written to be continued, e.g. "The capital of France is".
    ``auto`` picks ``chat_template`` when the GGUF has one, else ``transcript``.
    """
    if prompt_format == "auto":
        prompt_format = "chat_template" if chat_template else "transcript"
    preamble = f"{system}\n\n" if system else ""
    if prompt_format == "completion":
        return RenderedPrompt(preamble + "".join(m.text for m in messages), prompt_format)
    if prompt_format == "transcript":
        lines = [f"{_ROLE_LABELS[m.role]}: {m.text}\n" for m in messages]
        return RenderedPrompt(
            preamble + "".join(lines) + "Assistant:",
            prompt_format,
            stop=(TRANSCRIPT_STOP,),
            strip_leading_space=True,
        )
    if not chat_template:
        raise UnsupportedOptionError(
            "this GGUF has no chat template (it is probably a base model)",
            hint="Use prompt_format='transcript' or 'completion', or an instruct GGUF",
        )
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    turns = [{"role": "system", "content": system}] if system else []
    turns += [{"role": m.role, "content": m.text} for m in messages]
    formatter = Jinja2ChatFormatter(chat_template, eos_token=eos_token, bos_token=bos_token)
    text = formatter(messages=turns).prompt  # type: ignore[arg-type]
    return RenderedPrompt(text, prompt_format, add_bos=False, special_tokens=True)


class StopGate:
    """Lets generated text through, holding back what might be the start of a stop sequence."""

    def __init__(self, stop: Sequence[str], strip_leading_space: bool) -> None:
        self._stop = [s for s in stop if s]
        self._pending = ""
        self._strip = strip_leading_space

    def feed(self, text: str) -> tuple[str, bool]:
        """Add text; return what may be shown now, and whether a stop sequence was reached."""
        self._pending += text
        if self._strip:
            self._pending = self._pending.lstrip()
            self._strip = not self._pending
        hits = [self._pending.find(s) for s in self._stop if s in self._pending]
        if hits:
            shown, self._pending = self._pending[: min(hits)], ""
            return shown, True
        held = max(
            (
                n
                for s in self._stop
                for n in range(len(s) - 1, 0, -1)
                if self._pending.endswith(s[:n])
            ),
            default=0,
        )
        cut = len(self._pending) - held
        shown, self._pending = self._pending[:cut], self._pending[cut:]
        return shown, False

    def flush(self) -> str:
        shown, self._pending = self._pending, ""
        return shown
