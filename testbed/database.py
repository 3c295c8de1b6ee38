"""The database that real server processes share: `manage.py` in a child process, and a live
database migrated and seeded with the demo accounts."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from testbed.environment import base_environment
from testbed.processes import ROOT


def manage(env: dict[str, str], *arguments: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run `manage.py arguments` in a child process; RuntimeError with its output if it fails."""
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def migrate_and_seed(env: dict[str, str], size: int, timeout: float = 300) -> str:
    """Apply the migrations and run `seed_demo --size size` (idempotent); seed_demo's output."""
    manage(env, "migrate", "--noinput", timeout=timeout)
    return manage(env, "seed_demo", "--size", str(size), timeout=timeout).stdout


def psycopg_url(url: str) -> str:
    """psycopg knows only the postgresql:// spelling of a URL that Django also accepts as postgres://."""
    return url.replace("postgres://", "postgresql://", 1)


class LiveDatabase:
    """A database of its own, migrated and seeded with the demo accounts.

    With DATABASE_URL set to PostgreSQL it is a fresh database on that server, dropped afterwards;
    otherwise a SQLite file in `tmp_dir`.
    """

    def __init__(self, tmp_dir: Path) -> None:
        configured = os.environ.get("DATABASE_URL", "")
        self.admin_url: str | None = None
        if configured.startswith(("postgres://", "postgresql://")):
            parts = urlsplit(configured)
            self.name = f"live_{uuid.uuid4().hex[:12]}"
            # CREATE/DROP DATABASE from the server's maintenance database, which always exists.
            self.admin_url = urlunsplit(parts._replace(path="/postgres"))
            self.url = urlunsplit(parts._replace(path=f"/{self.name}"))
        else:
            self.name = "live.sqlite3"
            self.url = f"sqlite:///{tmp_dir / self.name}"

    @property
    def vendor(self) -> str:
        return "postgresql" if self.admin_url else "sqlite"

    def _admin(self, statement: str) -> None:
        import psycopg

        assert self.admin_url is not None
        with psycopg.connect(psycopg_url(self.admin_url), autocommit=True) as connection:
            connection.execute(statement.encode())

    def create(self) -> None:
        if self.admin_url:
            self._admin(f'CREATE DATABASE "{self.name}"')
        migrate_and_seed(base_environment(DATABASE_URL=self.url), size=200)

    def drop(self) -> None:
        if self.admin_url:
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
