"""A PostgreSQL server for the benchmark: a fresh database for each bot run (CREATE DATABASE with
the bench's prefix), dropped afterwards unless --keep."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from ..settings import shown_url

PREFIX = "attendance_bench_"  # every database the bench makes starts with it
MAINTENANCE_DB = "postgres"  # where CREATE/DROP DATABASE run when the URL names no database


class BenchPostgres:
    """The server `--postgres URL` names. Its database part (if any) is only where CREATE and DROP
    DATABASE run; each run of our bot gets a new database of its own on that server."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("postgresql", "postgres") or not parts.hostname:
            raise ValueError(
                f"--postgres takes a server URL such as postgresql://user@127.0.0.1:5432/postgres, not {shown_url(url)}"
            )
        self._parts = parts
        self.maintenance = parts.path.strip("/") or MAINTENANCE_DB
        self.made: list[str] = []  # the databases made and not dropped yet

    @property
    def shown(self) -> str:
        return shown_url(self.url(self.maintenance))

    def url(self, dbname: str) -> str:
        """The server's URL with `dbname` as its database."""
        return self._parts._replace(path=f"/{dbname}").geturl()

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(self.maintenance), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)  # type: ignore[arg-type]  # a name made here, never user input

    def check(self) -> str:
        """The server's version, or RuntimeError saying in one line why it cannot be used."""
        try:
            import psycopg
        except ImportError as exc:
            raise RuntimeError("--postgres needs psycopg: pip install 'psycopg[binary]>=3.1'") from exc
        try:
            with psycopg.connect(self.url(self.maintenance), autocommit=True, connect_timeout=10) as conn:
                row: Any = conn.execute("SHOW server_version").fetchone()
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RuntimeError(f"--postgres {self.shown}: {first}") from None
        return str(row[0])

    def create(self, label: str) -> str:
        """A new empty database named PREFIX + `label` + a random suffix; its URL."""
        name = f"{PREFIX}{re.sub(r'[^a-z0-9_]', '_', label.lower())[:30]}_{uuid.uuid4().hex[:8]}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
        self.made.append(name)
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop a database this bench made (ending any connection still open to it)."""
        name = urlsplit(url).path.strip("/")
        if name not in self.made:
            raise ValueError(f"{name} was not made by this run")
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.remove(name)

    def drop_all(self) -> None:
        for name in list(self.made):
            self.drop(self.url(name))
