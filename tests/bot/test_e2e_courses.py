"""End to end: courses in several servers, sessions of several courses open at once, nothing crossing servers."""

from __future__ import annotations

import re
import signal
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from botdriver import (
    COMMANDS,
    INTERVAL,
    BotProcess,
    Card,
    Db,
    bot_env,
    live_card,
    session_messages,
    wait_until,
)
from conftest import World
from faultkit import accepted_replies, answered, burst, contents, crowd, row_counts

from attendance_bot import messages
from attendance_bot.emulator import EmulatorThread, GuildHandle, InteractionHandle, Member, Reply, UnknownCommand
from attendance_bot.emulator.models import EMBED_LINKS, SEND_MESSAGES, VIEW_CHANNEL
from attendance_bot.errors import UnknownSession
from attendance_bot.records import FREE_WRONG_ATTEMPTS, CourseInfo, Outcome, SessionInfo, SubmitResult

ENV_COURSE = "default"  # the course .env defines (COURSE_NAME unset), in server 1
PHYSICS = "Physics 101"  # made with /course create in server 1
CHEMISTRY = "Chemistry 201"  # made with /course create in server 2, by its own instructor
BURST = 250  # students per course in the kill -9 burst


def _accepted(session_id: str) -> str:
    return messages.submit_reply(SubmitResult(Outcome.RECORDED, session_id))


def _wrong(session_id: str, code: str) -> str:
    """The sentence for a student's first wrong code in a channel where `session_id` is open."""
    return messages.submit_reply(
        SubmitResult(Outcome.WRONG, session_id, code=code, attempts_left=FREE_WRONG_ATTEMPTS - 1)
    )


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


Snapshot = dict[str, list[tuple[Any, ...]]]


def _snapshot(path: Path, guild_id: int) -> Snapshot:
    """Read-only sqlite3, not the bot's code: a server's courses, sessions, records and wrong attempts."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    of_server = "session_id IN (SELECT session_id FROM session WHERE guild_id = ?)"
    try:
        return {
            "course": con.execute("SELECT * FROM course WHERE guild_id = ? ORDER BY id", (guild_id,)).fetchall(),
            # Where each code message is (message_id, message_posted_at) is the rotator's own bookkeeping,
            # rewritten whenever it posts a message again: not something a member's command changes.
            "session": con.execute(
                "SELECT id, session_id, secret, interval, code_length, grace_seconds, opened_at, closed_at, "
                "open_flag, opened_by, guild_id, course_id, window_offset_ms, attendance_channel_id "
                "FROM session WHERE guild_id = ? ORDER BY id",
                (guild_id,),
            ).fetchall(),
            "attendance": con.execute(
                f"SELECT * FROM attendance WHERE {of_server} ORDER BY id", (guild_id,)
            ).fetchall(),
            "wrong_attempt": con.execute(
                f"SELECT * FROM wrong_attempt WHERE {of_server} ORDER BY id", (guild_id,)
            ).fetchall(),
        }
    finally:
        con.close()


@dataclass
class Campus:
    """Two servers, one bot: server 1 with the .env course and Physics 101, server 2 with Chemistry 201."""

    emu: EmulatorThread
    bot: BotProcess
    db: Db
    env: dict[str, str]
    one: GuildHandle
    two: GuildHandle
    created: dict[str, Reply] = field(default_factory=dict)  # the /course create replies of the set-up

    # -- reading the database --------------------------------------------------------------

    def course(self, name: str, guild: GuildHandle | None = None) -> CourseInfo:
        with self.db.service() as service:
            return service.courses.find(name, (guild or self.one).id)

    def courses(self, guild: GuildHandle) -> list[CourseInfo]:
        with self.db.service() as service:
            return service.courses.courses(guild.id)

    def open_session(self, course: CourseInfo) -> SessionInfo | None:
        with self.db.service() as service:
            return service.open_session_info(course.id)

    def current_code(self, course: CourseInfo) -> str:
        with self.db.service() as service:
            return service.current_code(course_id=course.id).code

    def close_all(self) -> None:
        with self.db.service() as service:
            for course in service.courses.courses():
                if course.open_session_id:
                    service.close_session(course_id=course.id)

    # -- what people do --------------------------------------------------------------------

    def guild_of(self, course: CourseInfo) -> GuildHandle:
        return self.one if course.guild_id == self.one.id else self.two

    def create(self, member: Member, admin_channel: int, name: str, **options: Any) -> Reply:
        """`member` runs /course create NAME ... in `admin_channel`."""
        return self.emu.invoke(member, admin_channel, "course create", name=name, **options)

    def new_course(
        self, name: str, *, admin_channel: int | None = None, attendance_channel: int | None = None
    ) -> CourseInfo:
        """A course of server 1 made by its instructor with /course create (new channels unless given)."""
        admin = admin_channel or self.one.add_text_channel(f"{_slug(name)}-admin")
        attendance = attendance_channel or self.one.add_text_channel(_slug(name))
        reply = self.create(self.one.instructor, admin, name, attendance_channel=attendance)
        assert reply.content == messages.course_created_reply(name, admin, attendance, attendance)
        assert reply.ephemeral
        return self.course(name)

    def open(self, course: CourseInfo, *, by_name: bool = False) -> tuple[SessionInfo, Card]:
        """The course's server's instructor runs /open_attendance in its admin channel: the new session
        and its code message (in the course's display channel)."""
        options = {"course": course.name} if by_name else {}
        reply = self.emu.invoke(self.guild_of(course).instructor, course.admin_channel_id, "open_attendance", **options)
        session = self.open_session(course)
        assert session is not None, reply.content
        assert reply.content == messages.opened_reply(session.session_id, course.display_channel_id)
        assert reply.ephemeral
        card = live_card(self.emu, session.session_id, channel_id=course.display_channel_id)
        # The bot notes the message in the database just after posting it: wait, so the row is settled.
        wait_until(lambda: self.db.session(session.session_id).message_id == card.message_id, 5, "the message noted")
        return self.db.session(session.session_id), card

    def here(self, member: Member, code: str, channel_id: int) -> Reply:
        return self.emu.invoke(member, channel_id, "here", code=code)

    def restart(self) -> None:
        """Start a new bot process (the old one has exited); it is the module's to stop even if it fails to start."""
        self.bot = BotProcess(self.emu, self.env)
        self.bot.start()

    def student(self, name: str, guild: GuildHandle | None = None) -> Member:
        """A new member of a server (server 1 unless told), so that no two tests share a student."""
        return (guild or self.one).add_member(name, display_name=name.title())


@pytest.fixture(scope="module")
def _campus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Campus]:
    """The module's two servers and bot; the two courses besides the .env one are made with /course create."""
    with EmulatorThread() as emu:
        two = emu.add_guild("Second School")
        one = emu.default_guild
        path = tmp_path_factory.mktemp("courses") / "data" / "attendance.db"
        env = bot_env(emu, path)
        campus = Campus(emu, BotProcess(emu, env), Db(path), env, one, two)
        try:
            campus.bot.start()
            physics_admin = one.add_text_channel("physics-admin")
            physics = one.add_text_channel("physics")
            campus.created[PHYSICS] = campus.create(one.instructor, physics_admin, PHYSICS, attendance_channel=physics)
            campus.created[CHEMISTRY] = campus.create(
                two.instructor, two.admin_channel_id, CHEMISTRY, attendance_channel=two.attendance_channel_id
            )
            yield campus
        finally:
            campus.bot.stop()


