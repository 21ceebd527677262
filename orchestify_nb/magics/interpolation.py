"""Explicit, safe prompt interpolation: ``@{name}`` is replaced, everything else is sent as is.

Why ``@{...}``: prompts are often pasted code, and every common template form already means
something in code: ``{x}`` (Python f-strings, dicts, JSON, C, JavaScript), ``{{ x }}`` (Jinja,
Handlebars, Vue, Go templates, Python format escapes), ``$x`` and ``${x}`` (shell, JavaScript
template literals, PHP, Perl, Terraform). ``@{`` followed by a bare name is very rare in code.

What is replaced: ``@{`` + a reference + ``}`` with no spaces, where a reference is a variable
name followed by any number of ``.attribute`` or ``[index]`` steps (index: an integer or a
quoted string), e.g. ``@{df}``, ``@{df.columns}``, ``@{In[3]}``, ``@{Out[5]}``, ``@{cfg['k']}``.
No calls, no operators: nothing is evaluated, so a prompt cannot run code.
Anything else (``@{1}``, ``@{ x }``, ``@{$ref}``, ``{x}``) is left untouched. ``@@{name}`` sends
the literal text ``@{name}``. A reference to an undefined name is an error, not silent text.

What is never followed, so a prompt (perhaps pasted from somewhere else) cannot walk from a
notebook variable to the session's keys: an attribute starting with ``_`` (private and special
attributes: ``__globals__``, ``_session``, ``_api_key``), a dunder variable (``__builtins__``),
any attribute of a module (``os.environ``, ``sys.modules``) or of a frame, generator or
traceback (``gi_frame.f_globals``), and the process environment (``os.environ``) itself. A
secret (pydantic ``SecretStr``/``SecretBytes``, anything whose type is named ``*Secret*``) is
never rendered, not even masked. A property or ``__str__`` that raises is reported in one
paragraph naming the reference, not as a traceback.
"""

from __future__ import annotations

import ast
import dataclasses
import re
import types
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestify_nb.context.safety import never_sent
from orchestify_nb.providers.content import (
    Content,
    ContentPart,
    ImagePart,
    media_parts,
    normalize_content,
)

if TYPE_CHECKING:
    from orchestify_nb.context import ContextItem

__all__ = ["InterpolationError", "interpolate", "interpolate_content"]

_NAME = r"[A-Za-z_]\w*"
_STEP = r"(?:\.[A-Za-z_]\w*|\[(?:-?\d+|'[^'\]]*'|\"[^\"\]]*\")\])"
_FILE = r"file:[^}\s]+"
_REFERENCE = re.compile(rf"(@?)@\{{({_FILE}|{_NAME}{_STEP}*)\}}")
_STEPS = re.compile(_STEP)
#: Objects whose attributes lead to any module's globals, hence to the environment and keys.
_NO_ATTRIBUTES_OF = (
    types.ModuleType,
    types.FrameType,
    types.TracebackType,
    types.CodeType,
    types.GeneratorType,
    types.CoroutineType,
    types.AsyncGeneratorType,
)


class InterpolationError(LookupError):
    """A ``@{...}`` reference that cannot be resolved; the message names it and the fix."""


def interpolate(
    text: str,
    namespace: Mapping[str, Any],
    *,
    budget: int | None = None,
    manifest: list[ContextItem] | None = None,
) -> str:
    """Replace each ``@{reference}`` in ``text`` with its value in ``namespace`` rendered for a
    model (``orchestify_nb.context.render``, at most ``budget`` tokens each; ``str()`` when no
    budget is given), and list each insertion in ``manifest``. ``@{file:path}`` inserts a
    file of the current folder (see ``read_file_reference``). For text that must stay text (a
    system prompt): an image or a document here is an error; see ``interpolate_content``."""
    content = interpolate_content(text, namespace, budget=budget, manifest=manifest)
    if isinstance(content, str):
        return content
    shown = ", ".join(part.name for part in media_parts(content))
    raise InterpolationError(
        f"the system prompt refers to an image or a document ({shown}), which only a prompt "
        "can hold; move the reference into the cell's text"
    )


def interpolate_content(
    text: str,
    namespace: Mapping[str, Any],
    *,
    budget: int | None = None,
    manifest: list[ContextItem] | None = None,
) -> Content:
    """``interpolate``, where a figure, an image or a PDF becomes a content part between the
    text around it: the result is a string when nothing inserted was one."""
    from orchestify_nb.context import ContextItem, render

    pieces: list[ContentPart | str] = []
    done = 0
    for match in _REFERENCE.finditer(text):
        pieces.append(text[done : match.start()])
        done = match.end()
        escaped, reference = match.group(1), match.group(2)
        if escaped:
            pieces.append(f"@{{{reference}}}")
            continue
        if reference.startswith("file:"):
            value: Any = file_reference(reference)
        else:
            value = resolve(reference, namespace)
        try:
            if budget is None:
                pieces.append(str(value))
                continue
            shown = render(value, budget)
        except InterpolationError:
            raise
        except Exception as error:  # the object's own __str__: one paragraph, not a traceback
            how = "str() of" if budget is None else "rendering"
            raise _failed(reference, f"{how} {reference} raised", error) from None
        if manifest is not None:
            manifest.append(ContextItem(reference, shown.kind, shown.tokens, list(shown.cut)))
        if shown.parts:
            pieces.extend(_named(part, reference) for part in shown.parts)
        else:
            pieces.append(shown.text)
    pieces.append(text[done:])
    return normalize_content(pieces)


