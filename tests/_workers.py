"""Subprocess worker for the concurrency test: submit many codes to one database at once.

Run as `python tests/_workers.py DATABASE WORKER COUNT RESUBMIT EPOCH GO_FILE`; prints JSON with the
user ids whose submission was acknowledged (recorded or updated) and any errors.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime, timezone
from pathlib import Path


def first_user(worker: int) -> int:
    return 700_000_000_000_000_000 + worker * 100_000


def main(argv: list[str]) -> int:
    database, worker, count, resubmit, epoch, go_file = argv
    worker, count, resubmit = int(worker), int(count), int(resubmit)
    from attendance_bot.attendance import AttendanceService
    from attendance_bot.models import close_db, init_db
    from attendance_bot.settings import load_settings

    key = "DATABASE_URL" if database.startswith("postgresql://") else "DATABASE_PATH"  # a file or a URL
    settings = load_settings(None, environ={key: database}, require_discord=False)
    init_db(settings.database_target)
    instant = datetime.fromtimestamp(float(epoch), timezone.utc)
    service = AttendanceService(settings, lambda: instant)
    code = service.current_code().code  # computed here, from the stored secret and the instant
    deadline = time.monotonic() + 30
    while not Path(go_file).exists() and time.monotonic() < deadline:  # start together
        time.sleep(0.002)
    recorded: list[int] = []
    updated: list[int] = []
    errors: list[str] = []
    base = first_user(worker)
    plan = [(base + i, f"student-{worker}-{i}") for i in range(count)]
    plan += [(base + i, f"student-{worker}-{i}-again") for i in range(resubmit)]
    for user_id, username in plan:
        try:
            result = service.submit(user_id=user_id, username=username, code=code)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        if result.outcome.value == "recorded":
            recorded.append(user_id)
        elif result.outcome.value == "updated":
            updated.append(user_id)
        else:
            errors.append(result.outcome.value)
    close_db()
    print(json.dumps({"code": code, "recorded": recorded, "updated": updated, "errors": errors}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
