"""Peewee models over a deferred database, and init_db() that opens it: an SQLite file with the
right pragmas, or a PostgreSQL server through a connection pool."""

from __future__ import annotations

import logging
import os
import stat
from datetime import date, datetime, timezone
from pathlib import Path

import peewee

from . import migrations
from .database import database
from .errors import StorageError
from .migrations import CourseDefaults
from .records import Source

log = logging.getLogger(__name__)

UTC_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
BUSY_TIMEOUT_SECONDS = 30
# PostgreSQL: connections kept by the pool (the database thread, export threads, a shell command),
# how long a caller waits for one, and after how long an idle one is replaced.
POOL_CONNECTIONS = 8
POOL_WAIT_SECONDS = 10
POOL_STALE_SECONDS = 300
CONNECT_TIMEOUT_SECONDS = 5


def is_postgres(target: Path | str) -> bool:
    """Whether a database target (init_db's) is a PostgreSQL URL rather than an SQLite file."""
    return isinstance(target, str) and target.split(":", 1)[0].lower() in ("postgresql", "postgres")


def backend() -> str:
    """The open database's kind: "sqlite" or "postgresql" (for the few statements that differ)."""
    return "postgresql" if isinstance(database.obj, peewee.PostgresqlDatabase) else "sqlite"


class UTCDateTimeField(peewee.TextField):
    """An aware UTC datetime stored as sortable text `YYYY-MM-DD HH:MM:SS.ffffff` (UTC)."""

    def db_value(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        return value.astimezone(timezone.utc).strftime(UTC_FORMAT)

    def python_value(self, value: str | None) -> datetime | None:
        if value is None:
            return None
        try:  # the stored text is ISO 8601: fromisoformat is many times cheaper than strptime
            return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)
        except ValueError:  # a year before 1000 is not zero-padded by strftime
            return datetime.strptime(value, UTC_FORMAT).replace(tzinfo=timezone.utc)


class DayField(peewee.TextField):
    """A date stored as ISO text `YYYY-MM-DD` (sortable, the same on SQLite and PostgreSQL)."""

    def db_value(self, value: date | None) -> str | None:
        return None if value is None else value.isoformat()

    def python_value(self, value: str | None) -> date | None:
        return None if value is None else date.fromisoformat(value)


class BaseModel(peewee.Model):
    class Meta:
        database = database


class Course(BaseModel):
    """A class taught in one server: its channels, its instructors' role and its code settings.

    The code settings are NULL until an instructor sets them: then `.env`'s apply. `name_key` is
    the name folded for comparison, so "Math 101" and "math 101" cannot both exist in a server.
    """

    name = peewee.TextField()
    name_key = peewee.TextField()
    guild_id = peewee.BigIntegerField(null=True)
    admin_channel_id = peewee.BigIntegerField(null=True)
    attendance_channel_id = peewee.BigIntegerField(null=True, index=True)
    display_channel_id = peewee.BigIntegerField(null=True)
    instructor_role_id = peewee.BigIntegerField(null=True)
    interval = peewee.IntegerField(null=True)
    code_length = peewee.IntegerField(null=True)
    grace_seconds = peewee.IntegerField(null=True)
    created_at = UTCDateTimeField()
    archived_at = UTCDateTimeField(null=True)
    # Minutes after opening from which a check-in is late (NULL: never late).
    late_after = peewee.IntegerField(null=True)
    # The voice or stage channel the class meets in, and what it means for a check-in (a VoiceRule
    # word; NULL with a channel: recorded). NULL channel: no voice presence (0008_voice).
    voice_channel_id = peewee.BigIntegerField(null=True)
    voice_rule = peewee.TextField(null=True)
    # Whether the code message in the display channel shows the code (NULL: not set, shown).
    code_in_channel = peewee.BooleanField(null=True)
    # The warning line: a student whose rate falls below this percentage is named in the admin
    # channel's digest (NULL: no warnings), once the course has had warn_after sessions (NULL: 3).
    warn_below = peewee.IntegerField(null=True)
    warn_after = peewee.IntegerField(null=True)
    # The grading policy (0011_grading): what a late session earns (NULL: 0.8) and how many of each
    # student's worst sessions the grade leaves out (NULL: none). Grades are read, never stored.
    late_points = peewee.DecimalField(max_digits=3, decimal_places=2, null=True)
    drop_lowest = peewee.IntegerField(null=True)
    # The IANA name its timetable's local times are in (NULL: `.env`'s TIMEZONE) (0009_schedule).
    timezone = peewee.TextField(null=True)

    class Meta:
        table_name = "course"
        indexes = ((("guild_id", "name_key"), True),)