def _named(part: ContentPart, reference: str) -> ContentPart:
    """An image inserted by ``@{reference}`` is named by it, so an error can say which."""
    return dataclasses.replace(part, name=reference) if isinstance(part, ImagePart) else part


def file_reference(reference: str) -> Path:
    """The file of ``@{file:path}``: inside the current folder (the notebook's), and neither
    hidden nor a dot-file such as ``.env``, so a pasted prompt cannot send ``~/.ssh`` or keys."""
    raw = reference.removeprefix("file:")
    folder = Path.cwd().resolve()
    path = (folder / raw).resolve()
    if not path.is_relative_to(folder):
        raise InterpolationError(
            f"the prompt refers to @{{{reference}}}, which is outside the notebook's folder "
            f"({folder}); only files in it (and below) can be inserted. Copy the file there"
        )
    if any(part.startswith(".") for part in path.relative_to(folder).parts):
        raise InterpolationError(
            f"the prompt refers to @{{{reference}}}, a hidden file or folder; those often hold "
            "keys (.env, .ssh), so they are never inserted"
        )
    return path


def resolve(reference: str, namespace: Mapping[str, Any]) -> Any:
    """The value of ``name.attr[index]...`` in ``namespace``, walking it step by step."""
    name = re.match(_NAME, reference)
    assert name is not None
    if name.group() not in namespace:
        raise InterpolationError(
            f"the prompt refers to @{{{reference}}}, but no variable {name.group()!r} is "
            f"defined in the notebook; define it first, or write @@{{{reference}}} to send "
            f"the text @{{{reference}}} as is"
        )
    if _is_dunder(name.group()):
        raise _refused(reference, name.group(), "it is one of Python's special (dunder) names")
    value = namespace[name.group()]
    walked = name.group()
    _check_value(reference, walked, value)
    for step in _STEPS.findall(reference[name.end() :]):
        if step.startswith("."):
            _check_attribute(reference, walked, step, value)
        try:
            if step.startswith("."):
                value = getattr(value, step[1:])
            else:
                value = value[ast.literal_eval(step[1:-1])]
        except (AttributeError, LookupError, TypeError) as error:
            raise InterpolationError(
                f"the prompt refers to @{{{reference}}}, but {walked}{step} fails "
                f"({type(error).__name__}: {error}); fix the reference, or write "
                f"@@{{{reference}}} to send it as text"
            ) from None
        except Exception as error:  # a property or __getitem__ of the user's own object
            raise _failed(reference, f"reading {walked}{step} raised", error) from None
        walked += step
        _check_value(reference, walked, value)
    return value


def _check_attribute(reference: str, walked: str, step: str, value: Any) -> None:
    """Refuse a ``.attribute`` step that could lead from a variable to the session's secrets."""
    if step[1:].startswith("_"):
        raise _refused(
            reference,
            f"{walked}{step}",
            "attributes starting with _ (private and special ones) are never followed",
        )
    if isinstance(value, _NO_ATTRIBUTES_OF):
        kind = "a module" if isinstance(value, types.ModuleType) else type(value).__name__
        raise _refused(
            reference, f"{walked}{step}", f"{walked} is {kind}, whose attributes are not followed"
        )


def _check_value(reference: str, walked: str, value: Any) -> None:
    """Refuse the process environment and secrets, wherever the walk meets them."""
    why = never_sent(value)
    if why is not None:
        raise _refused(reference, walked, why)


def _is_dunder(name: str) -> bool:
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _refused(reference: str, where: str, why: str) -> InterpolationError:
    return InterpolationError(
        f"the prompt refers to @{{{reference}}}, but {where} is not interpolated: {why}, so a "
        f"prompt cannot reach keys or the environment. Put the value you mean in a variable "
        f"and write @{{that_variable}}, or write @@{{{reference}}} to send the text as is"
    )


def _failed(reference: str, what: str, error: Exception) -> InterpolationError:
    return InterpolationError(
        f"the prompt refers to @{{{reference}}}, but {what} {type(error).__name__}"
        f"{_said(error)}; "
        f"fix the object or the reference, or write @@{{{reference}}} to send it as text"
    )


def _said(error: Exception) -> str:
    """``: message`` of an exception, if its own ``__str__`` works."""
    try:
        text = str(error)
    except Exception:
        return ""
    return f": {text}" if text else ""
