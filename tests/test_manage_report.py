"""manage.py report and export --format, called in process over the `db` fixture's database."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

import pytest
from _semester import CSV_ROWS, T0, add_session, build_semester, course_id

from attendance_bot.models import RosterEntry
from attendance_bot.report import MAX_ATTACHMENT_BYTES
from attendance_bot.settings import Settings
from attendance_bot.shell.entry import main


@pytest.fixture
def semester(db: Path) -> int:
    return build_semester()


def run(settings: Settings, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """`manage.py ARGS` with an empty settings file and the fixture's database; (status, stdout, stderr)."""
    env_file = tmp_path / "empty.env"
    env_file.touch()
    out, err = io.StringIO(), io.StringIO()
    status = main(
        ["--env-file", str(env_file), *args],
        stdout=out,
        stderr=err,
        environ={"DATABASE_PATH": str(settings.database_path)},
    )
    return status, out.getvalue(), err.getvalue()


def rows(data: str | bytes) -> list[list[str]]:
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    return list(csv.reader(io.StringIO(text, newline="")))


def test_report_writes_both_files_privately(settings: Settings, semester: int, tmp_path: Path) -> None:
    """`report --output DIR` writes the CSV and the PNG, mode 0600, and says where."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    status, stdout, stderr = run(settings, tmp_path, "report", "--output", str(out_dir))
    assert status == 0, stderr
    csv_file, png_file = out_dir / "attendance_report_default.csv", out_dir / "attendance_report_default.png"
    assert rows(csv_file.read_bytes())[1:] == CSV_ROWS
    assert png_file.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    for path in (csv_file, png_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert str(csv_file) in stdout and str(png_file) in stdout and "7 students × 4 sessions" in stdout


def test_report_of_1200_students_writes_six_pages(settings: Settings, db: Path, tmp_path: Path) -> None:
    """A course of 1,200 roster students: the CSV and six pictures of 200 students, -1 to -6, each
    under Discord's attachment limit and 0600; the line written names every page."""
    course = course_id()
    add_session(course, 0)
    add_session(course, 1)
    RosterEntry.insert_many(
        [
            {
                "course_id": course,
                "student_id": f"S{n:04d}",
                "student_key": f"s{n:04d}",
                "name": f"Student {n}",
                "added_at": T0,
            }
            for n in range(1200)
        ]
    ).execute()
    status, stdout, stderr = run(settings, tmp_path, "report", "-o", str(tmp_path))
    assert status == 0, stderr
    pages = [tmp_path / f"attendance_report_default-{n}.png" for n in range(1, 7)]
    assert sorted(p.name for p in tmp_path.glob("attendance_report_*")) == sorted(
        ["attendance_report_default.csv", *(p.name for p in pages)]
    )
    for page in pages:
        data = page.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) < MAX_ATTACHMENT_BYTES
        assert stat.S_IMODE(page.stat().st_mode) == 0o600
    assert len(rows((tmp_path / "attendance_report_default.csv").read_bytes())) == 1201
    assert "6 pages" in stdout and all(str(page) in stdout for page in pages)


def test_report_refuses_to_replace_files_without_force(settings: Settings, semester: int, tmp_path: Path) -> None:
    """An existing PNG stops the report before either file is written; --force replaces both."""
    (tmp_path / "attendance_report_default.png").write_bytes(b"old")
    status, _, stderr = run(settings, tmp_path, "report", "-o", str(tmp_path))
    assert status == 1 and "exists already" in stderr and "--force" in stderr
    assert not (tmp_path / "attendance_report_default.csv").exists()
    status, _, stderr = run(settings, tmp_path, "report", "-o", str(tmp_path), "--force")
    assert status == 0, stderr
    assert (tmp_path / "attendance_report_default.png").read_bytes().startswith(b"\x89PNG")


def test_report_output_must_be_a_folder(settings: Settings, semester: int, tmp_path: Path) -> None:
    """--output naming a file or nothing is refused in one line."""
    status, _, stderr = run(settings, tmp_path, "report", "--output", str(tmp_path / "missing"))
    assert status == 1 and stderr.count("\n") == 1 and "is not a folder" in stderr


def test_report_of_an_unknown_course_is_refused(settings: Settings, semester: int, tmp_path: Path) -> None:
    """--course that names no course fails with one line and writes nothing."""
    status, _, stderr = run(settings, tmp_path, "report", "--course", "Nope", "-o", str(tmp_path))
    assert status == 1 and stderr.startswith("Error: ")
    assert not list(tmp_path.glob("attendance_report_*"))


def test_report_help_names_the_files_and_the_rate(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`report --help` says what the two files hold and how the rate is computed."""
    status, _, _ = run(settings, tmp_path, "report", "--help")
    shown = " ".join(capsys.readouterr().out.split())
    assert status == 0
    assert "attendance_report_<course>.csv" in shown and "attendance_report_<course>.png" in shown
    assert "rate = (present + late) / (sessions - excused)" in shown


def test_export_defaults_to_the_records_format(settings: Settings, semester: int, tmp_path: Path) -> None:
    """`export` alone and `export --format records` give the same seed-format bytes."""
    _, plain, _ = run(settings, tmp_path, "export")
    _, records, _ = run(settings, tmp_path, "export", "--format", "records")
    assert plain == records and plain.startswith("user_id,username,timestamp,date_id,session_id\r\n")
    assert len(rows(plain)) == 9


def test_export_full_includes_computed_absences(settings: Settings, semester: int, tmp_path: Path) -> None:
    """`export --format full` has every status and the absences computed at read."""
    status, stdout, _ = run(settings, tmp_path, "export", "--format", "full")
    assert status == 0
    table = rows(stdout)
    assert table[0][5:] == ["student_id", "student_name", "status", "source", "course", "voice_minutes", "in_voice"]
    assert sum(1 for r in table[1:] if r[8] == "computed") == 6


def test_export_gradebook_to_a_file(settings: Settings, semester: int, tmp_path: Path) -> None:
    """`export --format gradebook -o FILE` writes the roster's rows (0600) and counts them on stderr."""
    target = tmp_path / "grades.csv"
    status, _, stderr = run(settings, tmp_path, "export", "--format", "gradebook", "-o", str(target))
    assert status == 0
    table = rows(target.read_bytes())
    assert [r[0] for r in table[1:]] == ["A001", "B002", "C003", "D004", "E005"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert "Wrote 5 roster student(s)" in stderr


def test_export_gradebook_of_one_session(settings: Settings, semester: int, tmp_path: Path) -> None:
    """--session with a gradebook format gives that session's column only; an unknown one is refused."""
    status, stdout, _ = run(settings, tmp_path, "export", "--format", "gradebook", "--session", "20240904-0900-CCCC")
    assert status == 0
    assert rows(stdout)[0][3:5] == ["20240904-0900-CCCC", "sessions"]
    status, _, stderr = run(settings, tmp_path, "export", "--format", "full", "--session", "nope")
    assert status == 1 and "nope" in stderr


def test_export_refuses_an_unknown_format(settings: Settings, semester: int, tmp_path: Path) -> None:
    """--format takes records, full or gradebook only (a usage error: one line, status 1)."""
    status, _, stderr = run(settings, tmp_path, "export", "--format", "xlsx")
    assert status == 1 and "invalid choice: 'xlsx'" in stderr and stderr.count("\n") == 1
