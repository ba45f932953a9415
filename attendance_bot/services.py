"""Services: every feature's service, built once from the settings and one clock.

The bot, the shell, the demo, the bench and the tests build one `Services` and reach each feature
through it, so every service sees the same settings and the same clock (tests pass a fake clock;
nothing below reads the wall clock itself). The bot hands in the voice presence it feeds from the
gateway; elsewhere it is an empty one (nobody is seen in voice).
"""

from __future__ import annotations

from .attendance import AttendanceService
from .clock import Clock, utc_now
from .corrections import CorrectionService
from .excuses import ExcuseService
from .exports import ExportService
from .gradebook import GradebookService
from .presence import VoicePresence
from .projector import ProjectorService
from .roster import RosterService
from .schedule import ScheduleService
from .seedimport import SeedImportService
from .settings import Settings
from .storage import ping
from .students import StudentService
from .voice import VoiceService
from .warnings import WarningService


class Services:
    """One of each service over one settings object, one clock and one voice presence; no state of its own."""

    def __init__(self, settings: Settings, clock: Clock = utc_now, presence: VoicePresence | None = None) -> None:
        self.settings = settings
        self.clock = clock
        self.presence = presence if presence is not None else VoicePresence()
        self.attendance = AttendanceService(settings, clock, self.presence)
        self.courses = self.attendance.courses  # the one CourseService, which attendance uses too
        self.students = StudentService(clock)
        self.roster = RosterService(settings, clock)
        self.corrections = CorrectionService(settings, clock)
        self.gradebook = GradebookService(settings, clock)
        self.voice = VoiceService(self.presence, clock)  # the voice log of open sessions
        self.seed_import = SeedImportService(settings, clock)
        self.exports = ExportService(settings, self.attendance, self.gradebook)  # records, full, gradebook
        self.projector = ProjectorService(settings, clock, self.attendance)  # the page's links and views
        self.schedule = ScheduleService(settings, clock, self.attendance)  # timetables, opened and closed on time
        # Low-attendance digests and the notes for students; `remaining` is the timetable's classes still to come.
        self.warnings = WarningService(settings, clock, self.schedule.remaining_occurrences)
        self.excuses = ExcuseService(settings, clock, self.corrections, self.gradebook)  # approve = a mark

    def database_up(self) -> bool:
        """Whether the database answers a trivial read now (for /healthz)."""
        return ping()
