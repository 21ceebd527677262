"""Turn an answer (so far, or final) into a MIME bundle for one output format.

Every bundle has a real ``text/plain``, so terminals, nbconvert's text exporters and ``nbval``
comparisons see the answer too, not only the front end's rich rendering.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from orchestify_nb.render.safe_html import markdown_html, sanitize_html

if TYPE_CHECKING:
    from orchestify_nb.providers.types import LLMResponse

OutputFormat = Literal["markdown", "text", "code", "json", "html"]
OUTPUT_FORMATS: tuple[str, ...] = get_args(OutputFormat)

#: Shown at the end of an answer still streaming, so a pause does not look like the end.
CURSOR = " ▌"

_FENCE = re.compile(r"^```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True, slots=True)
class ExtractedCode:
    """The code of an answer and the language its fence named (``python`` when none)."""

    code: str
    language: str


def extract_code(answer: str) -> ExtractedCode:
    """The fenced code blocks of an answer joined, or the whole answer when it has none."""
    blocks = _FENCE.findall(answer)
    if not blocks:
        return ExtractedCode(answer.strip("\n"), "python")
    language = next((lang for lang, _ in blocks if lang), "python")
    return ExtractedCode("\n\n".join(body.rstrip("\n") for _, body in blocks), language)


@dataclass(frozen=True, slots=True)
class ParsedJSON:
    """An answer read as JSON: ``value`` when valid, else ``error`` says where it broke."""

    value: Any = None
    error: str | None = None
    pretty: str = ""


def parse_json_answer(answer: str) -> ParsedJSON:
    """Parse an answer as JSON, accepting the ```json fence models like to add."""
    blocks = _FENCE.findall(answer)
    source = blocks[0][1] if blocks else answer
    try:
        value = json.loads(source)
    except json.JSONDecodeError as error:
        return ParsedJSON(
            error=f"line {error.lineno}, column {error.colno}: {error.msg}", pretty=answer
        )
    return ParsedJSON(value=value, pretty=json.dumps(value, indent=2, ensure_ascii=False))


def footer_text(response: LLMResponse) -> str:
    """One line: provider, model, tokens, cost and latency (never a key, never a guess)."""
    tokens = f"{response.tokens_input:,} in / {response.tokens_output:,} out tokens"
    extras = [
        f"{response.cache_read_tokens:,} cached" if response.cache_read_tokens else "",
        f"{response.reasoning_tokens:,} reasoning" if response.reasoning_tokens else "",
    ]
    extra = ", ".join(e for e in extras if e)
    if extra:
        tokens += f" ({extra})"
    if response.cost_usd is None:
        cost = "cost unknown"
    elif response.cost_usd == 0:
        cost = "$0"
    else:
        cost = (
            f"${response.cost_usd:.6f}" if response.cost_usd < 0.01 else f"${response.cost_usd:.4f}"
        )
    parts = [response.provider_id or "?", response.model, tokens, cost]
    if response.cached_at is not None:  # replayed: say when it was bought and what it spared
        saved = f"${response.saved_usd:.6f}" if response.saved_usd is not None else "cost unknown"
        when = response.cached_at.strftime("%Y-%m-%d %H:%M UTC")
        return " · ".join([*parts[:3], "cached", f"from {when}", f"saved {saved}"])
    saving = response.prompt_cache_saved_usd
    if saving is not None:  # what reading the prompt cache saved, or writing it cost extra
        parts.append(
            f"prompt cache saved ${saving:.6f}"
            if saving >= 0
            else f"prompt cache write +${-saving:.6f}"
        )
    if response.latency_s is not None:
        parts.append(f"{response.latency_s:.2f} s")
    if response.finish_reason == "length":
        parts.append("cut at max_tokens")
    return " · ".join(parts)


def _thinking_html(thinking: str, *, open_: bool) -> str:
    if not thinking:
        return ""
    state = " open" if open_ else ""
    return (
        f"<details{state}><summary>Thinking</summary>\n\n"
        f'<pre style="white-space: pre-wrap">{html.escape(thinking)}</pre>\n\n</details>\n\n'
    )


def _plain(answer: str, thinking: str, note: str) -> str:
    head = f"[thinking]\n{thinking}\n[answer]\n" if thinking else ""
    gap = "\n\n" if answer or thinking else ""
    tail = f"{gap}[{note}]" if note else ""
    return f"{head}{answer}{tail}"


def fence(code: str, language: str = "") -> str:
    """``code`` as a fenced Markdown block whose fence no line of ``code`` can close."""
    longest = max((len(run) for run in re.findall(r"`+", code)), default=0)
    marks = "`" * max(3, longest + 1)
    return f"{marks}{language}\n{code}\n{marks}"


