"""`manage.py check` with DATABASE_URL: it connects, reads without changing anything, and says in one
line what is wrong (server down, authentication failed, database missing), never the password."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from _backends import fetch
from _postgres import PostgresServer
from _shell import run_shell

from attendance_bot import messages, migrations
from attendance_bot.models import _postgres, close_all, database, init_db
from attendance_bot.settings import shown_url
from attendance_bot.shell.entry import main

PASSWORD = "s3cret-Pa55"
TOKEN = "A" * 24 + "." + "B" * 6 + "." + "C" * 27


def check(url: str) -> tuple[int, str, str]:
    done = run_shell("check", environ={"DATABASE_URL": url, "DISCORD_BOT_TOKEN": TOKEN}, env_file="/dev/null")
    return done.returncode, done.out, done.err


def with_password(url: str, user: str = "postgres", password: str = PASSWORD) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://{user}:{password}@")


def one_error(status: int, out: str, err: str) -> str:
    """The single error line of a failed check (nothing on stdout), without its `Error: `."""
    assert status == 1 and out == "", out
    assert err.startswith("Error: ") and err.count("\n") == 1, err
    assert PASSWORD not in out + err
    return err.removeprefix("Error: ").rstrip("\n")


def tables(url: str) -> int:
    return int(fetch(url, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'")[0][0])


@pytest.fixture
def pg(postgres: PostgresServer) -> Iterator[str]:
    url = postgres.create_database("check")
    try:
        yield url
    finally:
        close_all()
        postgres.drop_database(url)


def test_a_database_with_the_schema_reports_its_version(pg: str) -> None:
    """The latest schema: OK, the version, the sessions; the URL shown with *** for the password."""
    init_db(pg)
    close_all()
    url = with_password(pg)
    status, out, err = check(url)
    assert status == 0, err
    assert f"Database OK: {shown_url(url)} (0 session(s))" in out.splitlines()
    assert f"  schema version:     {migrations.latest()} (the latest)" in out.splitlines()
    assert PASSWORD not in out + err


def test_an_empty_database_is_reported_and_left_empty(pg: str) -> None:
    """A database just made with createdb: OK, no tables yet, and check made none (read-only)."""
    status, out, err = check(pg)
    assert status == 0, err
    assert f"Database OK: {pg} (empty: no tables yet)" in out.splitlines()
    assert f"  schema version:     {messages.postgres_empty_schema()}" in out.splitlines()
    assert tables(pg) == 0


def test_an_older_schema_is_reported_not_upgraded(pg: str) -> None:
    """A database at step 2: check names the pending upgrade and leaves it at step 2."""
    database.initialize(_postgres(pg))
    try:
        migrations._runner().up("0002_courses")  # the steps up to 2, as the release before made them
    finally:
        close_all()
    status, out, err = check(pg)
    assert status == 0, err
    assert f"  schema version:     {messages.upgrade_pending(2, migrations.latest())}" in out.splitlines()
    assert fetch(pg, f'SELECT COUNT(*) FROM "{migrations.HISTORY_TABLE}"') == [(2,)]


def test_a_stopped_server_is_one_line(pg: str, postgres: PostgresServer) -> None:
    postgres.stop()
    try:
        line = one_error(*check(with_password(pg)))
    finally:
        postgres.start()
    assert line == messages.postgres_unreachable(
        shown_url(with_password(pg)),
        "the server is not reachable: is PostgreSQL running, and are the host and port right?",
    )


def test_a_missing_database_is_one_line(postgres: PostgresServer) -> None:
    url = with_password(postgres.url("no_such_database"))
    line = one_error(*check(url))
    assert line == messages.postgres_unreachable(
        shown_url(url), "the database does not exist: create it (createdb) or fix its name in DATABASE_URL"
    )


def test_a_user_the_server_does_not_know_fails_authentication(postgres: PostgresServer) -> None:
    url = with_password(postgres.url(), user="nobody_here")
    line = one_error(*check(url))
    assert line.startswith(f"Cannot use the PostgreSQL database {shown_url(url)}: authentication failed")


@contextmanager
def password_required(postgres: PostgresServer, user: str, password: str) -> Iterator[None]:
    """A login role whose password the server checks (scram-sha-256 on loopback; the test server
    trusts everyone else), for as long as the block runs."""
    hba = Path(postgres.data) / "pg_hba.conf"
    original = hba.read_text()
    admin = postgres.url()
    with _admin(admin) as con:
        con.execute(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
    hba.write_text(f"host all {user} 127.0.0.1/32 scram-sha-256\n{original}")
    try:
        with _admin(admin) as con:
            con.execute("SELECT pg_reload_conf()")
        yield
    finally:
        hba.write_text(original)
        with _admin(admin) as con:
            con.execute("SELECT pg_reload_conf()")
            con.execute(f"DROP ROLE {user}")


@contextmanager
def _admin(url: str) -> Iterator[object]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as con:
        yield con


def test_a_wrong_password_fails_authentication_without_showing_it(pg: str, postgres: PostgresServer) -> None:
    """The right password passes; a wrong one is one line saying authentication failed, neither shown."""
    with password_required(postgres, "checker", "right-Pa55"):
        right = pg.replace("postgresql://postgres@", "postgresql://checker:right-Pa55@")
        status, out, err = check(right)
        assert status == 0, err
        assert "right-Pa55" not in out + err
        line = one_error(*check(with_password(pg, user="checker")))
    assert line == messages.postgres_unreachable(
        shown_url(with_password(pg, user="checker")),
        "authentication failed: check the user and password in DATABASE_URL",
    )


# Secrets in DATABASE_URL in every form a user may write them; none of the pieces may ever be shown.
SECRET_PIECES = ("Hid3", "Secr3t")
NOWHERE = "127.0.0.1:1"  # nothing listens on port 1: connection refused at once
SECRET_URLS = [
    f"postgresql://attendance:Hid3-Secr3t@{NOWHERE}/attendance",
    f"postgresql://attendance@{NOWHERE}/attendance?password=Hid3-Secr3t",
    f"postgresql://attendance@{NOWHERE}/attendance?sslmode=prefer&sslpassword=Hid3-Secr3t",
    f"postgresql://attendance@{NOWHERE}/attendance?PASSWORD=Hid3-Secr3t",
    f"postgres://attendance@{NOWHERE}/attendance?application_name=x&SslPassword=Hid3-Secr3t",
    f"postgresql://attendance@{NOWHERE}/attendance?pass%77ord=Hid3-Secr3t",
    f"postgresql://attendance:Hid3%2FSecr3t@{NOWHERE}/attendance",
    f"postgresql://attendance:Hid3/Secr3t@{NOWHERE}/attendance",
    f"postgresql://attendance:Hid3@Secr3t@{NOWHERE}/attendance",
    f"postgresql://attendance:Hid3#Secr3t@{NOWHERE}/attendance",
    f"postgresql://attendance:Hid3?Secr3t@{NOWHERE}/attendance",
    f"postgresql://attendance:4321/Hid3Secr3t@{NOWHERE}/attendance",
    "postgresql://attendance:Hid3-Secr3t@/attendance",
    "postgresql://attendance:Hid3-Secr3t@127.0.0.1:0/attendance",
    "postgresql://attendance:Hid3-Secr3t@127.0.0.1:port/attendance",
]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for piece in SECRET_PIECES:
            assert piece not in text, text


@pytest.mark.parametrize("url", SECRET_URLS)
def test_check_never_shows_a_password_in_any_form(url: str) -> None:
    """`check` on a URL whose server is down or that does not parse: an error, the password in no form shown."""
    status, out, err = check(url)
    assert status == 1 and err.startswith("Error: "), err
    assert_no_secret(out, err)


@pytest.mark.parametrize("url", SECRET_URLS)
def test_copy_db_never_shows_a_password_in_any_form(url: str, tmp_path: Path) -> None:
    """copy-db from such a URL (configured) or into it (--to): an error, the password in no form shown."""
    source = tmp_path / "source.db"
    init_db(source)
    close_all()
    for args, environ in (
        (["copy-db", "--to", url], {"DATABASE_PATH": str(source)}),
        (["copy-db", "--to", f"sqlite:///{tmp_path / 'copy.db'}"], {"DATABASE_URL": url}),
    ):
        out, err = io.StringIO(), io.StringIO()
        status = main(["--env-file", "/dev/null", *args], stdout=out, stderr=err, environ=environ)
        assert status == 1 and err.getvalue().startswith("Error: "), err.getvalue()
        assert_no_secret(out.getvalue(), err.getvalue())
