"""Version 8, voice presence (issue 17): a course's voice or stage channel and its rule (and each
session's, as it opened), whether a check-in came from that channel, and the stretches of time each
account spent there while a session was open."""

import peewee

from attendance_bot.models import UTCDateTimeField


def up(migrator, db):
    class VoiceSpan(peewee.Model):
        session_id = peewee.TextField()
        user_id = peewee.BigIntegerField()
        channel_id = peewee.BigIntegerField()
        joined_at = UTCDateTimeField()
        left_at = UTCDateTimeField(null=True)

        class Meta:
            database = db
            table_name = "voice_span"
            indexes = ((("session_id", "user_id"), False),)

    db.create_tables([VoiceSpan])
    migrator.migrate(
        migrator.add_column("course", "voice_channel_id", peewee.BigIntegerField(null=True)),
        migrator.add_column("course", "voice_rule", peewee.TextField(null=True)),
        migrator.add_column("session", "voice_channel_id", peewee.BigIntegerField(null=True)),
        migrator.add_column("session", "voice_rule", peewee.TextField(null=True)),
        migrator.add_column("attendance", "in_voice", peewee.IntegerField(null=True)),
    )
