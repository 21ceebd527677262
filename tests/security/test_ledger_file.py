"""The usage ledger is a file on disk that outlives the notebook: after successful, failed and
interrupted calls through every backend, none of its bytes (database, WAL, exports) is a key."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import aclosing
from pathlib import Path

import pytest

from orchestify_nb.errors import ProviderError
from orchestify_nb.testing import Fault, LLMEmulator, Reply
from orchestify_nb.usage import LEDGER_ENV, set_default_ledger
from orchestify_nb.usage.ledger import Ledger
from tests.security.conftest import RegistryFactory
from tests.security.leaks import BACKENDS, FakeKeys, assert_no_key


@pytest.fixture
def file_ledger() -> Iterator[Ledger]:
    """The default ledger as a real file, at the per-test ``ORCHESTIFY_LEDGER`` path."""
    ledger = Ledger(os.environ[LEDGER_ENV])
    set_default_ledger(ledger)
    yield ledger
    ledger.close()


def ledger_bytes(path: Path) -> dict[str, bytes]:
    """The database and every SQLite side file next to it."""
    return {
        candidate.name: candidate.read_bytes()
        for candidate in path.parent.iterdir()
        if candidate.name.startswith(path.name)
    }


async def test_ledger_file_holds_no_key_after_ok_failed_and_cancelled_calls(
    keys: FakeKeys,
    llm_emulator: LLMEmulator,
    make_registry: RegistryFactory,
    file_ledger: Ledger,
    tmp_path: Path,
) -> None:
    registry = make_registry()
    for backend in BACKENDS:
        provider = registry.get(backend.provider_id)
        await provider.complete("fine")
        llm_emulator.enqueue(Fault.unauthorized())
        with pytest.raises(ProviderError):
            await provider.complete("rejected")
        llm_emulator.enqueue(Reply(text="a long answer in many pieces", chunk_chars=2))
        async with aclosing(provider.stream("stopped early")) as events:
            async for _event in events:
                break  # closing the stream records the call as cancelled

    file_ledger.flush()
    statuses = sorted({record.status for record in file_ledger.records()})
    assert statuses == ["cancelled", "error", "ok"] and len(file_ledger) == 3 * len(BACKENDS)
    exports = {
        "to_csv": file_ledger.to_csv(tmp_path / "usage.csv").read_bytes(),
        "to_parquet": file_ledger.to_parquet(tmp_path / "usage.parquet").read_bytes(),
    }
    path = Path(file_ledger.path)
    on_disk = ledger_bytes(path)
    file_ledger.close()
    on_disk.update({f"{name} (closed)": data for name, data in ledger_bytes(path).items()})

    assert path.name in on_disk
    for name, data in {**on_disk, **exports}.items():
        assert_no_key(data, keys.all, f"ledger file {name}")
