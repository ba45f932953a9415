"""A throwaway PostgreSQL server for the tests: initdb into a temporary folder, pg_ctl on a loopback port.

The machine's own binaries (PATH, then Debian's /usr/lib/postgresql/*/bin, newest first); as root,
initdb and postgres refuse to run, so they run as the `postgres` user in a folder that user owns.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

# CI sets it: a missing PostgreSQL is then a failure, never a silent skip.
REQUIRE_ENV = "ATTENDANCE_REQUIRE_POSTGRES"
USER = "postgres"  # the superuser initdb makes (and, as root, the system user the server runs as)
_DEBIAN_BINS = Path("/usr/lib/postgresql")
_START_TIMEOUT = 60


class PostgresUnavailable(Exception):
    """No PostgreSQL here to test against; str() says what is missing."""


def required() -> bool:
    """Whether the environment says a missing PostgreSQL must fail the run (CI)."""
    return os.environ.get(REQUIRE_ENV, "").strip() not in ("", "0")


def find_bindir() -> Path | None:
    """The folder holding pg_ctl, initdb and postgres: PATH first, then /usr/lib/postgresql/*/bin, newest first."""
    on_path = shutil.which("pg_ctl")
    if on_path and shutil.which("initdb"):
        return Path(on_path).resolve().parent
    versions = []
    if _DEBIAN_BINS.is_dir():
        for bindir in _DEBIAN_BINS.glob("*/bin"):
            if (bindir / "pg_ctl").is_file() and (bindir / "initdb").is_file():
                number = re.match(r"\d+", bindir.parent.name)
                versions.append((int(number.group()) if number else 0, bindir))
    return max(versions)[1] if versions else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, reachable on 127.0.0.1:`port` as `postgres` with
    trust authentication; its Unix socket lives in the same folder."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.folder = Path(tempfile.mkdtemp(prefix="attendance-pg-"))
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = _free_port()
        self.running = False
        self._removed = False
        if self.as_root:
            try:
                entry = pwd.getpwnam(USER)
            except KeyError as exc:
                shutil.rmtree(self.folder, ignore_errors=True)
                raise PostgresUnavailable(
                    f"running as root and there is no {USER!r} user to run PostgreSQL as"
                ) from exc
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        atexit.register(self.cleanup)

    # -- control ----------------------------------------------------------------------------

    def _run(self, program: str, *args: str, timeout: float = _START_TIMEOUT + 15) -> None:
        command = [str(self.bindir / program), *args]
        if self.as_root:
            command = ["runuser", "-u", USER, "--", *command]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise RuntimeError(
                f"{program} {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        try:
            return "\n--- server log ---\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-30:])
        except OSError:
            return ""

    def init(self) -> PostgresServer:
        """initdb: trust on the Unix socket and loopback only, UTF-8 with code-point ordering (like
        SQLite); the C.UTF-8 locale (Unicode upper and lower case), else plain C where it is missing."""
        for locale in ("C.UTF-8", "C"):
            try:
                self._run(
                    "initdb", "-D", str(self.data), "-U", USER, "--auth-local=trust", "--auth-host=trust",
                    "--encoding=UTF8", f"--locale={locale}", "--no-sync",
                )  # fmt: skip
                break
            except RuntimeError:
                if locale == "C":
                    raise
                shutil.rmtree(self.data, ignore_errors=True)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.folder}'",
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "log_min_messages": "warning",
        }
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# tests/_postgres.py\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        return self

    def start(self) -> None:
        """Start (or start again, on the same port with the same data) and wait until it accepts connections."""
        if self.running:
            return
        self._run(
            "pg_ctl", "start", "-w", "-t", str(_START_TIMEOUT), "-D", str(self.data), "-l", str(self.log),
            "-o", f"-p {self.port}",
        )  # fmt: skip
        self.running = True

    def stop(self) -> None:
        """Stop at once (no checkpoint: the data is throwaway, and a restart recovers it)."""
        if not self.running:
            return
        self.running = False
        self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data))

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        """Stop the server whatever state it is in and remove its folder (atexit guard; safe to repeat)."""
        if self._removed:
            return
        try:
            self.stop()
        except Exception:  # best effort at exit: the folder goes anyway
            pass
        self._removed = True
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- databases --------------------------------------------------------------------------

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{dbname}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def create_database(self, prefix: str = "test") -> str:
        """A new empty database (a copy of template0) named `prefix` plus a random suffix; its URL."""
        name = f"{re.sub(r'[^a-z0-9_]', '_', prefix.lower())[:40]}_{uuid.uuid4().hex[:12]}"
        self._admin(f'CREATE DATABASE "{name}" TEMPLATE template0 STRATEGY FILE_COPY')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Drop the database a URL names, ending any connection still open to it."""
        name = url.rsplit("/", 1)[1].split("?", 1)[0]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# What a test may have changed besides rows: tables, columns, indexes, triggers, functions.
_FINGERPRINT = """
SELECT md5(concat_ws('|',
  (SELECT string_agg(table_name || '.' || column_name || ':' || data_type || ':' || coalesce(column_default, ''),
                     ',' ORDER BY table_name, ordinal_position)
     FROM information_schema.columns WHERE table_schema = 'public'),
  (SELECT string_agg(indexdef, ',' ORDER BY indexdef) FROM pg_indexes WHERE schemaname = 'public'),
  (SELECT string_agg(tgname, ',' ORDER BY tgname) FROM pg_trigger WHERE NOT tgisinternal),
  (SELECT string_agg(p.proname, ',' ORDER BY p.proname)
     FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public')))
"""


class ReusedDatabase:
    """A database with the schema for one test at a time, emptied after each (TRUNCATE ... RESTART
    IDENTITY: about 0.05 s against 0.2 s for CREATE DATABASE plus the migrations, measured here).

    A test that changed more than rows (a trigger, a function, a column) leaves it dropped instead,
    and the next test gets a new one, so every test starts from the same empty schema.
    """

    def __init__(self, server: PostgresServer, prepare: Callable[[str], None], keep: set[str]) -> None:
        self.server = server
        self.prepare = prepare  # makes the schema in a new database (init_db, then closes it)
        self.keep = keep  # tables whose rows are part of the schema (the migration history)
        self.url: str | None = None
        self.fingerprint = ""

    def take(self) -> str:
        if self.url is None:
            url = self.server.create_database("t")
            self.prepare(url)
            self.fingerprint = self._fingerprint(url)
            self.url = url
        return self.url

    def _fingerprint(self, url: str) -> str:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(_FINGERPRINT).fetchone()
        return str(row[0]) if row else ""

    def give_back(self) -> None:
        """Empty the database for the next test, or drop it when the test changed its schema."""
        import psycopg

        url, self.url = self.url, None
        if url is None or not self.server.running:
            return
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("SET lock_timeout = '5s'")
                row = conn.execute(_FINGERPRINT).fetchone()
                if row is not None and str(row[0]) == self.fingerprint:
                    tables = [
                        name
                        for (name,) in conn.execute(
                            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
                        ).fetchall()
                        if name not in self.keep
                    ]
                    if tables:
                        listed = ", ".join(f'"{table}"' for table in tables)
                        conn.execute(f"TRUNCATE {listed} RESTART IDENTITY CASCADE")
                    self.url = url
                    return
        except psycopg.Error:
            pass
        self.server.drop_database(url)


def start_server() -> PostgresServer:
    """A running throwaway server, or PostgresUnavailable naming what is missing."""
    try:
        import psycopg  # noqa: F401 - checked here so the reason names it
    except ImportError as exc:
        raise PostgresUnavailable("psycopg (PostgreSQL's Python driver) is not installed") from exc
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            f"PostgreSQL's pg_ctl and initdb are not on PATH nor in {_DEBIAN_BINS}/*/bin "
            "(install the Debian package postgresql)"
        )
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        raise PostgresUnavailable("running as root and runuser (to run PostgreSQL as its own user) is missing")
    server = PostgresServer(bindir)
    try:
        server.init()
        server.start()
    except BaseException:
        server.cleanup()
        raise
    return server
