"""End to end: statuses, corrections, history, reports and `/my_attendance` with the real bot on
the emulator, and every new instructor command refused to a student."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from _backends import execute, fetch
from botdriver import live_card, most_children, wait_until
from conftest import World
from faultkit import accepted_replies, answered, burst, contents, crowd

from attendance_bot import messages
from attendance_bot.emulator import Member
from attendance_bot.models import UTC_FORMAT
from attendance_bot.records import STATUSES, GradingPolicy

pytestmark = pytest.mark.backends("sqlite", "postgresql")


def query(world: World, sql: str, *params: object) -> list[tuple[Any, ...]]:
    return fetch(world.db.target, sql, params, read_only=True)


def snapshot(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Everything an instructor command could change (the rotator's bookkeeping of its message aside)."""
    return {
        "attendance": query(world, "SELECT * FROM attendance ORDER BY id"),
        "event": query(world, "SELECT * FROM event ORDER BY id"),
        "course": query(world, "SELECT * FROM course ORDER BY id"),
        "roster": query(world, "SELECT * FROM roster_entry ORDER BY id"),
        "session": query(world, "SELECT id, session_id, closed_at, late_after FROM session ORDER BY id"),
    }


def checked_in(world: World, member: Member) -> tuple[str, str]:
    """Open a session, have `member` check in with the code on screen; the session id and the reply."""
    session_id, _ = world.open()
    card = live_card(world.emu, session_id)
    reply = world.here(member, world.db.code_for(card))
    return session_id, reply.content or ""


def records(world: World, member: Member) -> list[tuple[Any, ...]]:
    return query(world, "SELECT session_id, status, source FROM attendance WHERE user_id = ? ORDER BY id", member.id)


def admin(world: World, command: str, **options: Any) -> str:
    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, command, **options)
    assert reply.ephemeral
    return reply.content or ""


def test_a_check_in_after_late_after_minutes_is_late_and_told_so(world: World) -> None:
    """A session opened with late_after 5 takes a check-in 6 minutes after opening as late, and the
    student's reply says so."""
    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "open_attendance", late_after=5)
    session = world.db.open_session()
    assert session is not None and "5 minutes after now count as late" in (reply.content or "")
    earlier = (datetime.now(timezone.utc) - timedelta(minutes=6)).strftime(UTC_FORMAT)
    # the session opened 6 minutes ago
    execute(
        world.db.target, "UPDATE session SET opened_at = ? WHERE session_id = ?", params=(earlier, session.session_id)
    )
    ada = world.student("ada_late")
    answer = world.here(ada, world.db.code_for(live_card(world.emu, session.session_id)))
    assert "marked late" in (answer.content or "") and "5 minutes" in (answer.content or "")
    assert records(world, ada) == [(session.session_id, "late", "code")]


def test_a_mark_stands_against_a_later_check_in_and_is_in_the_history(world: World) -> None:
    """The instructor excuses a student by mention in the open session; the student's /here keeps
    excused and says the instructor set it; the history shows the mark and the attempt."""
    bob = world.student("bob_mark")
    session_id, _ = world.open()
    reply = admin(world, "attendance mark", student=f"<@{bob.id}>", status="excused", reason="doctor's note")
    assert "excused" in reply and session_id in reply and "doctor's note" in reply
    answer = world.here(bob, world.db.code_for(live_card(world.emu, session_id)))
    assert "set by your instructor" in (answer.content or "")
    assert records(world, bob) == [(session_id, "excused", "manual")]
    history = admin(world, "attendance history", student=str(bob.id))
    assert "mark" in history and "doctor's note" in history and "re-check-in" in history
    actions = query(world, "SELECT action, old_status, new_status, source FROM event WHERE user_id = ?", bob.id)
    assert actions == [("mark", None, "excused", "manual"), ("re-check-in", "excused", "excused", "code")]


def test_remove_deletes_the_record_with_its_event(world: World) -> None:
    """/attendance remove deletes one record of a closed session and writes a remove event."""
    cleo = world.student("cleo_remove")
    session_id, said = checked_in(world, cleo)
    assert said.startswith("✅")
    world.db.close_any()
    reply = admin(world, "attendance remove", student=str(cleo.id), session=session_id, reason="left early")
    assert "removed" in reply and "left early" in reply
    assert records(world, cleo) == []
    assert query(world, "SELECT action, old_status FROM event WHERE user_id = ? ORDER BY id", cleo.id) == [
        ("check-in", None),
        ("remove", "present"),
    ]