class Session(BaseModel):
    """One attendance session of a course: its secret decides every code it ever shows."""

    session_id = peewee.TextField(unique=True)
    secret = peewee.TextField()
    interval = peewee.IntegerField()
    code_length = peewee.IntegerField()
    grace_seconds = peewee.IntegerField()
    opened_at = UTCDateTimeField()
    closed_at = UTCDateTimeField(null=True)
    # 1 while open, NULL once closed: the unique index on (course, open_flag) allows one open
    # session per course (NULLs never collide).
    open_flag = peewee.IntegerField(null=True, default=1)
    opened_by = peewee.TextField(null=True)
    guild_id = peewee.BigIntegerField(null=True)
    channel_id = peewee.BigIntegerField(null=True)
    message_id = peewee.BigIntegerField(null=True)
    message_posted_at = UTCDateTimeField(null=True)
    # NULL only for a session of a database older than courses that the migration did not place.
    course = peewee.ForeignKeyField(Course, null=True, column_name="course_id", backref="sessions")
    # Where this session's windows start, in ms past the epoch's multiples of the interval: open
    # sessions get different offsets so their code messages are not all edited at one instant.
    window_offset_ms = peewee.IntegerField(default=0)
    # Where its codes are typed: the course's attendance channel when it opened (an edit of the
    # course applies to the next session). NULL for a migrated session whose channel was unknown:
    # the course's then.
    attendance_channel_id = peewee.BigIntegerField(null=True)
    # This session's late rule (the course's when it opened, or the instructor's for this session).
    late_after = peewee.IntegerField(null=True)
    # The course's voice channel and rule when it opened (NULL: no voice presence in this session).
    voice_channel_id = peewee.BigIntegerField(null=True)
    voice_rule = peewee.TextField(null=True)
    # Whether its code message shows the code (the course's setting when it opened; NULL: shown,
    # as every session before the setting existed).
    code_in_channel = peewee.BooleanField(null=True)

    class Meta:
        table_name = "session"
        indexes = ((("course", "open_flag"), True),)


class Attendance(BaseModel):
    """The seed's attendance table: one row per student per session, last submission wins.

    `timestamp` and `date_id` are UTC here; exports write them in TIMEZONE. A row written by a
    `/here` names its Discord account only (the student id is its registration's); an instructor's
    mark also names the student id, and only the student id when the roster student has no linked
    account yet (`user_id` NULL).
    """

    user_id = peewee.BigIntegerField(null=True)
    username = peewee.TextField()
    timestamp = peewee.TextField()  # YYYY-MM-DD HH:MM:SS, UTC
    date_id = peewee.TextField()  # YYYY-MM-DD, UTC
    session_id = peewee.TextField(index=True)
    display_name = peewee.TextField(null=True)
    submitted_at = UTCDateTimeField()
    # present, late, excused, absent; code (a /here) or manual (an instructor's mark). The defaults
    # are the table's too (0003_gradebook), for statements that do not name these columns.
    status = peewee.TextField(default="present", constraints=[peewee.SQL("DEFAULT 'present'")])
    source = peewee.TextField(default=Source.CODE, constraints=[peewee.SQL(f"DEFAULT '{Source.CODE}'")])
    student_key = peewee.TextField(null=True)  # the student id folded (students.student_key), for marks (0004_marks)
    # A check-in of a session with a voice channel: 1 if the account was in it (or had left it less
    # than a minute before), 0 if not; NULL otherwise (0008_voice).
    in_voice = peewee.IntegerField(null=True)

    class Meta:
        table_name = "attendance"
        indexes = ((("user_id", "session_id"), True), (("session_id", "student_key"), True))


