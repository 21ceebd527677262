"""``orchestify_nb.context.render``: objects described for a model within a token budget, the
cut said; ``_repr_llm_`` first, then registered adapters, then the built-in ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orchestify_nb.context import register, render
from orchestify_nb.context.rendering import _registered, count_tokens


@pytest.fixture(scope="module")
def big_frame() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = 1_000_000
    columns: dict[str, object] = {f"metric_{i}": rng.normal(size=rows) for i in range(20)}
    columns |= {f"group_{i}": pd.Categorical(rng.choice(["a", "b"], rows)) for i in range(5)}
    columns |= {f"comment_{i}": rng.choice(["fine", "late", None], rows) for i in range(5)}
    return pd.DataFrame(columns)


def test_a_million_row_frame_fits_its_budget_lists_every_column_and_says_what_was_cut(
    big_frame: pd.DataFrame,
) -> None:
    shown = render(big_frame, budget=3000)

    assert shown.tokens <= 3000 and count_tokens(shown.text) == shown.tokens
    assert shown.text.startswith("DataFrame with 1,000,000 rows and 30 columns.")
    for name, dtype in big_frame.dtypes.items():
        assert f"- {name}: {dtype}" in shown.text
    assert "nulls" in shown.text  # the comment columns have missing values
    assert shown.cut and "rows shown" in shown.cut
    assert "of a 20,000-row sample" in shown.text


def test_a_tight_budget_cuts_rows_then_statistics_then_columns_and_says_so(
    big_frame: pd.DataFrame,
) -> None:
    shown = render(big_frame, budget=150)

    assert shown.tokens <= 150
    assert "more columns" in shown.text and any("columns listed" in cut for cut in shown.cut)
    assert "describe()" in shown.cut


def test_an_objects_own_repr_llm_is_used() -> None:
    class Model:
        def _repr_llm_(self, budget: int) -> str:
            return f"a churn model, trained on 2026 data (budget {budget})"

    shown = render(Model(), budget=300)

    assert shown.text == "a churn model, trained on 2026 data (budget 300)"
    assert shown.kind == "Model (its _repr_llm_)"


def test_a_registered_adapter_wins_over_the_built_in_one() -> None:
    register(pd.DataFrame, lambda frame, budget: f"{len(frame)} rows, house style")
    try:
        shown = render(pd.DataFrame({"a": [1, 2]}))
    finally:
        del _registered[pd.DataFrame]

    assert shown.text == "2 rows, house style"


def test_arrays_give_shape_dtype_statistics_and_a_corner() -> None:
    shown = render(np.arange(100, dtype=float).reshape(10, 10))

    assert "shape (10, 10), dtype float64, 100 values" in shown.text
    assert "min 0, max 99, mean 49.5" in shown.text


def test_an_exception_lists_the_notebooks_frames_first() -> None:
    try:
        {"a": 1}["b"]
    except KeyError as error:
        shown = render(error)

    assert shown.text.startswith("KeyError: 'b'")
    assert shown.kind == "exception KeyError"


def test_long_text_is_cut_to_the_budget_and_the_cut_is_said() -> None:
    shown = render("word " * 5000, budget=100)

    assert shown.tokens <= 100 and shown.text.endswith("[... cut to fit 100 tokens]")
    assert shown.cut and shown.cut[0].startswith("text after")
