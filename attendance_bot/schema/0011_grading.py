"""Version 11, a grading policy (issue 18): what a late session earns in a course's grade
(`late_points`, 0-1 with two decimals) and how many of each student's worst sessions it leaves out
(`drop_lowest`). NULL in both means not set: late counts 0.8 and nothing is dropped. The grades
themselves are read from the record, never stored."""

import peewee


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("course", "late_points", peewee.DecimalField(max_digits=3, decimal_places=2, null=True)),
        migrator.add_column("course", "drop_lowest", peewee.IntegerField(null=True)),
    )
