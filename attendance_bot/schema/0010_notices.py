"""Version 10, warnings and excuse requests (issue 18): a course's warning line (`warn_below`, a
percentage) and from how many sessions it applies (`warn_after`); which students of a course are
below the line (or can no longer reach it), so a digest names each crossing once; which closed
session's digest a process claimed; the notes waiting for a student (a warning, an excuse's
outcome); who turned direct messages on (or refuses them); and the students' excuse requests."""

import peewee

from attendance_bot.models import UTCDateTimeField


def up(migrator, db):
    class WarningState(peewee.Model):
        course_id = peewee.IntegerField()
        student = peewee.TextField()
        user_id = peewee.BigIntegerField(null=True)
        below = peewee.BooleanField(default=False)
        unreachable = peewee.BooleanField(default=False)
        changed_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "warning_state"
            indexes = ((("course_id", "student"), True),)

    class Digest(peewee.Model):
        session_id = peewee.TextField(unique=True)
        course_id = peewee.IntegerField()
        claimed_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "digest"

    class StudentNotice(peewee.Model):
        guild_id = peewee.BigIntegerField(null=True)
        user_id = peewee.BigIntegerField()
        course_id = peewee.IntegerField(null=True)
        kind = peewee.TextField()
        detail = peewee.TextField()
        created_at = UTCDateTimeField()
        shown_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "student_notice"
            indexes = ((("user_id", "shown_at"), False),)

    class DirectMessages(peewee.Model):
        user_id = peewee.BigIntegerField(unique=True)
        enabled = peewee.BooleanField(default=False)
        refused_at = UTCDateTimeField(null=True)
        last_sent_at = UTCDateTimeField(null=True)
        changed_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "direct_messages"

    class ExcuseRequest(peewee.Model):
        course_id = peewee.IntegerField(index=True)
        guild_id = peewee.BigIntegerField(null=True)
        session_id = peewee.TextField()
        user_id = peewee.BigIntegerField()
        username = peewee.TextField()
        reason = peewee.TextField()
        status = peewee.TextField(null=True)
        requested_at = UTCDateTimeField()
        channel_id = peewee.BigIntegerField(null=True)
        message_id = peewee.BigIntegerField(null=True)
        decision = peewee.TextField(null=True)
        decided_by = peewee.TextField(null=True)
        decided_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "excuse_request"
            indexes = ((("session_id", "user_id"), True),)

    db.create_tables([WarningState, Digest, StudentNotice, DirectMessages, ExcuseRequest])
    migrator.migrate(
        migrator.add_column("course", "warn_below", peewee.IntegerField(null=True)),
        migrator.add_column("course", "warn_after", peewee.IntegerField(null=True)),
    )
