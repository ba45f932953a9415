"""`manage.py backup`: a private copy of the database made while the bot writes; restored as the README
says, it gives the same exports byte for byte (SQLite and PostgreSQL); --keep prunes this database's
oldest backups and nothing else; a bad folder, a missing database or pg_dump, or a failing pg_dump are
one line each and leave nothing behind."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime, timezone
from pathlib import Path

import pytest
from _postgres import PostgresServer, find_bindir
from _semester import SESSIONS, build_semester
from _shell import ShellResult, run_shell

from attendance_bot import backups, messages
from attendance_bot.messages import quoted
from attendance_bot.settings import Settings

pytestmark = pytest.mark.backends("sqlite", "postgresql")
PASSWORD = "b4ckup-Pa55"  # the test server trusts loopback: any password is accepted, and must never be shown
# A password in each form a DATABASE_URL may hold it (tests/test_check_postgres.py has them all); port 1: refused at once.
SECRET_URLS = [
    "postgresql://attendance:Hid3-Secr3t@127.0.0.1:1/attendance",
    "postgresql://attendance@127.0.0.1:1/attendance?password=Hid3-Secr3t",
    "postgresql://attendance@127.0.0.1:1/attendance?sslmode=prefer&sslpassword=Hid3-Secr3t",
    "postgresql://attendance@127.0.0.1:1/attendance?PASSWORD=Hid3-Secr3t",  # no option libpq knows
    "postgres://attendance@127.0.0.1:1/attendance?application_name=x&SslPassword=Hid3-Secr3t",
    "postgresql://attendance@127.0.0.1:1/attendance?pass%77ord=Hid3-Secr3t",
    "postgresql://attendance:Hid3%2FSecr3t@127.0.0.1:1/attendance",
    "postgresql://attendance:Hid3/Secr3t@127.0.0.1:1/attendance",  # not readable: refused, hidden
]
EXPORTS = (("export",), ("export", "--format", "full"), ("export", "--format", "gradebook"))


def with_password(url: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")


def configured(settings: Settings) -> Path | str:
    """The database as `.env` would name it: the SQLite file, or the PostgreSQL URL with a password."""
    return settings.database_path if settings.database_url is None else with_password(settings.database_url)


def database_env(target: Path | str) -> dict[str, str]:
    """The environment of a shell that uses `target` (PATH kept, for pg_dump)."""
    key = "DATABASE_URL" if isinstance(target, str) else "DATABASE_PATH"
    return {key: str(target), "PATH": os.environ.get("PATH", os.defpath)}


def shell(target: Path | str, *args: str) -> ShellResult:
    return run_shell(*args, environ=database_env(target), env_file="/dev/null")


def exports(target: Path | str) -> list[bytes]:
    """The course's CSV in every export format, as `manage.py export` writes them."""
    found = []
    for args in EXPORTS:
        done = shell(target, *args)
        assert done.returncode == 0, done.err
        found.append(done.stdout)
    return found


def written(done: ShellResult) -> Path:
    """The backup `manage.py backup` says it wrote (its first line names it, quoted)."""
    assert done.returncode == 0, done.err
    first = done.out.splitlines()[0]
    path = Path(first.split("'")[1])
    assert first == messages.backup_written(quoted(str(path), 200), path.stat().st_size)
    return path


@pytest.fixture
def semester(db: Path | str) -> int:
    return build_semester()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    made = tmp_path / "backups"
    made.mkdir()
    return made


@pytest.fixture
def bot_writing(settings: Settings, semester: int) -> Iterator[None]:
    """On SQLite, a connection that has written a check-in and stays open, as the running bot's does:
    with checkpoints off, its pages are in the -wal file only, which a plain copy of the database file
    would miss. On PostgreSQL, nothing (pg_dump reads one snapshot whatever the server does)."""
    if settings.database_url is not None:
        yield
        return
    with closing(sqlite3.connect(str(settings.database_path), isolation_level=None)) as bot:
        bot.execute("PRAGMA wal_autocheckpoint = 0")
        bot.execute(
            "INSERT INTO attendance (user_id, username, timestamp, date_id, session_id, submitted_at, status, source)"
            " VALUES (909, 'walter', '2024-09-05 09:03:00', '2024-09-05', ?, '2024-09-05 09:03:00.000000',"
            " 'present', 'code')",
            (SESSIONS[3],),
        )
        assert Path(f"{settings.database_path}-wal").stat().st_size > 0
        yield


