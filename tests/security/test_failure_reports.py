"""Reports that gather many failures into one object a notebook displays: the registry's
connectivity check (one ``ConfigError`` for every provider that failed) and a batch run's rows
and DataFrame (one error message per failed prompt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestify_nb.batch import run_batch
from orchestify_nb.config import load_config
from orchestify_nb.errors import ConfigError
from orchestify_nb.registry import ProviderRegistry
from orchestify_nb.testing import Fault, LLMEmulator
from tests.security.conftest import RegistryFactory
from tests.security.leaks import (
    BACKENDS,
    Backend,
    FakeKeys,
    assert_exception_clean,
    assert_no_key,
    write_config,
)


async def test_connectivity_check_names_every_rejected_provider_without_its_key(
    keys: FakeKeys, llm_emulator: LLMEmulator, tmp_path: Path
) -> None:
    config = load_config(
        write_config(
            tmp_path / "orchestify.yaml",
            anthropic_url=llm_emulator.base_url,
            openai_url=llm_emulator.openai_base_url,
        )
    )
    llm_emulator.enqueue(*[Fault.unauthorized()] * len(BACKENDS))

    with pytest.raises(ConfigError) as caught:
        await ProviderRegistry.from_config(config).validate_connectivity()

    assert all(repr(b.provider_id) in str(caught.value) for b in BACKENDS)
    assert_exception_clean(caught.value, keys.all)


@pytest.mark.parametrize("backend", BACKENDS, ids=[b.provider_id for b in BACKENDS])
async def test_batch_rows_and_dataframe_show_failures_without_the_key(
    backend: Backend, keys: FakeKeys, llm_emulator: LLMEmulator, make_registry: RegistryFactory
) -> None:
    provider = make_registry().get(backend.provider_id)
    llm_emulator.enqueue(Fault.unauthorized(), Fault.http_error(400, "Bad request"))

    result = await run_batch(
        ["one", "two", "three"], provider=provider, concurrency=1, progress=False
    )

    assert result.count("error") == 2 and result.count("ok") == 1
    frame = result.to_dataframe()
    shown = {
        "repr(result)": repr(result),
        "result.summary()": result.summary(),
        "rows": repr(list(result)),
        "DataFrame.to_string()": frame.to_string(),
        "DataFrame.to_html()": frame.to_html(),
        "DataFrame.to_json()": frame.to_json(),
    }
    for where, text in shown.items():
        assert_no_key(text, keys.all, where)