def test_student_and_session_autocomplete_offer_the_courses_people_and_sessions(world: World) -> None:
    """Autocomplete of `student` offers who checked in (by name); of `session`, the course's sessions."""
    dora = world.student("dora_complete")
    session_id, _ = checked_in(world, dora)
    students = world.emu.autocomplete(
        world.emu.instructor, world.emu.admin_channel_id, "attendance mark", focused="student", student="dora"
    )
    assert any("dora_complete" in choice["name"] for choice in students)
    sessions = world.emu.autocomplete(
        world.emu.instructor, world.emu.admin_channel_id, "attendance mark", focused="session", session=""
    )
    assert session_id in [choice["value"] for choice in sessions]


def test_a_student_gets_no_names_from_autocomplete(world: World) -> None:
    """A student forging an autocomplete of /attendance mark gets no choices (no names leak)."""
    eve = world.student("eve_complete")
    checked_in(world, eve)
    choices = world.emu.autocomplete(eve, world.emu.admin_channel_id, "attendance mark", focused="student", student="")
    assert choices == []


def test_report_attaches_the_totals_csv_and_the_heat_map(world: World) -> None:
    """/attendance report answers with two files: the totals CSV and a PNG."""
    fay = world.student("fay_report")
    checked_in(world, fay)
    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "attendance report")
    names = [name for name, _ in reply.files]
    assert len(names) == 2 and names[0].endswith(".csv") and names[1].endswith(".png")
    csv_data, png_data = reply.files[0][1], reply.files[1][1]
    assert csv_data.startswith(
        b"student_id,name,discord,sessions,present,late,excused,absent,rate,grade,voice_minutes\r\n"
    )
    assert b"fay_report" in csv_data
    assert png_data.startswith(b"\x89PNG\r\n\x1a\n")


def test_reports_asked_at_once_are_made_one_at_a_time_and_each_answered(world: World) -> None:
    """Four /attendance report at once: each gets its CSV and PNG, the three that wait are told
    their place first, and the bot never runs more than one report process at a time."""
    checked_in(world, world.student("kim_reports"))
    emu, instructor, channel = world.emu, world.emu.instructor, world.emu.admin_channel_id
    assert world.bot.proc is not None
    with most_children(world.bot.proc.pid) as most:
        handles = emu.run(
            lambda e: [e.dispatch_interaction(instructor, channel, "attendance report") for _ in range(4)]
        )

        def made() -> list[list[Any]] | None:
            shown = emu.run(lambda e: [e.interaction_messages(h.id) for h in handles])
            return shown if all(any(m.files for m in ms) for ms in shown) else None

        shown = wait_until(made, 60, "a report for every request")
    assert most[0] == 1, f"{most[0]} report processes at once"
    queued = sorted(ms[0].content for ms in shown if not ms[0].files)
    assert queued == sorted(messages.report_queued_reply("default", n) for n in (1, 2, 3))
    for ms in shown:
        report = ms[-1]
        assert [name for name, _ in report.files] == ["attendance_report_default.csv", "attendance_report_default.png"]
        assert report.ephemeral and b"kim_reports" in report.files[0][1]


def test_a_class_checks_in_while_reports_are_drawn(world: World) -> None:
    """A burst of 100 /here while three reports are drawn and queued: every student is answered
    present, and every report still comes."""
    emu, instructor, channel = world.emu, world.emu.instructor, world.emu.admin_channel_id
    session_id, _ = world.open()
    code = world.db.code_for(live_card(emu, session_id))
    students = crowd(emu, "burst_report", 100)
    reports = emu.run(lambda e: [e.dispatch_interaction(instructor, channel, "attendance report") for _ in range(3)])
    wait_until(lambda: answered(emu, reports) == 2, 30, "two reports told they are queued")
    handles = burst(emu, students, code)
    wait_until(lambda: answered(emu, handles) == len(handles), 60, "an answer to every /here")
    assert set(contents(emu, handles).values()) <= accepted_replies(session_id)

    def made() -> bool:
        shown = emu.run(lambda e: [e.interaction_messages(h.id) for h in reports])
        return all(any(m.files for m in ms) for ms in shown)

    wait_until(made, 60, "every report")


def test_my_attendance_shows_a_students_own_sessions_privately(world: World) -> None:
    """A student sees their own sessions and rate, privately; one with no record is told how to get one."""
    gus = world.student("gus_mine")
    session_id, _ = checked_in(world, gus)
    reply = world.emu.invoke(gus, world.emu.general_channel_id, "my_attendance")
    assert reply.ephemeral
    assert session_id in (reply.content or "") and "1 present" in (reply.content or "")
    nobody = world.student("nobody_mine")
    empty = world.emu.invoke(nobody, world.emu.general_channel_id, "my_attendance")
    assert empty.content == messages.my_attendance_lines([], timezone.utc)[0]


