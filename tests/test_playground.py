"""`manage.py playground`: a person types slash commands as the instructor or a student and sees what they would."""

from __future__ import annotations

import csv
import io
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from attendance_bot import messages
from attendance_bot.records import Outcome, SubmitResult
from attendance_bot.shell.entry import main

ROOT = Path(__file__).resolve().parent.parent
_CODE = re.compile(r"Type /here ([0-9A-Z]+) to check in\.")
_SESSION = re.compile(r"Session: (\S+)")


def _environ(tmp_path: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}


def _command(database: Path) -> list[str]:
    return [
        sys.executable,
        str(ROOT / "manage.py"),
        "--env-file",
        "/dev/null",
        "playground",
        "--database",
        str(database),
    ]


class _Prompt:
    """The playground in a subprocess, typed into line by line, its output read as it comes."""

    def __init__(self, tmp_path: Path, database: Path) -> None:
        self.proc = subprocess.Popen(
            _command(database),
            env=_environ(tmp_path),
            cwd=tmp_path,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.out += line

    def type(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_for(self, pattern: str | re.Pattern[str], after: int = 0, timeout: float = 60) -> re.Match[str]:
        """The first match of `pattern` in what was printed from offset `after` on."""
        deadline = time.monotonic() + timeout
        regex = re.compile(re.escape(pattern)) if isinstance(pattern, str) else pattern
        while time.monotonic() < deadline:
            found = regex.search(self.out, after)
            if found:
                return found
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"{regex.pattern!r} not printed; output so far:\n{self.out}")

    def end_input(self, timeout: float = 60) -> int:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        status = self.proc.wait(timeout)
        self._reader.join(5)
        return status


def test_a_class_typed_at_the_prompt(tmp_path: Path) -> None:
    """Open, check in with the code the code message shows, close, export: each as its person sees it."""
    database = tmp_path / "data" / "playground.db"
    database.parent.mkdir()  # only the project's own data/ folder is made for a scratch database
    prompt = _Prompt(tmp_path, database)
    try:
        prompt.wait_for(messages.playground_ready())
        mark = len(prompt.out)
        prompt.type("as teacher: /open_attendance")
        code = prompt.wait_for(_CODE, mark).group(1)
        session_id = prompt.wait_for(_SESSION, mark).group(1)

        mark = len(prompt.out)
        prompt.type(f"as ada: /here {code}")
        present = messages.submit_reply(SubmitResult(Outcome.RECORDED, session_id=session_id, status="present"))
        prompt.wait_for(f"  #attendance  ada: /here {code}\n", mark)
        prompt.wait_for(f"  #attendance  bot → ada (only ada sees this): {present}\n", mark)

        mark = len(prompt.out)
        prompt.type("as teacher: /close_attendance")
        prompt.wait_for(f"bot → teacher: {messages.closed_reply(session_id, 1)}\n", mark)
        prompt.wait_for("  #attendance  bot (edited): [Attendance is closed]\n      │ Closed — 1 present.\n", mark)

        mark = len(prompt.out)
        prompt.type("as teacher: /export_csv")
        saved = prompt.wait_for(re.compile(r"📎 attendance_all\.csv \(\d+ bytes\) saved as (.+)\n"), mark)
        status = prompt.end_input()
    finally:
        if prompt.proc.poll() is None:
            prompt.proc.kill()
    assert status == 0, prompt.out + prompt.proc.stderr.read()  # type: ignore[union-attr]
    assert prompt.out.endswith(messages.playground_stopped(database) + "\n")

    export = Path(saved.group(1))
    assert export.parent == database.parent / "playground-files"
    assert stat.S_IMODE(export.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(export.read_text(encoding="utf-8"), newline="")))
    assert [(row["username"], row["session_id"]) for row in rows] == [("ada", session_id)]
    assert database.is_file()


