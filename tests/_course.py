"""Where the `db` fixture's one course is (tests/conftest.py): ids the tests can import by name."""

GUILD_ID = 900000000000000001
ADMIN_CHANNEL_ID = 900000000000000002
ATTENDANCE_CHANNEL_ID = 900000000000000003
