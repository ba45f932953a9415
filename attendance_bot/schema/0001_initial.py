"""Version 1, the release before courses: sessions, the seed's attendance table, wrong attempts.

A database made by that release has these tables but no migration history: it is recorded as
already at this step (Runner.fake) before any later step runs.
"""

import peewee

from attendance_bot.models import UTCDateTimeField


def up(migrator, db):
    class Base(peewee.Model):
        class Meta:
            database = db

    class Session(Base):
        session_id = peewee.TextField(unique=True)
        secret = peewee.TextField()
        interval = peewee.IntegerField()
        code_length = peewee.IntegerField()
        grace_seconds = peewee.IntegerField()
        opened_at = UTCDateTimeField()
        closed_at = UTCDateTimeField(null=True)
        open_flag = peewee.IntegerField(null=True, unique=True, default=1)
        opened_by = peewee.TextField(null=True)
        guild_id = peewee.BigIntegerField(null=True)
        channel_id = peewee.BigIntegerField(null=True)
        message_id = peewee.BigIntegerField(null=True)
        message_posted_at = UTCDateTimeField(null=True)

        class Meta:
            table_name = "session"

    class Attendance(Base):
        user_id = peewee.BigIntegerField()
        username = peewee.TextField()
        timestamp = peewee.TextField()
        date_id = peewee.TextField()
        session_id = peewee.TextField(index=True)
        display_name = peewee.TextField(null=True)
        submitted_at = UTCDateTimeField()

        class Meta:
            table_name = "attendance"
            indexes = ((("user_id", "session_id"), True),)

    class WrongAttempt(Base):
        session_id = peewee.TextField()
        user_id = peewee.BigIntegerField()
        attempted_at = UTCDateTimeField()

        class Meta:
            table_name = "wrong_attempt"
            indexes = ((("session_id", "user_id", "attempted_at"), False),)

    db.create_tables([Session, Attendance, WrongAttempt])
