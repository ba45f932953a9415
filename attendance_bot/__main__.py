"""`python -m attendance_bot` is `manage.py run`."""

import sys

from .shell.entry import main

if __name__ == "__main__":
    sys.exit(main([*sys.argv[1:], "run"]))