def test_a_backup_restored_gives_the_same_exports(
    settings: Settings, bot_writing: None, folder: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Backed up while the bot writes, then restored as the README says (SQLite: the copy in the
    database's place; PostgreSQL: pg_restore into a new database): every export format gives the
    same bytes as the database backed up, the check-in still in the -wal included."""
    target = settings.database_target
    expected = exports(target)
    assert b"walter" in expected[0] or settings.database_url is not None
    if settings.database_url is None:
        done = shell(target, "backup", "--output", str(folder))
        backup = written(done)
        assert backup.name.startswith("attendance-backup-") and backup.suffix == ".db"
        plain = tmp_path / "plain" / "attendance.db"  # what `cp` of the file alone would have kept
        plain.parent.mkdir()
        shutil.copyfile(settings.database_path, plain)
        assert b"walter" not in shell(plain, "export").stdout
        restored = tmp_path / "restored" / "data" / "attendance.db"
        restored.parent.mkdir(parents=True)
        shutil.copyfile(backup, restored)
        restored.chmod(0o600)
        assert exports(restored) == expected
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    done = shell(configured(settings), "backup", "--output", str(folder))
    assert PASSWORD not in done.out + done.err
    backup = written(done)
    assert backup.suffix == ".dump" and "-backup-" in backup.name
    restored = server.create_database("restored")
    try:
        bindir = find_bindir()
        assert bindir is not None
        subprocess.run(
            [str(bindir / "pg_restore"), "--no-owner", f"--dbname={restored}", str(backup)],
            check=True,
            capture_output=True,
            timeout=120,
        )
        assert exports(restored) == expected
    finally:
        server.drop_database(restored)


def test_the_backup_is_private_and_named_by_its_utc_time(settings: Settings, semester: int, folder: Path) -> None:
    """With a umask that would make it 0644, the backup is 0600; its name holds the UTC time it was made."""
    before = datetime.now(timezone.utc).replace(microsecond=0)
    previous = os.umask(0o022)
    try:
        backup = written(shell(configured(settings), "backup", "-o", str(folder)))
    finally:
        os.umask(previous)
    after = datetime.now(timezone.utc)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    stamp = backup.stem.split("-backup-")[1]
    assert before <= datetime.strptime(stamp, backups.STAMP).replace(tzinfo=timezone.utc) <= after
    assert [p.name for p in folder.iterdir()] == [backup.name]  # no .partial left


@pytest.mark.sqlite_only("the database's folder (with DATABASE_URL, DATABASE_PATH's default data/ is used)")
def test_without_output_the_backup_goes_beside_the_database(settings: Settings, semester: int) -> None:
    """The default folder is the database's (DATABASE_PATH's, data/ in a checkout)."""
    backup = written(shell(configured(settings), "backup"))
    assert backup.parent == settings.database_path.parent
    backup.unlink()


def test_keep_prunes_only_this_databases_oldest_backups(settings: Settings, semester: int, folder: Path) -> None:
    """--keep 2 keeps the new backup and the newest older one; older ones go, oldest first, each named;
    another database's backups, other files, a folder and a link named like a backup stay."""
    suffix = ".dump" if settings.database_url is not None else ".db"
    name = backups.postgres_connection(settings.database_url)[2] if settings.database_url else "attendance"
    ours = [folder / f"{name}-backup-2024090{day}T020000Z{suffix}" for day in (1, 2, 3)]
    ours.append(folder / f"{name}-backup-20240903T020000Z-2{suffix}")  # two in one second: the -2 is newer
    kept_aside = [
        folder / f"other-backup-20200101T000000Z{suffix}",
        folder / f"{name}-backup-20200101T000000Z.txt",
        folder / "notes.txt",
    ]
    for path in ours + kept_aside:
        path.write_bytes(b"old")
    (folder / f"{name}-backup-20200102T000000Z{suffix}").mkdir()
    (folder / f"{name}-backup-20200103T000000Z{suffix}").symlink_to(folder / "notes.txt")
    done = shell(configured(settings), "backup", "--output", str(folder), "--keep", "2")
    backup = written(done)
    assert done.out.splitlines()[1:] == [messages.backup_pruned(quoted(str(path), 200)) for path in ours[:3]]
    assert not any(path.exists() for path in ours[:3])
    assert ours[3].exists() and backup.exists()
    assert all(path.exists() for path in kept_aside)
    assert (folder / f"{name}-backup-20200102T000000Z{suffix}").is_dir()
    assert (folder / f"{name}-backup-20200103T000000Z{suffix}").is_symlink()


@pytest.mark.sqlite_only("the folder is checked before the database is read")
@pytest.mark.parametrize("case", ["missing", "a file", "keep 0"])
def test_a_bad_folder_or_keep_is_one_line_and_writes_nothing(
    settings: Settings, semester: int, tmp_path: Path, case: str
) -> None:
    """A folder that does not exist or is a file, or --keep 0: one line, status 1, no file written."""
    if case == "missing":
        args, said = ("--output", str(tmp_path / "nope")), messages.backup_folder_missing(str(tmp_path / "nope"))
    elif case == "a file":
        (tmp_path / "file").write_text("x")
        args, said = ("--output", str(tmp_path / "file")), messages.backup_folder_not_a_folder(str(tmp_path / "file"))
    else:
        args, said = ("--keep", "0"), messages.backup_keep_invalid(0)
    done = shell(settings.database_path, "backup", *args)
    assert (done.returncode, done.out, done.err) == (1, "", f"Error: {said}\n")
    assert [p.name for p in settings.database_path.parent.iterdir() if "-backup-" in p.name] == []
    assert not (tmp_path / "nope").exists()


@pytest.mark.sqlite_only("a folder's permissions")
@pytest.mark.skipif(os.geteuid() == 0, reason="root may write in any folder")
def test_a_folder_this_user_may_not_write_in_is_refused(settings: Settings, semester: int, folder: Path) -> None:
    """A folder without write permission for this user: one line naming it."""
    folder.chmod(0o500)
    try:
        done = shell(settings.database_path, "backup", "--output", str(folder))
    finally:
        folder.chmod(0o700)
    assert (done.returncode, done.err) == (1, f"Error: {messages.backup_folder_not_writable(str(folder))}\n")


@pytest.mark.sqlite_only("no database is opened")
def test_no_database_is_said_and_none_is_made(tmp_path: Path, folder: Path) -> None:
    """A DATABASE_PATH that names no file: one line, and no database is created by the backup."""
    missing = tmp_path / "data" / "missing.db"
    done = shell(missing, "backup", "--output", str(folder))
    assert (done.returncode, done.err) == (1, f"Error: {messages.backup_no_database(str(missing))}\n")
    assert not missing.exists() and list(folder.iterdir()) == []


@pytest.mark.sqlite_only("no server is reached")
def test_a_missing_pg_dump_is_said_plainly(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With DATABASE_URL and no pg_dump on PATH nor in Debian's folders: one line saying to install the
    client tools, the password hidden, nothing written."""
    monkeypatch.setattr(backups, "PG_BIN_FOLDERS", tmp_path / "no-postgresql")
    url = f"postgresql://attendance:{PASSWORD}@127.0.0.1:1/attendance"
    done = run_shell(
        "backup", "--output", str(folder), environ={"DATABASE_URL": url, "PATH": str(tmp_path)}, env_file="/dev/null"
    )
    shown = url.replace(PASSWORD, "***")
    assert (done.returncode, done.err) == (1, f"Error: {messages.backup_pg_dump_missing(shown)}\n")
    assert PASSWORD not in done.out + done.err and list(folder.iterdir()) == []


@pytest.mark.sqlite_only("no server is reached")
def test_a_failing_pg_dump_is_one_line_without_the_password(folder: Path) -> None:
    """pg_dump against a port where no server listens: its reason in one line, the password hidden,
    no file (nor .partial) left."""
    if backups.find_pg_dump(os.environ) is None:
        pytest.skip("pg_dump is not installed here")
    url = f"postgresql://attendance:{PASSWORD}@127.0.0.1:1/attendance?connect_timeout=5"
    done = shell(url, "backup", "--output", str(folder))
    assert done.returncode == 1
    assert done.err.startswith(f"Error: pg_dump could not back up {url.replace(PASSWORD, '***')}: ")
    assert done.err.count("\n") == 1 and PASSWORD not in done.out + done.err
    assert list(folder.iterdir()) == []


@pytest.mark.sqlite_only("no server is reached")
@pytest.mark.parametrize("url", SECRET_URLS)
def test_backup_never_shows_a_password_in_any_form(url: str, folder: Path) -> None:
    """A backup of a URL whose server is down or that does not parse: one error, the password in no
    form shown, nothing written."""
    done = shell(url, "backup", "--output", str(folder))
    assert done.returncode == 1 and done.err.startswith("Error: "), done.err
    assert "Hid3" not in done.out + done.err and "Secr3t" not in done.out + done.err
    assert list(folder.iterdir()) == []