SCRIPT = """\
help
as ada: /here 7K\x1b[31mQ3\u202e
people
# a comment line does nothing
/here 7KQ3
hello
as Ada!: /here 7KQ3
as ada in #nowhere: /here 7KQ3
as ada: /nope
as ada: /here
as ada: /here 7KQ3 extra
as ada: /here cod:7KQ3
as ada: /here "7KQ3
as teacher: /attendance
as teacher: /attendance mark student:ada status:sick
as teacher: /open_attendance late_after:soon
as ada: /here 7KQ3
quit
as teacher: /open_attendance
"""


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> subprocess.CompletedProcess[str]:
    """One piped session (`printf ... | manage.py playground`) of help, people, bad lines and quit."""
    tmp_path = tmp_path_factory.mktemp("scripted")
    return subprocess.run(
        _command(tmp_path / "playground.db"),
        input=SCRIPT,
        env=_environ(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_piped_script_runs_to_quit_and_ends_cleanly(scripted: subprocess.CompletedProcess[str]) -> None:
    """Lines come from a pipe; `quit` stops the bot (the lines after it are not run) and exits 0."""
    assert scripted.returncode == 0, scripted.stdout + scripted.stderr
    assert "Traceback" not in scripted.stderr
    assert "teacher: /open_attendance\n" not in scripted.stdout  # the one after quit never ran
    assert "#attendance  bot → ada (only ada sees this): There is no attendance session open" in scripted.stdout
    assert scripted.stdout.rstrip().splitlines()[-1].startswith("Playground closed: the bot stopped.")


def test_no_raw_control_characters_reach_the_terminal(scripted: subprocess.CompletedProcess[str]) -> None:
    """A typed escape sequence or text-reordering character is echoed without it (the command still runs)."""
    assert "  #attendance  ada: /here 7K [31mQ3\n" in scripted.stdout
    assert "\x1b" not in scripted.stdout and "\u202e" not in scripted.stdout


def test_help_lists_what_can_be_typed(scripted: subprocess.CompletedProcess[str]) -> None:
    """`help` prints the prompt's own words and every slash command with its options."""
    out = scripted.stdout
    assert messages.playground_help([])[1] in out
    for usage in (
        "  /here code:…\n",
        "  /open_attendance [course:…] [late_after:…]\n",
        "  /attendance mark student:… status:present|late|excused|absent [session:…] [reason:…] [course:…]\n",
        "  /export_csv [session_id:…] [course:…] [format:records|full|gradebook]\n",
    ):
        assert usage in out


def test_people_lists_the_server(scripted: subprocess.CompletedProcess[str]) -> None:
    """`people` names each member, instructor or not, and the channel they type in by default."""
    assert messages.playground_person("instructor", True, "instructors") + "\n" in scripted.stdout
    assert messages.playground_person("student1", False, "attendance") + "\n" in scripted.stdout


@pytest.mark.parametrize(
    "sentence",
    [
        messages.playground_needs_person("/here 7KQ3"),
        messages.playground_unknown_input("hello"),
        messages.playground_bad_name("Ada!"),
        messages.playground_unknown_channel("nowhere", ["instructors", "attendance", "general"]),
        messages.playground_unknown_command(
            "nope",
            [
                "attendance",
                "close_attendance",
                "course",
                "excuse",
                "export_csv",
                "here",
                "my_attendance",
                "notify",
                "open_attendance",
                "projector",
                "register",
            ],
        ),
        messages.playground_missing_options("here", ["code"]),
        messages.playground_extra_value("here", "extra", ["code"]),
        messages.playground_unknown_option("here", "cod", ["code"]),
        messages.playground_quotes('/here "7KQ3'),
        messages.playground_needs_subcommand("attendance", ["mark", "remove", "history", "report", "claims", "link"]),
        messages.playground_bad_value("status", "sick", "one of present, late, excused, absent"),
        messages.playground_bad_value("late_after", "soon", "a number"),
    ],
)
def test_a_bad_line_gets_one_sentence_and_nothing_is_sent(
    sentence: str, scripted: subprocess.CompletedProcess[str]
) -> None:
    """Each bad line prints its one sentence on a line of its own; the bot is not asked (the session goes on)."""
    assert f"\n{sentence}\n" in scripted.stdout
    assert "  #instructors  teacher: /attendance" not in scripted.stdout
    assert "  #instructors  teacher: /open_attendance" not in scripted.stdout


def test_the_help_of_manage_py_playground(capsys: pytest.CaptureFixture[str]) -> None:
    """`manage.py playground --help` says what it is and names --database and --files."""
    assert main(["playground", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "as teacher: /open_attendance" in out
    assert "--database FILE" in out and "data/playground.db" in out
    assert "--files DIR" in out


def test_the_configured_database_is_refused(tmp_path: Path) -> None:
    """`playground --database` naming DATABASE_PATH's file is refused in one line; the file is kept."""
    live = tmp_path / "attendance.db"
    live.write_bytes(b"the real records")
    err = io.StringIO()
    status = main(
        ["--env-file", "/dev/null", "playground", "--database", str(live)],
        stdout=io.StringIO(),
        stderr=err,
        environ={"DATABASE_PATH": str(live)},
        stdin=io.StringIO(""),
    )
    assert status == 1
    assert "is the configured database" in err.getvalue() and err.getvalue().count("\n") == 1
    assert live.read_bytes() == b"the real records"


def test_in_process_the_end_of_input_leaves_no_thread_behind(tmp_path: Path) -> None:
    """main([...], stdin=...) runs a session in this process; at its end no thread of it is left running."""
    before = set(threading.enumerate())
    out = io.StringIO()
    database = tmp_path / "playground.db"
    status = main(
        ["--env-file", "/dev/null", "playground", "--database", str(database)],
        stdout=out,
        stderr=io.StringIO(),
        environ={},
        stdin=io.StringIO("as ada: /here 7KQ3\n"),
    )
    assert status == 0, out.getvalue()
    assert "  #attendance  ada: /here 7KQ3\n" in out.getvalue()
    assert out.getvalue().endswith(messages.playground_stopped(database) + "\n")
    assert [t.name for t in set(threading.enumerate()) - before if t.is_alive()] == []
