"""The kernel as context: objects rendered for a model, within a token budget you can see.

``render(obj, budget=...)`` is the one way a notebook object becomes prompt text (``@{df}`` in a
cell goes through it). In order it uses the object's own ``_repr_llm_()``, an adapter registered
with ``register(type, fn)``, then the built-in adapters (pandas DataFrame/Series, polars, numpy
arrays, matplotlib figures and PIL images as image parts, exceptions, files by path: text,
images, PDFs as document parts), else ``str()``. Every result says how many tokens it takes
(the same estimator as the batch estimate) and what was cut to stay within the budget.
"""

from orchestify_nb.context.rendering import (
    DEFAULT_BUDGET,
    ContextItem,
    Rendered,
    register,
    render,
)

__all__ = ["DEFAULT_BUDGET", "ContextItem", "Rendered", "register", "render"]
