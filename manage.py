#!/usr/bin/env python3
"""attendance_bot admin commands: `python manage.py --help` lists them."""

import sys

from attendance_bot.management import main

if __name__ == "__main__":
    sys.exit(main())
