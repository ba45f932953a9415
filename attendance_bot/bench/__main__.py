"""`python -m attendance_bot.bench`: the burst benchmark (see `--help`)."""

import sys

from .runner import main

sys.exit(main())