@pytest.fixture
def campus(_campus: Campus) -> Iterator[Campus]:
    """The module's bot, running, with no session open and no faults; the same afterwards."""
    if _campus.bot.proc is None or _campus.bot.proc.poll() is not None:  # an earlier test killed it and failed
        _campus.restart()
    _campus.close_all()
    bot, start = _campus.bot, len(_campus.bot.stderr)
    yield _campus
    print("".join(bot.stderr[start:]))  # the bot's log during this test, shown if it fails
    if _campus.bot is not bot:
        print("".join(_campus.bot.stderr))
    _campus.emu.faults.clear()
    _campus.close_all()
    assert _campus.bot.proc is not None and _campus.bot.proc.poll() is None, _campus.bot.output()


# -- several servers, several courses ---------------------------------------------------------


def test_each_server_lists_only_its_own_courses(campus: Campus) -> None:
    """/course create makes a course in the server it is run in; /course list there shows that server's courses only."""
    one, two = campus.one, campus.two
    env_course, physics, chemistry = campus.course(ENV_COURSE), campus.course(PHYSICS), campus.course(CHEMISTRY, two)
    assert (env_course.guild_id, env_course.admin_channel_id) == (one.id, one.admin_channel_id)
    assert env_course.attendance_channel_id == one.attendance_channel_id
    assert physics.guild_id == one.id and chemistry.guild_id == two.id
    assert campus.created[PHYSICS].content == messages.course_created_reply(
        PHYSICS, physics.admin_channel_id, physics.attendance_channel_id, physics.attendance_channel_id
    )
    assert campus.created[CHEMISTRY].content == messages.course_created_reply(
        CHEMISTRY, two.admin_channel_id, two.attendance_channel_id, two.attendance_channel_id
    )
    assert (chemistry.admin_channel_id, chemistry.attendance_channel_id) == (
        two.admin_channel_id,
        two.attendance_channel_id,
    )

    in_one = campus.emu.invoke(one.instructor, one.admin_channel_id, "course list")
    in_two = campus.emu.invoke(two.instructor, two.admin_channel_id, "course list")
    assert in_one.ephemeral and in_two.ephemeral
    assert in_one.content == messages.course_list_reply(campus.courses(one))
    assert in_two.content == messages.course_list_reply(campus.courses(two))
    assert {ENV_COURSE, PHYSICS} <= {c.name for c in campus.courses(one)}
    assert CHEMISTRY in {c.name for c in campus.courses(two)}
    assert f"**{CHEMISTRY}**" not in in_one.content
    assert f"**{PHYSICS}**" not in in_two.content and f"**{ENV_COURSE}**" not in in_two.content


