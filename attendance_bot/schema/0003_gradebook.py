"""Version 3, the gradebook record (issue 9): students registered per server, each course's roster
from the LMS, a status and its source on every record, `late_after` per course and session, and an
append-only event for every change."""

import peewee

from attendance_bot.models import UTCDateTimeField


def up(migrator, db):
    class Base(peewee.Model):
        class Meta:
            database = db

    class Student(Base):
        guild_id = peewee.BigIntegerField()
        user_id = peewee.BigIntegerField()
        student_id = peewee.TextField()
        student_key = peewee.TextField()
        name = peewee.TextField(null=True)
        registered_at = UTCDateTimeField()

        class Meta:
            table_name = "student"
            indexes = ((("guild_id", "user_id"), True), (("guild_id", "student_key"), True))

    class RosterEntry(Base):
        course_id = peewee.IntegerField(index=True)
        student_id = peewee.TextField()
        student_key = peewee.TextField()
        name = peewee.TextField()
        discord = peewee.TextField(null=True)
        added_at = UTCDateTimeField()

        class Meta:
            table_name = "roster_entry"
            indexes = ((("course_id", "student_key"), True),)

    class Event(Base):
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

    db.create_tables([Student, RosterEntry, Event])
    migrator.migrate(
        # With defaults in the table itself: the hot path's prepared upsert names its columns.
        migrator.add_column(
            "attendance", "status", peewee.TextField(default="present", constraints=[peewee.SQL("DEFAULT 'present'")])
        ),
        migrator.add_column(
            "attendance", "source", peewee.TextField(default="code", constraints=[peewee.SQL("DEFAULT 'code'")])
        ),
        migrator.add_column("course", "late_after", peewee.IntegerField(null=True)),
        migrator.add_column("session", "late_after", peewee.IntegerField(null=True)),
    )
