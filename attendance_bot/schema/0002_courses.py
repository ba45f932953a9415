"""Version 2, courses: a course table, each session's course, attendance channel and window offset,
one open session per course instead of one in all; every earlier session becomes a session of the default course
(named and placed as `.env` says: attendance_bot.migrations.course_defaults())."""

from datetime import datetime, timezone

import peewee

from attendance_bot.migrations import course_defaults, fold, report
from attendance_bot.models import UTCDateTimeField


def up(migrator, db):
    class Course(peewee.Model):
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

        class Meta:
            database = db
            table_name = "course"
            indexes = ((("guild_id", "name_key"), True),)

    db.create_tables([Course])
    migrator.migrate(
        migrator.add_column(
            "session", "course_id", peewee.ForeignKeyField(Course, null=True, field=Course.id, column_name="course_id")
        ),
        migrator.add_column("session", "window_offset_ms", peewee.IntegerField(default=0)),
        migrator.add_column("session", "attendance_channel_id", peewee.BigIntegerField(null=True)),
        migrator.drop_index("session", "session_open_flag"),
        migrator.add_index("session", ("course_id", "open_flag"), True),
    )

    sessions = db.execute_sql('SELECT COUNT(*) FROM "session"').fetchone()[0]
    if not sessions:
        return
    defaults = course_defaults()
    guild_id = defaults.guild_id
    if guild_id is None:  # the server the bot served, as its latest session remembers it
        found = db.execute_sql(
            'SELECT "guild_id" FROM "session" WHERE "guild_id" IS NOT NULL ORDER BY "opened_at" DESC LIMIT 1'
        ).fetchone()
        guild_id = found[0] if found else None
    course = Course.create(
        name=defaults.name,
        name_key=fold(defaults.name),
        guild_id=guild_id,
        admin_channel_id=defaults.admin_channel_id,
        attendance_channel_id=defaults.attendance_channel_id,
        display_channel_id=defaults.display_channel_id,
        instructor_role_id=defaults.instructor_role_id,
        created_at=datetime.now(timezone.utc),
    )
    placed = 'UPDATE "session" SET "course_id" = {0}, "attendance_channel_id" = {0} WHERE "course_id" IS NULL'
    db.execute_sql(placed.format(db.param), (course.id, defaults.attendance_channel_id))
    report("sessions_joined_course", sessions=sessions, name=defaults.name)
