"""manage.py's commands run in this process, as an operator would run them, for the shell tests."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from attendance_bot.models import close_db
from attendance_bot.shell.entry import main


class ShellResult(NamedTuple):
    """What a command did: its exit status and the bytes it wrote (named as subprocess.run names them)."""

    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8")


def _stream(errors: str) -> io.TextIOWrapper:
    """A text stream over bytes, as a process's stdout is: `buffer` for the CSV's bytes, UTF-8."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors=errors, write_through=True)


def run_shell(
    *args: str, environ: Mapping[str, str], env_file: Path | str | None = None, cwd: Path | None = None
) -> ShellResult:
    """`manage.py [--env-file ENV_FILE] ARGS` in this process, with `environ` as its whole environment
    and `cwd` as its folder: what argparse prints itself (--help, --version) is captured too."""
    out, err = _stream("surrogateescape"), _stream("backslashreplace")  # as Python's own stdout and stderr
    argv = [*(["--env-file", str(env_file)] if env_file is not None else []), *args]
    with contextlib.ExitStack() as stack:
        if cwd is not None:
            stack.enter_context(contextlib.chdir(cwd))
        stack.enter_context(contextlib.redirect_stdout(out))
        stack.enter_context(contextlib.redirect_stderr(err))
        try:
            status = main(argv, stdout=out, stderr=err, environ=dict(environ), stdin=io.StringIO(""))
        finally:
            close_db()  # main closes it; this also covers a command that raised
    return ShellResult(status, out.buffer.getvalue(), err.buffer.getvalue())  # type: ignore[attr-defined]


def manage(*args: str, env: dict[str, str]) -> ShellResult:
    """`manage.py ARGS` in this process, with an empty .env in env's HOME (none is read from the checkout)."""
    env_file = Path(env["HOME"]) / "empty.env"
    env_file.touch()
    return run_shell(*args, environ=env, env_file=env_file)


def ok(*args: str, env: dict[str, str]) -> str:
    """stdout of a command that must succeed."""
    result = manage(*args, env=env)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()
