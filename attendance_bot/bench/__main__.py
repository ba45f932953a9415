"""`python -m attendance_bot.bench`: the burst benchmark (see `--help`); `... bench report`: the report's build time."""

import sys

if sys.argv[1:2] == ["report"]:
    from .gradebook import main as report_main

    sys.exit(report_main(sys.argv[2:]))

from .runner import main

sys.exit(main())
