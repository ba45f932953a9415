"""Autocomplete pick-lists as people read them: the corrections service's students and sessions
with messages' labels (the text layer: the service itself makes no sentence)."""

from __future__ import annotations

from . import messages
from .corrections import MAX_TYPED, CorrectionService, clean_typed
from .excuses import ExcuseService
from .records import MAX_CHOICE, Choice, StudentRef
from .schedule import ScheduleService


def student_choice(student: StudentRef) -> Choice:
    """A student as an autocomplete choice."""
    return Choice(messages.student_choice_label(student), student.value)


def student_choices(corrections: CorrectionService, course_id: int, typed: str, limit: int = 25) -> list[Choice]:
    """The course's students whose student id, name, Discord username or account id contains what
    is typed (any case), roster students first, at most `limit`."""
    return [student_choice(student) for student in corrections.students_matching(course_id, typed)][: max(0, limit)]


def session_choices(corrections: CorrectionService, course_id: int, typed: str, limit: int = 25) -> list[Choice]:
    """The course's sessions, newest first, whose id or label contains what is typed."""
    needle = clean_typed(typed).casefold()
    if len(needle) > MAX_TYPED:
        return []
    tz = corrections.settings.timezone
    choices: list[Choice] = []
    for session in corrections.sessions_newest_first(course_id):
        label = messages.session_choice_label(session, tz)
        if needle in session.session_id.casefold() or needle in label.casefold():
            choices.append(Choice(label, session.session_id))
            if len(choices) >= limit:
                break
    return choices


def schedule_choices(schedule: ScheduleService, course_id: int, typed: str, limit: int = 25) -> list[Choice]:
    """The lines of the course's timetable whose description holds what is typed (`#3 Monday 10:00 ...`)."""
    needle = typed.strip().casefold()
    found = []
    for entry in schedule.timetable(course_id).entries:
        label = messages.schedule_entry_line(entry)
        if needle in label.casefold():
            found.append(Choice(label, str(entry.id)))
    return found[: max(0, limit)]


def own_session_choices(
    excuses: ExcuseService, guild_id: int, user_id: int, username: str | None, typed: str, limit: int = 25
) -> list[Choice]:
    """A student's own sessions in the server's courses (for /excuse), newest first, whose label holds
    what is typed."""
    needle = clean_typed(typed).casefold()
    if len(needle) > MAX_TYPED:
        return []
    tz = excuses.settings.timezone
    found: list[Choice] = []
    for course, one in excuses.own_sessions(guild_id, user_id, username):
        label = messages.excuse_session_choice_label(course.course_name, one, tz)
        if needle in label.casefold() and len(one.session.session_id) <= MAX_CHOICE:
            found.append(Choice(label, one.session.session_id))
            if len(found) >= limit:
                break
    return found
