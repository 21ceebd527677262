"""A throwaway real PostgreSQL server for tests: ``initdb`` + ``pg_ctl`` into a temp directory.

The team ledger is tested against the real database (no mock): Debian's ``postgresql`` package
(``make postgresql`` installs it) provides the binaries. The server listens on a free loopback
port, trusts local connections for the superuser and asks a password of ``ledger_user`` (so the
tests can prove the password never leaks). As root, ``initdb`` and ``postgres`` refuse to run,
so they run as the ``postgres`` system user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import pytest

#: The role the ledger connects as, with a password the tests look for in every output.
LEDGER_USER = "ledger_user"
LEDGER_PASSWORD = "s3cret-Pg-passw0rd-zq"
DATABASE = "team"


def _bin(name: str) -> str:
    """``name`` from PATH, else from the newest ``/usr/lib/postgresql/*/bin``."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not candidates:
        raise RuntimeError(
            f"PostgreSQL's {name} is not installed; run `make postgresql` "
            "(apt-get install -y postgresql) to run the team-ledger tests"
        )
    return str(candidates[-1])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster in a temp directory; ``start()``/``stop()`` may be called again
    (the outage test stops the server mid-run and starts it on the same port)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="orchestify-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    @property
    def url(self) -> str:
        """The ledger's URL, password included (what a user writes in the config)."""
        return f"postgresql://{LEDGER_USER}:{LEDGER_PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str) -> None:
        command = list(args)
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, cwd=self.root, timeout=120)

    def init(self) -> None:
        self._run(
            _bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        hba = self.data / "pg_hba.conf"
        hba.write_text(
            f"host all {LEDGER_USER} 127.0.0.1/32 scram-sha-256\n"
            "host all postgres 127.0.0.1/32 trust\n"
            "local all postgres trust\n"
        )

    def start(self) -> None:
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=100 -c shared_buffers=64MB"
        )
        self._run(
            _bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "-l",
            str(self.root / "server.log"),
            "start",
        )

    def stop(self) -> None:
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def create_ledger_role(self) -> None:
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as connection:
            connection.execute(f"CREATE ROLE {LEDGER_USER} LOGIN PASSWORD '{LEDGER_PASSWORD}'")
            connection.execute(f"CREATE DATABASE {DATABASE} OWNER {LEDGER_USER}")

    def reset(self) -> None:
        """An empty database again (the tests share one server, started once)."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute("DROP SCHEMA IF EXISTS orchestify CASCADE")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        self.init()
        self.start()
        self.create_ledger_role()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A running PostgreSQL for the whole test session (starting one takes ~1 s)."""
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres(
    postgres_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PostgresServer]:
    """The session's PostgreSQL with an empty ledger schema, running (restarted if a test
    stopped it); the outage spool goes to the test's own folder (``ORCHESTIFY_SPOOL_DIR``)."""
    monkeypatch.setenv("ORCHESTIFY_SPOOL_DIR", str(tmp_path / "spool"))
    try:
        postgres_server.reset()
    except Exception:
        postgres_server.start()
        postgres_server.reset()
    yield postgres_server