def test_two_courses_open_at_once_each_in_its_own_channel(campus: Campus) -> None:
    """Two courses of a server open at once: each code message is in its own channel, and each code checks in to its own session."""
    env_course, physics = campus.course(ENV_COURSE), campus.course(PHYSICS)
    first, first_card = campus.open(env_course)
    second, second_card = campus.open(physics)
    emu = campus.emu
    assert session_messages(emu, first.session_id, channel_id=physics.attendance_channel_id) == []
    assert session_messages(emu, second.session_id, channel_id=env_course.attendance_channel_id) == []
    for card, course in ((first_card, env_course), (second_card, physics)):
        assert card.course == course.name
        assert card.code == campus.db.code_for(card)

    student = campus.student("bothcourses")
    assert campus.here(student, first_card.code, env_course.attendance_channel_id).content == _accepted(
        first.session_id
    )
    assert campus.here(student, second_card.code, physics.attendance_channel_id).content == _accepted(second.session_id)
    assert [r.user_id for r in campus.db.rows(first.session_id)] == [student.id]
    assert [r.user_id for r in campus.db.rows(second.session_id)] == [student.id]


def test_sessions_sharing_an_attendance_channel_each_take_their_own_code(campus: Campus) -> None:
    """Two courses taking attendance in one channel, both open: both cards are there, each naming its course,
    and each code checks in to its own course's session."""
    env_course = campus.course(ENV_COURSE)
    lab = campus.new_course("Physics Lab", attendance_channel=env_course.attendance_channel_id)
    assert lab.display_channel_id == env_course.attendance_channel_id
    first, first_card = campus.open(env_course)
    second, second_card = campus.open(lab)
    assert (first_card.course, second_card.course) == (ENV_COURSE, "Physics Lab")
    assert first_card.message_id != second_card.message_id
    for card in (first_card, second_card):
        assert card.code == campus.db.code_for(card)

    channel = env_course.attendance_channel_id
    in_lecture, in_lab, in_both = (campus.student(n) for n in ("lectureonly", "labonly", "lectureandlab"))
    assert campus.here(in_lecture, first_card.code, channel).content == _accepted(first.session_id)
    assert campus.here(in_lab, second_card.code, channel).content == _accepted(second.session_id)
    assert campus.here(in_both, second_card.code, channel).content == _accepted(second.session_id)
    assert campus.here(in_both, first_card.code, channel).content == _accepted(first.session_id)
    assert sorted(r.user_id for r in campus.db.rows(first.session_id)) == sorted([in_lecture.id, in_both.id])
    assert sorted(r.user_id for r in campus.db.rows(second.session_id)) == sorted([in_lab.id, in_both.id])


def test_code_of_another_course_is_wrong_in_this_channel(campus: Campus) -> None:
    """A course's code typed in another course's attendance channel is a wrong code there; nothing is recorded."""
    env_course, physics = campus.course(ENV_COURSE), campus.course(PHYSICS)
    first, first_card = campus.open(env_course)
    second, second_card = campus.open(physics)
    crossed = campus.student("crossedcodes")
    reply = campus.here(crossed, second_card.code, env_course.attendance_channel_id)
    assert reply.content == _wrong(first.session_id, second_card.code)
    assert reply.ephemeral
    reply = campus.here(campus.student("crossedback"), first_card.code, physics.attendance_channel_id)
    assert reply.content == _wrong(second.session_id, first_card.code)
    assert campus.db.rows(first.session_id) == []
    assert campus.db.rows(second.session_id) == []


def test_projector_mode_shows_the_code_in_the_display_channel(campus: Campus) -> None:
    """A course whose display channel is its admin channel: the code message is posted there, and students
    check in with it in the attendance channel (not in the display channel)."""
    one = campus.one
    admin, attendance = one.add_text_channel("projector-admin"), one.add_text_channel("projector")
    reply = campus.create(one.instructor, admin, "Projector", attendance_channel=attendance, display_channel=admin)
    assert reply.content == messages.course_created_reply("Projector", admin, attendance, admin)
    course = campus.course("Projector")
    assert (course.attendance_channel_id, course.display_channel_id) == (attendance, admin)
    session, card = campus.open(course)
    assert session_messages(campus.emu, session.session_id, channel_id=attendance) == []
    student = campus.student("projected")
    reply = campus.here(student, card.code, admin)
    assert reply.content == messages.wrong_channel_reply(
        sorted({c.attendance_channel_id for c in campus.courses(one) if not c.archived})
    )
    assert campus.here(student, card.code, attendance).content == _accepted(session.session_id)


def test_here_where_no_course_takes_attendance_names_this_servers_channels(campus: Campus) -> None:
    """/here in a channel where no course takes attendance points to this server's attendance channels, never another's."""
    for guild in (campus.one, campus.two):
        channels = sorted({c.attendance_channel_id for c in campus.courses(guild) if not c.archived})
        reply = campus.here(campus.student(f"lost_{guild.id}", guild), "ABCD", guild.general_channel_id)
        assert reply.content == messages.wrong_channel_reply(channels)
        assert reply.ephemeral
        assert guild.attendance_channel_id in channels


# -- restarts ---------------------------------------------------------------------------------


