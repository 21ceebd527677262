"""A numpy array: shape, dtype, summary statistics and a corner of it."""

from __future__ import annotations

from typing import Any

from orchestify_nb.context.rendering import Rendered

CORNER = 6


def render_array(obj: Any, budget: int) -> Rendered:
    import numpy as np

    parts = [f"numpy array, shape {obj.shape}, dtype {obj.dtype}, {obj.size:,} values."]
    if obj.size and np.issubdtype(obj.dtype, np.number):
        finite = obj[np.isfinite(obj)] if np.issubdtype(obj.dtype, np.floating) else obj
        if finite.size:
            parts.append(
                f"min {finite.min():.6g}, max {finite.max():.6g}, mean {finite.mean():.6g}, "
                f"std {finite.std():.6g}"
                + (f"; {obj.size - finite.size:,} NaN/inf" if finite.size < obj.size else "")
            )
    corner = obj[tuple(slice(0, CORNER) for _ in range(obj.ndim))] if obj.ndim else obj
    parts.append(f"First values (up to {CORNER} per axis):")
    parts.append(np.array2string(corner, threshold=CORNER**3, max_line_width=120))
    return Rendered("\n".join(parts), "numpy array")
