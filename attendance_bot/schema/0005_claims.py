"""Version 5, claims (issue 15): a registration is confirmed (the roster's `discord` column names
its account, or an instructor linked it) or a pending claim that counts for nobody's record until
an instructor confirms it. Registrations made before this step were accepted by the release that
made them: they become confirmed."""

import peewee

from attendance_bot.migrations import report


def up(migrator, db):
    rows = db.execute_sql("SELECT COUNT(*) FROM student").fetchone()[0]
    migrator.migrate(migrator.add_column("student", "confirmed", peewee.BooleanField(default=True)))
    if rows:
        report("registrations_kept_confirmed", rows=rows)