def test_restart_resumes_every_open_session(campus: Campus) -> None:
    """SIGTERM with three sessions open in two servers, then a new start: each code message is edited again
    in place, and each course's code (as the database computes it) still checks in."""
    courses = [campus.course(ENV_COURSE), campus.course(PHYSICS), campus.course(CHEMISTRY, campus.two)]
    opened = [campus.open(course) for course in courses]
    assert campus.bot.signal(signal.SIGTERM) == 0, campus.bot.output()
    emu = campus.emu

    def edits(message_id: int) -> int:
        return emu.run(lambda e: len(e.get_message(message_id).edits))

    before = {card.message_id: edits(card.message_id) for _, card in opened}
    campus.restart()

    for course, (session, card) in zip(courses, opened, strict=True):
        wait_until(lambda: edits(card.message_id) > before[card.message_id], INTERVAL + 3, f"an edit of {course.name}")
        shown = [m.id for m in session_messages(emu, session.session_id, channel_id=course.display_channel_id)]
        assert shown == [card.message_id]
        now_shown = live_card(emu, session.session_id, channel_id=course.display_channel_id)
        assert now_shown.code == campus.db.code_for(now_shown)
        student = campus.student(f"afterrestart_{_slug(course.name)}", campus.guild_of(course))
        reply = campus.here(student, campus.current_code(course), course.attendance_channel_id)
        assert reply.content == _accepted(session.session_id)
        assert [r.user_id for r in campus.db.rows(session.session_id)] == [student.id]


def test_kill_during_a_burst_over_two_courses_keeps_every_acknowledged_check_in(campus: Campus) -> None:
    """kill -9 while two courses' students check in at once, then a restart: every ✅ is stored, once, in its
    own course's session; the students left without an answer get in when they try again."""
    emu = campus.emu
    courses = [campus.course(ENV_COURSE), campus.course(PHYSICS)]
    opened = [campus.open(course) for course in courses]
    crowds = [crowd(emu, f"burst{i}_", BURST) for i in range(len(courses))]
    # Callbacks held a little, so the kill lands while answers are still on their way.
    emu.faults.add(r"/interactions/\d+/.+/callback", "POST", None, delay=0.2)
    handles: list[list[InteractionHandle]] = [[] for _ in courses]
    for start in range(0, BURST, 50):  # the two classes interleaved
        for i, (course, (_, card)) in enumerate(zip(courses, opened, strict=True)):
            handles[i] += burst(emu, crowds[i][start : start + 50], card.code, course.attendance_channel_id)
    wait_until(lambda: all(answered(emu, h) for h in handles), 20, "the first answers in both courses")
    assert campus.bot.signal(signal.SIGKILL) == -signal.SIGKILL
    emu.faults.clear()

    acked: list[set[int]] = []
    unanswered: list[list[Member]] = []
    for i, (session, _) in enumerate(opened):
        ok = accepted_replies(session.session_id)
        seen = contents(emu, handles[i])
        assert all(reply is None or reply in ok for reply in seen.values())
        acked.append({user for user, reply in seen.items() if reply in ok})
        unanswered.append([s for s in crowds[i] if seen[s.id] is None])
    assert all(acked) and any(unanswered), "the kill should land in the middle of both classes' burst"

    campus.restart()
    for i, (course, (session, _)) in enumerate(zip(courses, opened, strict=True)):
        stored = row_counts(campus.db.path, session.session_id)
        assert acked[i] <= stored.keys()
        assert stored.keys() <= {s.id for s in crowds[i]}  # nobody of the other course's class
        assert set(stored.values()) <= {1}
        retry = burst(emu, unanswered[i], campus.current_code(course), course.attendance_channel_id)
        wait_until(lambda: answered(emu, retry) == len(retry), 30, "answers to the retries")
        assert set(contents(emu, retry).values()) <= accepted_replies(session.session_id)
        assert row_counts(campus.db.path, session.session_id) == {s.id: 1 for s in crowds[i]}


# -- nothing crosses servers ------------------------------------------------------------------


def test_server_one_cannot_touch_server_two_courses(campus: Campus) -> None:
    """A student and an instructor of server 1 naming server 2's course (or typing its session id or code) in
    server 1 are refused every time, and nothing of server 2 changes."""
    one, two = campus.one, campus.two
    chemistry, env_course = campus.course(CHEMISTRY, two), campus.course(ENV_COURSE)
    theirs, their_card = campus.open(chemistry)
    ours, _ = campus.open(env_course)
    assert campus.here(campus.student("chemist", two), their_card.code, two.attendance_channel_id).content == (
        _accepted(theirs.session_id)
    )
    before = _snapshot(campus.db.path, two.id)
    our_names = [c.name for c in campus.courses(one)]
    student = campus.student("nosy")
    calls: list[tuple[str, dict[str, Any]]] = [
        ("open_attendance", {"course": CHEMISTRY}),
        ("close_attendance", {"course": CHEMISTRY}),
        ("export_csv", {"course": CHEMISTRY}),
        ("export_csv", {"course": CHEMISTRY, "session_id": theirs.session_id}),
        ("course edit", {"course": CHEMISTRY, "interval": 30}),
        ("course edit", {"course": CHEMISTRY, "name": "Hijacked"}),
        ("course archive", {"course": CHEMISTRY}),
    ]
    for command, options in calls:
        reply = campus.emu.invoke(one.instructor, one.admin_channel_id, command, **options)
        assert (command, reply.content) == (command, messages.unknown_course(CHEMISTRY, our_names))
        assert reply.ephemeral and reply.files == []
        reply = campus.emu.invoke(student, one.admin_channel_id, command, **options)
        refusal = messages.not_a_manager_reply() if command == "course archive" else messages.not_admin_reply()
        assert (command, reply.content) == (command, refusal)
        assert reply.ephemeral and reply.files == []

    # Server 2's session id, with server 1's own course: as unknown as no session at all.
    with campus.db.service() as service, pytest.raises(UnknownSession) as unknown:
        service.export_rows(theirs.session_id, course_id=env_course.id)
    reply = campus.emu.invoke(one.instructor, one.admin_channel_id, "export_csv", session_id=theirs.session_id)
    assert reply.content == str(unknown.value)
    assert reply.files == []
    # Server 2's code in server 1's attendance channel is a wrong code there.
    reply = campus.here(student, their_card.code, one.attendance_channel_id)
    assert reply.content == _wrong(ours.session_id, their_card.code)
    assert campus.db.rows(ours.session_id) == []

    assert _snapshot(campus.db.path, two.id) == before
    assert live_card(campus.emu, theirs.session_id, channel_id=chemistry.display_channel_id).is_open


