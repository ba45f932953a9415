"""Version 4, instructors' marks: a record may name its student by student id (folded, as
`students.student_key` folds it), and a mark of a roster student with no linked Discord account
has no `user_id`; one record per student id per session, as there is one per account."""

import peewee


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("attendance", "student_key", peewee.TextField(null=True)),
        migrator.drop_not_null("attendance", "user_id"),
        migrator.add_index("attendance", ("session_id", "student_key"), True),
    )
