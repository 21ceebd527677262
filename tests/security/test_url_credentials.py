"""A base_url can carry credentials (``user:pass@host``, ``?api-key=``): repr, ``%llm providers``
rows and error text show the URL without them."""

from __future__ import annotations

import pytest

from orchestify_nb import OpenAIProvider, ProviderError
from orchestify_nb.registry import ProviderRegistry

URL = "https://svc-user:HUNTER2-PASSWORD@gateway.example/v1?api-key=QUERYKEY-123456"


def test_provider_repr_masks_credentials_in_base_url() -> None:
    provider = OpenAIProvider(provider_id="gw", base_url=URL, default_model="gpt-4o")
    shown = repr(provider)
    assert "gateway.example/v1" in shown
    assert "HUNTER2-PASSWORD" not in shown
    assert "QUERYKEY-123456" not in shown


def test_provider_rows_mask_credentials_in_base_url() -> None:
    registry = ProviderRegistry()
    registry.register("gw", OpenAIProvider(provider_id="gw", base_url=URL, default_model="gpt-4o"))
    rows = str([info.as_row() for info in registry.describe()])
    assert "gateway.example" in rows
    assert "HUNTER2-PASSWORD" not in rows
    assert "QUERYKEY-123456" not in rows


@pytest.mark.parametrize("secret", ["HUNTER2-PASSWORD", "QUERYKEY-123456"])
def test_errors_echoing_the_url_are_scrubbed(secret: str) -> None:
    provider = OpenAIProvider(provider_id="gw", base_url=URL, default_model="gpt-4o")
    error = provider._translate(RuntimeError(f"could not reach {URL}"))
    assert isinstance(error, ProviderError)
    assert secret not in str(error)