def test_instructor_of_server_two_has_no_say_in_server_one(campus: Campus) -> None:
    """Server 2's instructor, a member of server 1 without roles there, is refused every admin command in server 1."""
    one, two = campus.one, campus.two
    try:
        visitor = one.member(two.instructor.id)
    except KeyError:
        visitor = one.add_member(existing_member=two.instructor)
    env_course, physics = campus.course(ENV_COURSE), campus.course(PHYSICS)
    campus.open(env_course)
    before = _snapshot(campus.db.path, one.id)
    not_admin, not_manager = messages.not_admin_reply(), messages.not_a_manager_reply()
    calls: list[tuple[int, str, dict[str, Any], str]] = [
        (one.admin_channel_id, "open_attendance", {}, not_admin),
        (physics.admin_channel_id, "open_attendance", {}, not_admin),
        (one.admin_channel_id, "open_attendance", {"course": PHYSICS}, not_admin),
        (one.admin_channel_id, "close_attendance", {}, not_admin),
        (one.admin_channel_id, "export_csv", {}, not_admin),
        (one.admin_channel_id, "course list", {}, not_admin),
        (one.admin_channel_id, "course edit", {"course": ENV_COURSE, "interval": 30}, not_admin),
        (
            one.admin_channel_id,
            "course create",
            {"name": "Intruder", "attendance_channel": one.attendance_channel_id},
            not_manager,
        ),
        (one.admin_channel_id, "course archive", {"course": PHYSICS}, not_manager),
    ]
    for channel, command, options, refusal in calls:
        reply = campus.emu.invoke(visitor, channel, command, **options)
        assert (command, reply.content) == (command, refusal)
        assert reply.ephemeral and reply.files == []
    assert _snapshot(campus.db.path, one.id) == before


CREATE_REFUSALS = [
    "attendance_elsewhere",
    "display_elsewhere",
    "role_elsewhere",
    "bot_cannot_send",
    "bot_cannot_see",
    "display_without_embeds",
    "everyone_role",
]


@pytest.mark.parametrize("case", CREATE_REFUSALS)
def test_course_create_refuses_what_it_cannot_use(campus: Campus, case: str) -> None:
    """/course create with another server's channel or role, a channel the bot cannot see or post in, or
    @everyone as the instructor role is refused with the reason, and creates no course."""
    one, two = campus.one, campus.two
    admin = one.add_text_channel(f"setup-{case}")
    attendance = one.add_text_channel(f"attendance-{case}")
    options: dict[str, Any] = {"attendance_channel": attendance}
    if case == "attendance_elsewhere":
        options["attendance_channel"] = two.attendance_channel_id
        expected = messages.channel_elsewhere("attendance channel", two.attendance_channel_id)
    elif case == "display_elsewhere":
        options["display_channel"] = two.general_channel_id
        expected = messages.channel_elsewhere("display channel", two.general_channel_id)
    elif case == "role_elsewhere":
        options["instructor_role"] = two.admin_role_id
        expected = messages.role_elsewhere()
    elif case == "bot_cannot_send":
        campus.emu.set_channel_overwrite(attendance, campus.emu.emu.bot_user_id, deny=SEND_MESSAGES, kind="member")
        expected = messages.channel_permission_missing("attendance channel", attendance, ["Send Messages"])
    elif case == "bot_cannot_see":
        campus.emu.set_channel_overwrite(attendance, one.bot_role_id, deny=VIEW_CHANNEL, kind="role")
        expected = messages.channel_not_visible("attendance channel", attendance)
    elif case == "display_without_embeds":
        options["display_channel"] = display = one.add_text_channel(f"display-{case}")
        campus.emu.set_channel_overwrite(display, campus.emu.emu.bot_user_id, deny=EMBED_LINKS, kind="member")
        expected = messages.channel_permission_missing("display channel", display, ["Embed Links"])
    else:
        options["instructor_role"] = one.everyone_role_id
        expected = messages.instructor_role_is_everyone()
    before = (_snapshot(campus.db.path, one.id)["course"], _snapshot(campus.db.path, two.id)["course"])
    reply = campus.create(one.instructor, admin, f"Refused {case}", **options)
    assert reply.content == expected
    assert reply.ephemeral
    assert (_snapshot(campus.db.path, one.id)["course"], _snapshot(campus.db.path, two.id)["course"]) == before


