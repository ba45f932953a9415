"""Version 9, timetables (issue 18): a course's timezone, its weekly timetable, its skipped dates,
and one row per meeting the bot acted on (opened, adopted or missed), unique per entry and date."""

import peewee

from attendance_bot.models import DayField, UTCDateTimeField


def up(migrator, db):
    class Course(peewee.Model):
        class Meta:
            database = db
            table_name = "course"

    class ScheduleEntry(peewee.Model):
        course = peewee.ForeignKeyField(Course, column_name="course_id")
        weekday = peewee.IntegerField()
        start = peewee.TextField()
        minutes = peewee.IntegerField()
        first_day = DayField(null=True)
        last_day = DayField(null=True)
        created_at = UTCDateTimeField()
        created_by = peewee.TextField(null=True)
        removed_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "schedule_entry"

    class ScheduleSkip(peewee.Model):
        course = peewee.ForeignKeyField(Course, column_name="course_id")
        day = DayField()
        created_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "schedule_skip"
            indexes = ((("course", "day"), True),)

    class ScheduleRun(peewee.Model):
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
            database = db
            table_name = "schedule_run"
            indexes = ((("entry", "day"), True), (("finished_at", "ends_at"), False))

    db.create_tables([ScheduleEntry, ScheduleSkip, ScheduleRun])
    migrator.migrate(migrator.add_column("course", "timezone", peewee.TextField(null=True)))