class WrongAttempt(BaseModel):
    """A wrong code typed by a student; kept so throttling survives a restart."""

    session_id = peewee.TextField()
    user_id = peewee.BigIntegerField()
    attempted_at = UTCDateTimeField()

    class Meta:
        table_name = "wrong_attempt"
        indexes = ((("session_id", "user_id", "attempted_at"), False),)


class Student(BaseModel):
    """A Discord account's student id in one server (`/register`); `student_key` is the id folded.

    `confirmed`: the roster's `discord` column named the account, an instructor linked it, or an
    earlier release or a seed import made it; else a pending claim that counts for no record."""

    guild_id = peewee.BigIntegerField()
    user_id = peewee.BigIntegerField()
    student_id = peewee.TextField()
    student_key = peewee.TextField()
    name = peewee.TextField(null=True)
    registered_at = UTCDateTimeField()
    confirmed = peewee.BooleanField(default=True)

    class Meta:
        table_name = "student"
        indexes = ((("guild_id", "user_id"), True), (("guild_id", "student_key"), True))


class RosterEntry(BaseModel):
    """A student on a course's roster, as the LMS lists them."""

    course_id = peewee.IntegerField(index=True)
    student_id = peewee.TextField()
    student_key = peewee.TextField()
    name = peewee.TextField()
    discord = peewee.TextField(null=True)  # a Discord username, from the roster's optional column
    added_at = UTCDateTimeField()

    class Meta:
        table_name = "roster_entry"
        indexes = ((("course_id", "student_key"), True),)


class Event(BaseModel):
    """One change to the record, append-only: who, when, what, old -> new status, reason, source."""

    at = UTCDateTimeField()
    course_id = peewee.IntegerField(null=True, index=True)
    session_id = peewee.TextField(null=True)
    guild_id = peewee.BigIntegerField(null=True)
    user_id = peewee.BigIntegerField(null=True)
    student_id = peewee.TextField(null=True)
    actor = peewee.TextField()
    action = peewee.TextField()
    old_status = peewee.TextField(null=True)
    new_status = peewee.TextField(null=True)
    reason = peewee.TextField(null=True)
    source = peewee.TextField()

    class Meta:
        table_name = "event"
        indexes = ((("guild_id", "user_id"), False), (("course_id", "student_id"), False))


class ProjectorLink(BaseModel):
    """A session's projector link: the nonce its token is derived from (with the session's secret,
    codes.link_token) and the token's hash, which the page is looked up by; never the token itself.
    One per session; a new link replaces the row. It opens the page only while its session is open."""

    session_id = peewee.TextField(unique=True)
    nonce = peewee.TextField()
    token_hash = peewee.TextField(unique=True)
    made_at = UTCDateTimeField()

    class Meta:
        table_name = "projector_link"


class VoiceSpan(BaseModel):
    """A stretch of time one account spent in an open session's voice channel: from when it joined
    (or the session opened, or the bot saw it there at connect) to when it left (or moved away, or
    the session closed); `left_at` NULL while it is still there. Written only while the session is open."""

    session_id = peewee.TextField()
    user_id = peewee.BigIntegerField()
    channel_id = peewee.BigIntegerField()
    joined_at = UTCDateTimeField()
    left_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "voice_span"
        indexes = ((("session_id", "user_id"), False),)


class ScheduleEntry(BaseModel):
    """A line of a course's weekly timetable: every `weekday` (0 Monday) at `start` ("HH:MM", the
    course's local time) for `minutes`, from `first_day` to `last_day` (local dates, included; NULL:
    no bound). A removed line keeps its row (`removed_at`), so the runs it made still name it."""

    course = peewee.ForeignKeyField(Course, column_name="course_id", backref="schedule")
    weekday = peewee.IntegerField()
    start = peewee.TextField()
    minutes = peewee.IntegerField()
    first_day = DayField(null=True)
    last_day = DayField(null=True)
    created_at = UTCDateTimeField()
    created_by = peewee.TextField(null=True)
    removed_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "schedule_entry"


class ScheduleSkip(BaseModel):
    """A local date on which a course's timetable does not meet (a holiday)."""

    course = peewee.ForeignKeyField(Course, column_name="course_id")
    day = DayField()
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "schedule_skip"
        indexes = ((("course", "day"), True),)