@pytest.mark.parametrize("name", ["\u202eevil", "C1\x85x", "zw\u200bsp"], ids=["rtl-override", "c1", "zero-width"])
def test_course_create_and_edit_refuse_control_and_text_reordering_characters(campus: Campus, name: str) -> None:
    """/course create and /course edit with a name holding U+202E, a C1 control or a zero-width character:
    refused privately with the course-name rule; no course is made or renamed."""
    one = campus.one
    admin = one.add_text_channel(f"setup-hidden-{ord(name[-3])}")
    attendance = one.add_text_channel(f"attendance-hidden-{ord(name[-3])}")
    before = _snapshot(campus.db.path, one.id)["course"]
    reply = campus.create(one.instructor, admin, name, attendance_channel=attendance)
    assert (reply.content, reply.ephemeral) == (messages.course_name_invalid(name, 50), True)
    reply = campus.emu.invoke(one.instructor, one.admin_channel_id, "course edit", course=ENV_COURSE, name=name)
    assert (reply.content, reply.ephemeral) == (messages.course_name_invalid(name, 50), True)
    assert _snapshot(campus.db.path, one.id)["course"] == before


EDIT_REFUSALS = ["attendance_elsewhere", "display_elsewhere", "role_elsewhere"]


@pytest.mark.parametrize("case", EDIT_REFUSALS)
def test_course_edit_refuses_another_servers_channel_or_role(campus: Campus, case: str) -> None:
    """/course edit pointing a course at another server's channel or role is refused with the reason; nothing changes."""
    one, two = campus.one, campus.two
    physics = campus.course(PHYSICS)
    option, value, expected = {
        "attendance_elsewhere": (
            "attendance_channel",
            two.attendance_channel_id,
            messages.channel_elsewhere("attendance channel", two.attendance_channel_id),
        ),
        "display_elsewhere": (
            "display_channel",
            two.general_channel_id,
            messages.channel_elsewhere("display channel", two.general_channel_id),
        ),
        "role_elsewhere": ("instructor_role", two.admin_role_id, messages.role_elsewhere()),
    }[case]
    before = _snapshot(campus.db.path, one.id)["course"]
    reply = campus.emu.invoke(
        one.instructor, physics.admin_channel_id, "course edit", course=PHYSICS, **{option: value}
    )
    assert reply.content == expected
    assert reply.ephemeral
    assert _snapshot(campus.db.path, one.id)["course"] == before


@pytest.mark.parametrize("typed", ["", "01", "pHyS", "chem", "no such course"])
def test_course_autocomplete_offers_this_servers_courses_matching(campus: Campus, typed: str) -> None:
    """Autocomplete of /open_attendance's course offers this server's courses whose name holds what is typed."""
    one, two = campus.one, campus.two
    choices = campus.emu.autocomplete(
        one.instructor, one.admin_channel_id, "open_attendance", focused="course", course=typed
    )
    expected = [c.name for c in campus.courses(one) if typed.casefold() in c.name.casefold()]
    assert [c["name"] for c in choices] == expected
    assert all(c["value"] == c["name"] for c in choices)
    assert CHEMISTRY not in expected
    if typed in ("", "01"):
        assert PHYSICS in expected
    theirs = campus.emu.autocomplete(
        two.instructor, two.admin_channel_id, "open_attendance", focused="course", course=typed
    )
    assert [c["name"] for c in theirs] == [c.name for c in campus.courses(two) if typed.casefold() in c.name.casefold()]
    assert PHYSICS not in [c["name"] for c in theirs]


def test_course_names_are_unique_per_server_whatever_the_case(campus: Campus) -> None:
    """A course name is taken in its server whatever its case and spacing, but another server may use it;
    naming it in each server finds that server's own course."""
    one, two = campus.one, campus.two
    ours = campus.new_course("Music")
    reply = campus.create(
        one.instructor, one.add_text_channel("music-again"), "  MUSIC ", attendance_channel=ours.attendance_channel_id
    )
    assert reply.content == messages.course_name_taken("Music")  # the course as stored, not as typed
    assert [c.name for c in campus.courses(one)].count("Music") == 1
    their_admin, their_attendance = two.add_text_channel("music-admin"), two.add_text_channel("music")
    reply = campus.create(two.instructor, their_admin, "MUSIC", attendance_channel=their_attendance)
    assert reply.content == messages.course_created_reply("MUSIC", their_admin, their_attendance, their_attendance)
    theirs = campus.course("music", two)
    assert theirs.id != ours.id and theirs.guild_id == two.id

    reply = campus.emu.invoke(one.instructor, ours.admin_channel_id, "open_attendance", course="music")
    session = campus.open_session(ours)
    assert session is not None and reply.content == messages.opened_reply(session.session_id, ours.display_channel_id)
    assert campus.open_session(theirs) is None
    reply = campus.emu.invoke(two.instructor, their_admin, "close_attendance", course="Music")
    assert reply.content == messages.no_open_session()
    assert campus.open_session(ours) is not None


# -- running and changing courses -------------------------------------------------------------


