"""manage.py's commands, one module per feature; `entry.main` runs one (manage.py, `python -m attendance_bot`)."""
