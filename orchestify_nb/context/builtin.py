"""Which built-in adapter renders an object (checked by module name, so nothing heavy is
imported to ask: a pandas frame is only looked at when pandas made it)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestify_nb.context.rendering import Adapter


def builtin_adapter(obj: Any) -> Adapter | None:
    module = type(obj).__module__.split(".", 1)[0]
    name = type(obj).__name__
    if module == "pandas" and name in ("DataFrame", "Series"):
        from orchestify_nb.context.frames import render_frame

        return render_frame
    if module == "polars" and name == "DataFrame":
        from orchestify_nb.context.frames import render_polars

        return render_polars
    if module == "numpy" and name == "ndarray":
        from orchestify_nb.context.arrays import render_array

        return render_array
    if module == "matplotlib" and name in ("Figure", "Axes", "SubFigure"):
        from orchestify_nb.context.media import render_figure

        return render_figure
    if module == "PIL" and hasattr(obj, "save") and hasattr(obj, "size"):
        from orchestify_nb.context.media import render_pil

        return render_pil
    if isinstance(obj, BaseException):
        from orchestify_nb.context.exceptions import render_exception

        return render_exception
    if isinstance(obj, Path):
        from orchestify_nb.context.files import render_file

        return render_file
    return None