class ScheduleRun(BaseModel):
    """What became of one meeting of a timetable entry (its local date): `opened` (the session it
    opened), `adopted` (a session opened by hand was open at its start) or `missed` (the bot was
    down for all of it). The unique (entry, day) is what lets one process, and one only, act on a
    meeting; `finished_at` is set when its session was closed at the end (or found closed)."""

    entry = peewee.ForeignKeyField(ScheduleEntry, column_name="entry_id")
    day = DayField()
    course = peewee.ForeignKeyField(Course, column_name="course_id")
    state = peewee.TextField()
    session_id = peewee.TextField(null=True)
    starts_at = UTCDateTimeField()
    ends_at = UTCDateTimeField()
    claimed_at = UTCDateTimeField()
    finished_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "schedule_run"
        indexes = ((("entry", "day"), True), (("finished_at", "ends_at"), False))


class WarningState(BaseModel):
    """Where a student of a course stands against its warning line, as the last digest found: below
    it, or unable to reach it by the end of the timetable. A digest names only the changes to true
    (a crossing), so each crossing is named once. `student` is the gradebook's identity of the
    student (`key:<student id folded>`, `user:<account id>`)."""

    course_id = peewee.IntegerField()
    student = peewee.TextField()
    user_id = peewee.BigIntegerField(null=True)
    below = peewee.BooleanField(default=False)
    unreachable = peewee.BooleanField(default=False)
    changed_at = UTCDateTimeField()

    class Meta:
        table_name = "warning_state"
        indexes = ((("course_id", "student"), True),)


class Digest(BaseModel):
    """A closed session's warning digest, claimed by the one process that makes and posts it (the
    unique session id decides between processes)."""

    session_id = peewee.TextField(unique=True)
    course_id = peewee.IntegerField()
    claimed_at = UTCDateTimeField()

    class Meta:
        table_name = "digest"


class StudentNotice(BaseModel):
    """Something a student is to be told privately (a warning, an excuse's outcome): a kind of
    messages and its values as JSON (`detail`). Shown once: in the reply to their next check-in or
    command in that server, or by direct message; `shown_at` then set."""

    guild_id = peewee.BigIntegerField(null=True)
    user_id = peewee.BigIntegerField()
    course_id = peewee.IntegerField(null=True)
    kind = peewee.TextField()
    detail = peewee.TextField()
    created_at = UTCDateTimeField()
    shown_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "student_notice"
        indexes = ((("user_id", "shown_at"), False),)


class DirectMessages(BaseModel):
    """A Discord account's direct messages (`/notify`): turned on or not, when Discord refused one
    (error 50007: the student does not accept them; not retried until they turn them on again), and
    when the last was sent (at most one a day)."""

    user_id = peewee.BigIntegerField(unique=True)
    enabled = peewee.BooleanField(default=False)
    refused_at = UTCDateTimeField(null=True)
    last_sent_at = UTCDateTimeField(null=True)
    changed_at = UTCDateTimeField()

    class Meta:
        table_name = "direct_messages"


class ExcuseRequest(BaseModel):
    """A student's request to be excused from a session, with its reason (text only), where it was
    posted for the instructors, and their decision (`approved` or `denied`; NULL while waiting)."""

    course_id = peewee.IntegerField(index=True)
    guild_id = peewee.BigIntegerField(null=True)
    session_id = peewee.TextField()
    user_id = peewee.BigIntegerField()
    username = peewee.TextField()
    reason = peewee.TextField()
    status = peewee.TextField(null=True)  # the student's status in the session when they asked (NULL: none)
    requested_at = UTCDateTimeField()
    channel_id = peewee.BigIntegerField(null=True)
    message_id = peewee.BigIntegerField(null=True)
    decision = peewee.TextField(null=True)
    decided_by = peewee.TextField(null=True)
    decided_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "excuse_request"
        indexes = ((("session_id", "user_id"), True),)


