"""Version 7, the code where only the room sees it (issue 17): a course may keep the code out of its
display channel's message (`code_in_channel`), and each session keeps the course's choice from when
it opened. NULL in both means not set: the code is shown, as before this step."""

import peewee


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("course", "code_in_channel", peewee.BooleanField(null=True)),
        migrator.add_column("session", "code_in_channel", peewee.BooleanField(null=True)),
    )
