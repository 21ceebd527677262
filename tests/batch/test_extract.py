"""``df.llm.extract`` over the emulator: one column per field with the dtype the field's type
implies, input order kept, each failed row's error kept while the others fill, and a
``Literal`` schema as a one-line classifier."""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Literal

import pandas as pd
import pytest
from pydantic import BaseModel

import orchestify_nb.batch  # noqa: F401 (registers df.llm)
from orchestify_nb.batch.result import BatchInputError
from orchestify_nb.providers.openai_provider import OpenAIProvider
from orchestify_nb.testing import LLMEmulator, Reply


class Currency(Enum):
    EUR = "EUR"
    USD = "USD"


class Invoice(BaseModel):
    vendor: str
    total: float
    items: int
    paid: bool
    issued: datetime
    currency: Currency
    kind: Literal["goods", "services"]
    lines: list[str]
    note: str | None = None


def invoice_json(n: int) -> str:
    return json.dumps(
        {
            "vendor": f"Vendor {n}",
            "total": n + 0.5,
            "items": n,
            "paid": n % 2 == 0,
            "issued": f"2026-01-{n % 28 + 1:02d}T10:00:00Z",
            "currency": "EUR" if n % 3 else "USD",
            "kind": "goods" if n % 2 else "services",
            "lines": [f"line {n}"],
            "note": None,
        }
    )


def test_200_rows_get_typed_columns_in_order_and_failed_rows_keep_their_errors(
    openai: OpenAIProvider, llm_emulator: LLMEmulator
) -> None:
    frame = pd.DataFrame({"text": [f"invoice {n}" for n in range(200)]})
    broken = {7, 150}  # these rows answer twice with something that is not an Invoice
    for n in range(200):
        if n in broken:
            llm_emulator.enqueue(Reply(text='{"vendor": 1}'), Reply(text="still not"))
        else:
            llm_emulator.enqueue(Reply(text=invoice_json(n)))

    result = frame.llm.extract(
        "Extract: {text}", schema=Invoice, provider=openai, concurrency=1, progress=False
    )

    dtypes = {column: str(result[column].dtype) for column in Invoice.model_fields}
    assert dtypes == {
        "vendor": "string",
        "total": "float64",
        "items": "Int64",
        "paid": "boolean",
        "issued": "datetime64[ns, UTC]",
        "currency": "category",
        "kind": "category",
        "lines": "object",
        "note": "string",
    }
    ok = result.drop(index=sorted(broken))
    assert list(ok["vendor"]) == [f"Vendor {n}" for n in range(200) if n not in broken]
    assert list(result["currency"].cat.categories) == ["EUR", "USD"]
    assert result.loc[4, "lines"] == ["line 4"] and result.loc[4, "paid"]
    for n in broken:
        assert result.loc[n, "extracted_status"] == "error"
        assert "does not fit Invoice" in result.loc[n, "extracted_error"]
        assert pd.isna(result.loc[n, "vendor"]) and pd.isna(result.loc[n, "total"])
    assert (result["extracted_status"] == "ok").sum() == 198


def test_a_literal_schema_is_a_one_line_classifier(
    openai: OpenAIProvider, llm_emulator: LLMEmulator
) -> None:
    reviews = pd.DataFrame({"review": ["Loved it", "Broke in a week", "Fine"]})
    for label in ("pos", "neg", "neutral"):
        llm_emulator.enqueue(Reply(text=json.dumps({"value": label})))

    reviews.llm.extract(
        "Sentiment of: {review}",
        schema=Literal["pos", "neg", "neutral"],
        out="sentiment",
        provider=openai,
        concurrency=1,
        progress=False,
    )

    assert list(reviews["sentiment"]) == ["pos", "neg", "neutral"]
    assert str(reviews["sentiment"].dtype) == "category"


def test_a_field_that_would_overwrite_an_input_column_is_refused(openai: OpenAIProvider) -> None:
    frame = pd.DataFrame({"vendor": ["x"]})

    with pytest.raises(BatchInputError, match="vendor would overwrite"):
        frame.llm.extract("{vendor}", schema=Invoice, provider=openai, progress=False)
