#!/usr/bin/env python3
"""attendance_bot admin commands: `.venv/bin/python manage.py --help` lists them."""

import sys
from pathlib import Path

INSTALL = "python3 -m venv .venv && .venv/bin/pip install -r requirements.txt"


def _missing_dependency(exc: ModuleNotFoundError) -> int:
    """One line instead of a traceback when manage.py runs on a Python without the requirements."""
    folder = Path(__file__).resolve().parent
    sys.stderr.write(
        f"Error: {exc.name} is not installed for {sys.executable}: in {folder} run "
        f"`{INSTALL}`, then `.venv/bin/python manage.py ...`\n"
    )
    return 1


def _main() -> int:
    try:
        from attendance_bot.shell.entry import main

        return main()
    except ModuleNotFoundError as exc:
        if not exc.name or exc.name.partition(".")[0] == "attendance_bot":
            raise  # our own code missing is a broken checkout, not a missing install
        return _missing_dependency(exc)


if __name__ == "__main__":
    sys.exit(_main())