def test_the_grading_policy_set_in_discord_regrades_past_sessions(world: World) -> None:
    """A student present in one session and marked late in the next sees 90.00 (late 0.8); after
    /course edit late_points:0.5 drop_lowest:1 the same record reads 100.00 (the late session dropped),
    said with the policy; a late_points of 0.333 is refused with the range sentence and changes nothing."""
    ivan = world.student("ivan_grade")
    emu = world.emu
    emu.invoke(emu.instructor, emu.admin_channel_id, "close_attendance")  # whatever an earlier test left open
    checked_in(world, ivan)
    emu.invoke(emu.instructor, emu.admin_channel_id, "close_attendance")
    second, _ = world.open()
    admin(world, "attendance mark", student=str(ivan.id), status="late", session=second)

    def mine() -> str:
        reply = world.emu.invoke(ivan, world.emu.general_channel_id, "my_attendance")
        assert reply.ephemeral
        return reply.content or ""

    assert messages.grade_part(Decimal("90.00"), GradingPolicy()) in mine()
    try:
        edited = admin(world, "course edit", course="default", late_points=0.5, drop_lowest=1)
        assert edited == messages.course_edited_reply("default")
        assert messages.grade_part(Decimal("100.00"), GradingPolicy(Decimal("0.5"), 1)) in mine()
        before = snapshot(world)
        refused = admin(world, "course edit", course="default", late_points=0.333)
        assert refused == messages.course_setting_out_of_range("late_points", Decimal("0.333"), 0, 1, "points")
        assert snapshot(world) == before
    finally:
        admin(world, "course edit", course="default", late_points=0.8, drop_lowest=0)


FORGED = [
    ("attendance mark", {"student": "1", "status": "present"}),
    ("attendance remove", {"student": "1", "session": "x"}),
    ("attendance history", {"student": "1"}),
    ("attendance report", {}),
    ("open_attendance", {"late_after": 5}),
]


@pytest.mark.parametrize(("command", "options"), FORGED, ids=[c for c, _ in FORGED])
def test_a_student_forging_an_instructor_command_is_refused_and_nothing_changes(
    world: World, command: str, options: dict[str, Any]
) -> None:
    """Every new instructor command, sent by a student through the gateway in the admin channel
    (Discord's permission default bypassed), is refused; no record, event, course or session changes."""
    mallory = world.student(f"mallory_{command.replace(' ', '_')}")
    before = snapshot(world)
    reply = world.emu.invoke(mallory, world.emu.admin_channel_id, command, **options)
    assert reply.content == messages.not_admin_reply()
    assert reply.ephemeral and not reply.files
    assert snapshot(world) == before


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"student": "no-such-student", "status": "excused"}, messages.student_unknown("no-such-student", "default")),
        (
            {"student": "=cmd|' /C calc'!A0", "status": "present"},
            messages.student_unknown("=cmd|' /C calc'!A0", "default"),
        ),
        ({"student": "\u202eevil", "status": "late"}, messages.student_unknown("\u202eevil", "default")),
    ],
)
def test_a_mark_of_nobody_is_one_sentence_and_changes_nothing(
    world: World, options: dict[str, Any], expected: str
) -> None:
    """An instructor marking a student the course does not know gets one sentence; nothing changes."""
    world.open()
    before = snapshot(world)
    assert admin(world, "attendance mark", **options) == expected
    assert snapshot(world) == before


def test_a_forged_status_outside_the_choices_is_refused(world: World) -> None:
    """A status outside the option's choices, forged through the gateway, is refused by the service
    with the list of statuses; nothing changes."""
    hal = world.student("hal_forged")
    checked_in(world, hal)
    before = snapshot(world)
    reply = admin(world, "attendance mark", student=str(hal.id), status="bogus")
    assert reply == messages.status_invalid("bogus", STATUSES)
    assert snapshot(world) == before


@pytest.mark.parametrize("fmt", ["full", "gradebook"])
def test_export_formats_come_as_their_own_files(world: World, fmt: str) -> None:
    """/export_csv format:full has the statuses and the course; format:gradebook has the totals columns."""
    ivy = world.student(f"ivy_{fmt}")
    session_id, _ = checked_in(world, ivy)
    reply = world.emu.invoke(world.emu.instructor, world.emu.admin_channel_id, "export_csv", format=fmt)
    assert reply.ephemeral and len(reply.files) == 1
    name, data = reply.files[0]
    assert name == f"attendance_all_{fmt}.csv"
    header = data.split(b"\r\n", 1)[0].decode()
    if fmt == "full":
        assert header.endswith("student_id,student_name,status,source,course,voice_minutes,in_voice")
        assert f"{ivy.id},ivy_{fmt}".encode() in data and b",present,code,default" in data
    else:
        assert header.startswith("student_id,name,discord,") and session_id in header
        assert header.endswith("sessions,present,late,excused,absent,rate,grade")