def test_instructor_role_runs_its_own_course_only(campus: Campus) -> None:
    """A member whose only power is a course's instructor role runs that course (open, export, edit, close)
    but no other, and cannot create or archive courses."""
    one = campus.one
    role = one.add_role("Optics TAs")
    admin, attendance = one.add_text_channel("optics-admin"), one.add_text_channel("optics")
    reply = campus.create(one.instructor, admin, "Optics", attendance_channel=attendance, instructor_role=role)
    assert reply.content == messages.course_created_reply("Optics", admin, attendance, attendance)
    optics = campus.course("Optics")
    assert optics.instructor_role_id == role
    ta = one.add_member("opticsta", role_ids=(role,))

    reply = campus.emu.invoke(ta, admin, "open_attendance")
    session = campus.open_session(optics)
    assert session is not None and reply.content == messages.opened_reply(session.session_id, attendance)
    assert campus.emu.invoke(ta, admin, "export_csv").content == messages.export_reply(0, None)
    assert campus.emu.invoke(ta, admin, "course edit", course="Optics", grace=3).content == (
        messages.course_edited_reply("Optics")
    )
    assert campus.course("Optics").grace_seconds == 3
    assert campus.emu.invoke(ta, admin, "course list").content == messages.course_list_reply(campus.courses(one))

    before = _snapshot(campus.db.path, one.id)
    physics = campus.course(PHYSICS)
    refused: list[tuple[int, str, dict[str, Any], str]] = [
        (one.admin_channel_id, "open_attendance", {}, messages.not_admin_reply(ENV_COURSE)),
        (physics.admin_channel_id, "open_attendance", {}, messages.not_admin_reply(PHYSICS)),
        (physics.admin_channel_id, "export_csv", {}, messages.not_admin_reply(PHYSICS)),
        (admin, "course edit", {"course": PHYSICS, "interval": 30}, messages.not_admin_reply(PHYSICS)),
        (
            admin,
            "course create",
            {"name": "Optics II", "attendance_channel": attendance},
            messages.not_a_manager_reply(),
        ),
        (admin, "course archive", {"course": PHYSICS}, messages.not_a_manager_reply()),
    ]
    for channel, command, options, refusal in refused:
        reply = campus.emu.invoke(ta, channel, command, **options)
        assert (command, reply.content) == (command, refusal)
        assert reply.ephemeral and reply.files == []
    assert _snapshot(campus.db.path, one.id) == before

    reply = campus.emu.invoke(ta, admin, "close_attendance")
    assert reply.content == messages.closed_reply(session.session_id, 0)


def test_shared_admin_channel_needs_the_course_option(campus: Campus) -> None:
    """With two courses run from one admin channel, /open_attendance without a course is refused naming both;
    with the course it opens that one only."""
    admin = campus.one.add_text_channel("shared-admin")
    algebra = campus.new_course("Algebra", admin_channel=admin)
    geometry = campus.new_course("Geometry", admin_channel=admin)
    for command in ("open_attendance", "close_attendance", "export_csv"):
        reply = campus.emu.invoke(campus.one.instructor, admin, command)
        assert (command, reply.content) == (command, messages.course_option_needed(["Algebra", "Geometry"]))
        assert reply.ephemeral and reply.files == []
    assert campus.open_session(algebra) is None and campus.open_session(geometry) is None

    session, card = campus.open(geometry, by_name=True)
    assert card.course == "Geometry"
    assert campus.open_session(algebra) is None
    reply = campus.emu.invoke(campus.one.instructor, admin, "close_attendance", course="Geometry")
    assert reply.content == messages.closed_reply(session.session_id, 0)
    assert campus.db.session(session.session_id).closed_at is not None


def test_interval_edit_applies_from_the_next_session(campus: Campus) -> None:
    """/course edit interval:30 while a session is open: that session keeps its interval, the next one has 30 s."""
    biology = campus.new_course("Biology")
    assert biology.interval == INTERVAL
    first, _ = campus.open(biology)
    reply = campus.emu.invoke(
        campus.one.instructor, biology.admin_channel_id, "course edit", course="Biology", interval=30
    )
    assert reply.content == messages.course_edited_reply("Biology")
    assert reply.ephemeral
    assert campus.course("Biology").interval == 30
    assert campus.db.session(first.session_id).interval == INTERVAL
    reply = campus.emu.invoke(campus.one.instructor, biology.admin_channel_id, "close_attendance")
    assert reply.content == messages.closed_reply(first.session_id, 0)
    second, card = campus.open(biology)
    assert campus.db.session(second.session_id).interval == 30
    assert card.code == campus.db.code_for(card)


