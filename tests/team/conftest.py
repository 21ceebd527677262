"""The team-ledger tests run against a real PostgreSQL started by ``orchestify_nb.testing``."""

from __future__ import annotations

from orchestify_nb.testing.postgres import postgres, postgres_server

__all__ = ["postgres", "postgres_server"]
