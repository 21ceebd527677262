"""An exception: its type and message, and its traceback's frames, the user's own code first
(frames in the notebook's cells, then library frames)."""

from __future__ import annotations

import traceback
from typing import Any

from orchestify_nb.context.rendering import Rendered

_USER_FILES = ("<ipython-input-", "/ipykernel_", "<cell")


def is_user_frame(filename: str) -> bool:
    return any(marker in filename for marker in _USER_FILES)


def render_exception(obj: Any, budget: int) -> Rendered:
    frames = traceback.extract_tb(obj.__traceback__) if obj.__traceback__ else []
    user = [frame for frame in frames if is_user_frame(frame.filename)]
    library = [frame for frame in frames if not is_user_frame(frame.filename)]
    parts = [f"{type(obj).__name__}: {obj}"]
    if user:
        parts.append("In the notebook's code:")
        parts += [f"  line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in user]
    if library:
        parts.append("In libraries (innermost last):")
        parts += [
            f"  {f.filename}:{f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in library
        ]
    return Rendered("\n".join(parts), f"exception {type(obj).__name__}")