# The tables, as attendance_bot/schema/'s steps make them (tests/test_migrations.py compares them).
MODELS: tuple[type[BaseModel], ...] = (
    Course,
    Session,
    Attendance,
    WrongAttempt,
    Student,
    RosterEntry,
    Event,
    ProjectorLink,
    VoiceSpan,
    ScheduleEntry,
    ScheduleSkip,
    ScheduleRun,
    WarningState,
    Digest,
    StudentNotice,
    DirectMessages,
    ExcuseRequest,
)


def init_db(
    target: Path | str,
    *,
    create: bool = True,
    upgrade: bool = True,
    defaults: CourseDefaults | None = None,
    make_folder: bool = False,
) -> peewee.Database:
    """Open the database with the latest schema: the SQLite file at `target` (WAL, busy timeout,
    mode 0600), or the PostgreSQL server a `postgresql://` URL names (through a connection pool).

    An empty database gets every table; one of an older release is upgraded in place (an SQLite
    file after a backup copy; `defaults` names the course its sessions join), unless upgrade=False,
    which refuses it instead (StorageError saying `manage.py migrate`). With create=False a missing
    SQLite file is an error instead of a new database (for read-only commands that should not
    invent an empty database in the wrong place); a PostgreSQL database must exist already. A new
    file's folder must exist (StorageError naming it), unless make_folder (the default data/ folder,
    made 0700).
    """
    close_all()
    if is_postgres(target):
        url = str(target)
        shown = _shown(url)
        database.initialize(_postgres(url))
        backup_path = None
    else:
        path: Path | str = target
        if str(path) != ":memory:":
            path = Path(path)
            if not path.exists():
                if not create:
                    raise StorageError("no_database_at", path=path)
                if not make_folder and not os.path.lexists(path.parent):
                    raise StorageError("database_folder_missing", path=path)
                try:
                    if make_folder and not os.path.lexists(path.parent):
                        path.parent.mkdir(mode=0o700)
                        os.chmod(path.parent, 0o700)  # whatever the umask: it will hold every record
                    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
                    os.close(fd)
                except OSError as exc:
                    raise StorageError("database_cannot_be_created", path=path, reason=exc.strerror) from exc
            _make_private(path)
        shown = str(path)
        database.initialize(
            peewee.SqliteDatabase(
                str(path),
                timeout=BUSY_TIMEOUT_SECONDS,
                pragmas={
                    "journal_mode": "wal",
                    "busy_timeout": BUSY_TIMEOUT_SECONDS * 1000,
                    "synchronous": "full",
                    "foreign_keys": 1,
                },
            )
        )
        backup_path = None if str(path) == ":memory:" else Path(path)
    try:
        database.connect(reuse_if_open=True)
        version = migrations.schema_version()
        if version is not None and version > migrations.latest():
            raise StorageError("database_too_new", path=shown, version=version, latest=migrations.latest())
        if version is not None and not upgrade and migrations.pending():
            raise StorageError("migration_pending", path=shown, version=version, latest=migrations.latest())
        for line in migrations.upgrade(backup_path, defaults):
            log.info("%s", line)
    except StorageError:
        close_all()
        raise
    except peewee.DatabaseError as exc:
        close_all()
        if is_postgres(target):
            raise StorageError(
                "postgres_unreachable", shown=shown, problem=_postgres_problem(exc, str(target))
            ) from exc
        raise StorageError("database_unusable", path=shown, error=exc) from exc
    return database.obj  # type: ignore[no-any-return]


def _shown(url: str) -> str:
    from .settings import shown_url

    return shown_url(url)


def _postgres(url: str) -> peewee.Database:
    """A pooled PostgreSQL database for a URL (psycopg 3 through peewee, which runs in autocommit
    mode outside transactions, so a failed statement never leaves the connection aborted)."""
    from playhouse.pool import PooledPostgresqlDatabase

    name, params = _postgres_params(url)
    params.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    return PooledPostgresqlDatabase(
        name,
        max_connections=POOL_CONNECTIONS,
        stale_timeout=POOL_STALE_SECONDS,
        timeout=POOL_WAIT_SECONDS,
        **params,
    )


def _postgres_params(url: str) -> tuple[str, dict[str, object]]:
    """The database name and the keyword arguments peewee hands psycopg for a URL (its query's
    parameters among them: they override the host, port and user the URL names)."""
    from playhouse.db_url import parse

    params = parse(url, unquote_user=True, unquote_password=True)
    return str(params.pop("database")), params


