"""attendance_bot: rotating-code attendance for Discord classes."""

__version__ = "0.1.0"
