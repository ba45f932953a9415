"""`python -m attendance_bot.bench`: the burst benchmark (see `--help`); `... bench report`: the report's build time;
`... bench timetable`: many courses' timetables starting at the same minute."""

import sys

if sys.argv[1:2] == ["report"]:
    from .gradebook import main as report_main

    sys.exit(report_main(sys.argv[2:]))

if sys.argv[1:2] == ["timetable"]:
    from .timetable import main as timetable_main

    sys.exit(timetable_main(sys.argv[2:]))

from .runner import main

sys.exit(main())