def test_open_session_keeps_taking_codes_where_they_are_shown_after_a_move(campus: Campus) -> None:
    """/course edit attendance_channel while a session is open ("an open one keeps its settings"): the open
    session's code stays where it is shown and still checks in there; the next session uses the new channel."""
    one = campus.one
    course = campus.new_course("Astronomy")
    session, card = campus.open(course)
    moved = one.add_text_channel("astronomy-moved")
    reply = campus.emu.invoke(
        one.instructor, course.admin_channel_id, "course edit", course="Astronomy", attendance_channel=moved
    )
    assert reply.content == messages.course_edited_reply("Astronomy")
    assert (
        live_card(campus.emu, session.session_id, channel_id=course.attendance_channel_id).message_id == card.message_id
    )
    where_shown = campus.here(campus.student("stargazer"), campus.current_code(course), course.attendance_channel_id)

    reply = campus.emu.invoke(one.instructor, course.admin_channel_id, "close_attendance")
    assert reply.content == messages.closed_reply(session.session_id, len(campus.db.rows(session.session_id)))
    nxt, nxt_card = campus.open(campus.course("Astronomy"))
    assert session_messages(campus.emu, nxt.session_id, channel_id=course.attendance_channel_id) == []
    reply = campus.here(campus.student("newplace"), nxt_card.code, moved)
    assert reply.content == _accepted(nxt.session_id)

    assert where_shown.content == _accepted(session.session_id)


def test_course_edit_without_changes_is_not_a_database_failure(campus: Campus) -> None:
    """/course edit naming only the course changes nothing and says to give a setting (not that the database failed)."""
    one = campus.one
    physics = campus.course(PHYSICS)
    before, start = _snapshot(campus.db.path, one.id)["course"], len(campus.bot.stderr)
    reply = campus.emu.invoke(one.instructor, physics.admin_channel_id, "course edit", course=PHYSICS)
    assert reply.ephemeral
    assert reply.content == messages.course_edit_needs_a_change()
    assert _snapshot(campus.db.path, one.id)["course"] == before
    assert [line for line in campus.bot.stderr[start:] if " ERROR " in line] == []


def test_archived_course_takes_no_sessions_but_keeps_its_records(campus: Campus) -> None:
    """/course archive is refused while a session is open; once archived the course opens no session, is listed
    as archived, and its records still export."""
    one = campus.one
    course = campus.new_course("Latin")
    session, card = campus.open(course)
    assert campus.here(campus.student("latinist"), card.code, course.attendance_channel_id).content == _accepted(
        session.session_id
    )
    reply = campus.emu.invoke(one.instructor, course.admin_channel_id, "course archive", course="Latin")
    assert reply.content == messages.close_before_archiving("Latin", session.session_id)
    assert campus.course("Latin").archived_at is None
    assert campus.emu.invoke(one.instructor, course.admin_channel_id, "close_attendance").content == (
        messages.closed_reply(session.session_id, 1)
    )

    reply = campus.emu.invoke(one.instructor, course.admin_channel_id, "course archive", course="latin")
    assert reply.content == messages.course_archived_reply("Latin")
    assert campus.course("Latin").archived
    reply = campus.emu.invoke(one.instructor, course.admin_channel_id, "open_attendance")
    assert reply.content == messages.course_archived_refusal("Latin")
    assert campus.open_session(course) is None
    listed = campus.emu.invoke(one.instructor, one.admin_channel_id, "course list")
    assert listed.content == messages.course_list_reply(campus.courses(one))
    assert messages.course_line(campus.course("Latin")) in listed.content.splitlines()
    reply = campus.emu.invoke(one.instructor, course.admin_channel_id, "export_csv")
    assert reply.content == messages.export_reply(1, None)
    assert len(reply.files) == 1


# -- registration and the .env course ---------------------------------------------------------


def test_guild_id_registers_the_commands_for_that_server_only(fresh_world: World) -> None:
    """With GUILD_ID set the commands are registered for that server only: none globally, none in another server."""
    emu = fresh_world.emu
    fresh_world.bot = BotProcess(emu, {**fresh_world.env, "GUILD_ID": str(emu.guild_id)})
    fresh_world.bot.start()
    assert sorted(c["name"] for c in emu.registered_commands(emu.guild_id)) == sorted(COMMANDS)
    assert emu.registered_commands(None) == []
    reply = emu.invoke(emu.instructor, emu.admin_channel_id, "course list")
    with fresh_world.db.service() as service:
        assert reply.content == messages.course_list_reply(service.courses.courses(emu.guild_id))
    elsewhere = emu.add_guild("Elsewhere")
    with pytest.raises(UnknownCommand):
        emu.invoke(elsewhere.instructor, elsewhere.admin_channel_id, "course list")


def test_env_course_follows_env_at_each_start_keeping_its_code_settings(fresh_world: World) -> None:
    """The .env course is created at the first start; at the next it takes the attendance channel .env now
    names, keeps the code settings an instructor gave it, and no second course appears."""
    emu, db = fresh_world.emu, fresh_world.db
    fresh_world.bot.start()
    reply = emu.invoke(emu.instructor, emu.admin_channel_id, "course edit", course=ENV_COURSE, interval=30)
    assert reply.content == messages.course_edited_reply(ENV_COURSE)
    assert fresh_world.bot.signal(signal.SIGTERM) == 0
    moved = emu.add_text_channel("attendance-moved")
    fresh_world.bot = BotProcess(emu, {**fresh_world.env, "ATTENDANCE_CHANNEL_ID": str(moved)})
    fresh_world.bot.start()
    with db.service() as service:
        courses = service.courses.courses()
    assert [(c.name, c.guild_id, c.admin_channel_id, c.attendance_channel_id, c.interval) for c in courses] == [
        (ENV_COURSE, emu.guild_id, emu.admin_channel_id, moved, 30)
    ]