def postgres_endpoint(url: str) -> tuple[str, int, str]:
    """The server and database a URL connects to, as the driver resolves them: (host, port, database).

    The query's `host`, `hostaddr`, `port` and `dbname` win over the URL's own parts, as in psycopg
    (peewee passes the database name only when the query has none); libpq's defaults fill the
    rest (PGHOST, PGPORT, PGDATABASE, PGUSER, then the local socket, 5432, the user's name). Every
    spelling of this machine (localhost, 127.0.0.0/8, ::1, a Unix socket folder) is "this machine".
    """
    import getpass
    import ipaddress

    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name, params = _postgres_params(url)
    params.setdefault("dbname", name)
    wanted = ("host", "hostaddr", "port", "dbname", "user")
    given = {key: str(value) for key, value in params.items() if key in wanted and value is not None}
    info = conninfo_to_dict(make_conninfo("", **given))
    host = str(info.get("hostaddr") or info.get("host") or os.environ.get("PGHOST") or "").strip().lower()
    host = host.strip("[]")
    try:
        local = host in ("", "localhost") or host.startswith("/") or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    port_text = str(info.get("port") or os.environ.get("PGPORT") or "5432")
    port = int(port_text) if port_text.isdigit() else -1
    user = str(info.get("user") or os.environ.get("PGUSER") or getpass.getuser())
    dbname = str(info.get("dbname") or os.environ.get("PGDATABASE") or user)
    return ("this machine" if local else host), port, dbname


def _postgres_problem(exc: BaseException, url: str) -> str:
    """What went wrong reaching PostgreSQL, in a few words; any piece of the URL's password the
    driver's message quotes (one it misread as a host, port or database name) is hidden."""
    from .settings import hide_secrets

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = hide_secrets(text, url)
    lowered = text.lower()
    if "role" in lowered and "does not exist" in lowered:  # a user the server does not know
        return "authentication failed: the server has no such user; check the user in DATABASE_URL"
    if "password authentication failed" in lowered or "authentication failed" in lowered:
        return "authentication failed: check the user and password in DATABASE_URL"
    if "does not exist" in lowered and "database" in lowered:
        return "the database does not exist: create it (createdb) or fix its name in DATABASE_URL"
    if "connection refused" in lowered or "could not connect" in lowered or "timeout" in lowered:
        return "the server is not reachable: is PostgreSQL running, and are the host and port right?"
    return text


def open_postgres_read_only(url: str) -> None:
    """Point `database` at a PostgreSQL server for reading only (`manage.py check`): connected, every
    transaction of the connection read-only, nothing created or upgraded. StorageError
    (postgres_unreachable: server down, authentication failed, database missing) if it cannot be used."""
    close_all()
    database.initialize(_postgres(url))
    try:
        database.connect(reuse_if_open=True)
        database.execute_sql("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    except peewee.DatabaseError as exc:
        close_all()
        raise StorageError("postgres_unreachable", shown=_shown(url), problem=_postgres_problem(exc, url)) from exc


def _make_private(path: Path) -> None:
    """Tighten an existing database (and its WAL files) that others can read to 0600, saying so.

    Databases made by older tools or copied in with a loose umask hold every session secret and
    record; a file we do not own is left alone with a warning instead.
    """
    for side in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = stat.S_IMODE(side.stat().st_mode)
        except FileNotFoundError:
            continue
        if not mode & 0o077:
            continue
        try:
            os.chmod(side, 0o600)
        except OSError as exc:
            log.warning(
                "%s is readable by other users (mode %04o) and could not be made 0600: %s", side, mode, exc.strerror
            )
        else:
            log.warning("%s was readable by other users (mode %04o); it is now 0600", side, mode)


def close_db() -> None:
    """Close this thread's connection, if any (with a pool: hand it back)."""
    if database.obj is not None and not database.is_closed():
        database.close()


def close_all() -> None:
    """Close this thread's connection and, with a pool, every idle connection it keeps; forget the database."""
    if database.obj is None:
        return
    close_db()
    closer = getattr(database.obj, "close_all", None)
    if closer is not None:
        closer()
