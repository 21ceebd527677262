"""The ledger's layers: everything above the storage interface reaches rows only through it, so the
sealed blocks stay the SQLite store's own optimisation and a PostgreSQL store can take its place."""

from __future__ import annotations

import ast
from pathlib import Path

import orchestify_nb.usage

USAGE = Path(orchestify_nb.usage.__file__).parent
#: The SQLite store and what only it may use.
SQLITE_SIDE = {"store", "sqlite_reads", "blocks", "scan", "schema"}
#: Everything above the storage interface.
ABOVE = ["ledger", "budgets", "frames", "columns", "reports", "plots", "periods", "reservations"]


def usage_imports(module: str) -> set[str]:
    """The ``orchestify_nb.usage`` submodules a module imports (at any depth in its code)."""
    tree = ast.parse((USAGE / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            if name.startswith("orchestify_nb.usage."):
                found.add(name.split(".")[2])
    return found


def test_nothing_above_the_storage_interface_reaches_the_sqlite_side() -> None:
    reaching = {
        module: sorted(usage_imports(module) & SQLITE_SIDE)
        for module in ABOVE
        if usage_imports(module) & SQLITE_SIDE
    }

    # A Ledger given a path or URL opens its store through ``locations.open_store``.
    assert reaching == {}


def test_the_sqlite_store_implements_every_method_of_the_interface(tmp_path: Path) -> None:
    from orchestify_nb.usage.storage import LedgerStorage
    from orchestify_nb.usage.store import SQLiteStore

    store = SQLiteStore(tmp_path / "ledger.sqlite3")
    wanted = {
        name
        for name in (*vars(LedgerStorage), *LedgerStorage.__annotations__)
        if not name.startswith("_")
    }
    try:
        assert wanted and all(hasattr(store, name) for name in wanted), wanted
        assert store.schema_version() >= 3
    finally:
        store.close()


def test_a_ledger_runs_on_a_storage_it_is_given(tmp_path: Path) -> None:
    from orchestify_nb.usage.ledger import Ledger
    from orchestify_nb.usage.store import SQLiteStore
    from tests.usage.conftest import make_record

    storage = SQLiteStore(tmp_path / "given.sqlite3")
    with Ledger(storage=storage) as ledger:
        ledger.record(make_record(cost_usd=0.25))
        assert ledger.path == str(tmp_path / "given.sqlite3")
        assert ledger.totals().total_cost_usd == 0.25
