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
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["InterpolationError", "interpolate"]

_NAME = r"[A-Za-z_]\w*"
_STEP = r"(?:\.[A-Za-z_]\w*|\[(?:-?\d+|'[^'\]]*'|\"[^\"\]]*\")\])"
_REFERENCE = re.compile(rf"(@?)@\{{({_NAME}{_STEP}*)\}}")
_STEPS = re.compile(_STEP)


class InterpolationError(LookupError):
    """A ``@{...}`` reference that cannot be resolved; the message names it and the fix."""


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace each ``@{reference}`` in ``text`` with ``str()`` of its value in ``namespace``."""

    def replace(match: re.Match[str]) -> str:
        escaped, reference = match.group(1), match.group(2)
        if escaped:
            return f"@{{{reference}}}"
        return str(resolve(reference, namespace))

    return _REFERENCE.sub(replace, text)


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
    value = namespace[name.group()]
    walked = name.group()
    for step in _STEPS.findall(reference[name.end() :]):
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
        walked += step
    return value