def _pre(text: str, language: str = "") -> str:
    css = f' class="language-{html.escape(language)}"' if language else ""
    return f"<pre><code{css}>{html.escape(text)}</code></pre>"


def answer_bundle(
    answer: str,
    *,
    output_format: OutputFormat = "markdown",
    thinking: str = "",
    note: str = "",
    streaming: bool = False,
    mark: str = "",
) -> dict[str, Any]:
    """The MIME bundle of an answer: ``note`` is the footer line (or a status such as
    "interrupted"), ``mark`` a symbol before it in the rich forms (text/plain keeps the words
    that text comparisons read); ``streaming`` shows the raw text with a cursor and the thinking
    open.

    The answer is untrusted: ``text/html``, which front ends prefer to ``text/markdown``, is
    always ours and inert (``render.safe_html``); ``text/markdown`` keeps the Markdown source
    for exporters and text comparisons.
    """
    details = _thinking_html(thinking, open_=streaming and not answer)
    gap = "\n\n" if answer or thinking else ""
    md_note = f"{gap}<sub>{html.escape(mark + note)}</sub>" if note else ""
    html_note = f"<p><sub>{html.escape(mark + note)}</sub></p>" if note else ""
    cursor = CURSOR if streaming else ""
    bundle: dict[str, Any] = {"text/plain": _plain(answer, thinking, note)}
    if streaming and output_format in ("code", "json"):
        bundle["text/markdown"] = f"{details}{fence(answer + cursor)}{md_note}"
        body = _pre(answer + cursor)
    elif output_format == "markdown":
        bundle["text/markdown"] = f"{details}{answer}{cursor}{md_note}"
        body = markdown_html(answer + cursor)
    elif output_format == "text":
        body = f'<pre style="white-space: pre-wrap">{html.escape(answer + cursor)}</pre>'
    elif output_format == "html":
        body = sanitize_html(answer) + html.escape(cursor)
    elif output_format == "code":
        extracted = extract_code(answer)
        bundle["text/markdown"] = f"{details}{fence(extracted.code, extracted.language)}{md_note}"
        body = _pre(extracted.code, extracted.language)
    else:
        parsed = parse_json_answer(answer)
        if parsed.error is None:
            bundle["application/json"] = parsed.value
            bundle["text/plain"] = _plain(parsed.pretty, thinking, note)
            bundle["text/markdown"] = f"{details}{fence(parsed.pretty, 'json')}{md_note}"
            body = _pre(parsed.pretty, "json")
        else:
            warning = f"The answer is not valid JSON ({parsed.error}); shown as text."
            bundle["text/plain"] = _plain(answer, thinking, f"{warning} {note}".strip())
            bundle["text/markdown"] = f"{details}{fence(answer)}\n\n**{warning}**{md_note}"
            body = f"{_pre(answer)}<p><strong>{html.escape(warning)}</strong></p>"
    bundle["text/html"] = f"{details}{body}{html_note}"
    return bundle


def response_bundle(
    response: LLMResponse, output_format: OutputFormat = "markdown"
) -> dict[str, Any]:
    """The final bundle of a complete response, footer included."""
    return answer_bundle(
        response.content,
        output_format=output_format,
        thinking=response.thinking,
        note=footer_text(response),
    )
