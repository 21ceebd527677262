"""What is never sent to a model, whatever asks for it (``@{name}`` in a cell, the panel's
context picker): the process environment, which holds API keys, and secrets (pydantic
``SecretStr``/``SecretBytes``, anything whose type is named ``*Secret*``), not even masked."""

from __future__ import annotations

import os
from typing import Any

_ENVIRONMENT_TYPES = (type(os.environ), type(os.environb))


def never_sent(value: Any) -> str | None:
    """Why ``value`` may never be sent (a phrase), or ``None`` when it may."""
    if isinstance(value, _ENVIRONMENT_TYPES):
        return "it is the process environment, which holds API keys"
    if any("Secret" in cls.__name__ for cls in type(value).__mro__):
        return f"it is a secret ({type(value).__name__})"
    return None
