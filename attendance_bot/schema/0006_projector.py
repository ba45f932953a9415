"""Version 6, the projector page (issue 17): each session's projector link, kept as the nonce its token
is derived from and the token's hash, never the token."""

import peewee

from attendance_bot.models import UTCDateTimeField


def up(migrator, db):
    class ProjectorLink(peewee.Model):
        session_id = peewee.TextField(unique=True)
        nonce = peewee.TextField()
        token_hash = peewee.TextField(unique=True)
        made_at = UTCDateTimeField()

        class Meta:
            database = db
            table_name = "projector_link"

    db.create_tables([ProjectorLink])
