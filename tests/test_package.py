"""The package: the wheel `pip install .` builds, installed in a fresh virtual environment outside the
checkout, gives the `attendance-bot` command, which is manage.py and keeps its files in the folder it runs in.

No network: the wheel is built with the test environment's setuptools and wheel (--no-build-isolation), and the
fresh environment reaches the test environment's installed dependencies through a .pth file, so pip
installs the wheel from a folder (--no-index) and finds every requirement already satisfied."""

from __future__ import annotations

import configparser
import os
import shutil
import site
import subprocess
import sys
from pathlib import Path

import pytest

from attendance_bot import __version__, messages

REPO = Path(__file__).resolve().parent.parent
TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GqXw3z.kV9tRp2LmN8sQ4yHcB7dFj1aZeUo6WxIrE5gT0"
# What the wheel is built from: the files a `pip install .` of a clone reads.
SOURCES = ("setup.cfg", "pyproject.toml", "README.md", "attendance_bot")


def _requirements() -> list[str]:
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _setup_cfg() -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(REPO / "setup.cfg", encoding="utf-8")
    return parser


def test_the_package_declares_the_requirements_of_requirements_txt() -> None:
    """setup.cfg's install_requires are requirements.txt's lines, the same ranges in the same order."""
    declared = _setup_cfg()["options"]["install_requires"].split("\n")
    assert [line.strip() for line in declared if line.strip()] == _requirements()


def test_the_command_is_the_shells_entry_point() -> None:
    """`attendance-bot` runs the function manage.py runs: every command, option, output and exit status."""
    scripts = _setup_cfg()["options.entry_points"]["console_scripts"].strip()
    assert scripts == "attendance-bot = attendance_bot.shell.entry:main"
    assert "from attendance_bot.shell.entry import main" in (REPO / "manage.py").read_text(encoding="utf-8")


def _clean_environ() -> dict[str, str]:
    """The environment without the bot's settings, without PYTHONPATH (the checkout is not importable) and
    without pip's configuration (nothing but the wheel's folder is looked at)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DISCORD_", "DATABASE_", "PIP_", "PYTHON", "CODE_", "LOG_", "WEB_"))
        and key not in ("ADMIN_CHANNEL_ID", "ATTENDANCE_CHANNEL_ID", "GUILD_ID", "TIMEZONE", "VIRTUAL_ENV")
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _run(argv: list[str | Path], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=_clean_environ(), capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel installed (not the checkout); its bin folder."""
    top = tmp_path_factory.mktemp("package")
    source = top / "source"  # a copy: building in the checkout would leave build/ and *.egg-info there
    source.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, source / name)
    wheels = top / "wheels"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, source],
        cwd=top,
        timeout=120,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = wheels.glob("attendance_bot-*.whl")

    venv = top / "venv"
    made = _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=top)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = Path(
        _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=top).stdout.strip()
    )
    # The test environment's packages, after the fresh environment's own: the dependencies, not the checkout.
    (purelib / "test_environment.pth").write_text("\n".join(site.getsitepackages()) + "\n", encoding="utf-8")
    done = _run(
        [sys.executable, "-m", "pip", "--python", python, "install", "--no-index", "--find-links", wheels, wheel],
        cwd=top,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Requirement already satisfied: nextcord" in done.stdout, done.stdout
    return venv / "bin"


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A folder outside the checkout, where the operator runs the command."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def test_the_installed_package_is_the_wheels_not_the_checkouts(installed: Path, elsewhere: Path) -> None:
    """The fresh environment imports attendance_bot from its own site-packages, schema steps included."""
    probe = "import attendance_bot, attendance_bot.migrations as m; print(attendance_bot.__file__); print(m.latest())"
    done = _run([installed / "python", "-c", probe], cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    where, latest = done.stdout.splitlines()
    assert Path(where).is_relative_to(installed.parent) and "site-packages" in where, where
    from attendance_bot import migrations

    assert int(latest) == migrations.latest()


def test_version(installed: Path, elsewhere: Path) -> None:
    """`attendance-bot --version` prints the version, as manage.py does, with no settings anywhere."""
    done = _run([installed / "attendance-bot", "--version"], cwd=elsewhere)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"attendance_bot {__version__}\n", "")


def test_check_reads_the_env_of_the_current_folder(installed: Path, elsewhere: Path) -> None:
    """`attendance-bot check` reads ./.env and means ./data/attendance.db; nothing is made anywhere."""
    (elsewhere / ".env").write_text(f"DISCORD_BOT_TOKEN={TOKEN}\n", encoding="utf-8")
    done = _run([installed / "attendance-bot", "check"], cwd=elsewhere)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Configuration validated successfully" in done.stdout
    assert messages.database_not_made_yet(elsewhere / "data" / "attendance.db") in done.stdout.splitlines()
    assert sorted(p.name for p in elsewhere.iterdir()) == [".env"]
    assert TOKEN not in done.stdout + done.stderr


def test_check_without_settings_names_the_env_of_the_current_folder(installed: Path, elsewhere: Path) -> None:
    """No .env where the command runs: the error names ./.env, not a file in site-packages; exit 1."""
    done = _run([installed / "attendance-bot", "check"], cwd=elsewhere)
    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: {elsewhere / '.env'}: no such file"), done.stderr


def test_check_with_an_env_file_elsewhere(installed: Path, elsewhere: Path, tmp_path: Path) -> None:
    """`--env-file PATH` is read from wherever it is; a relative DATABASE_PATH means the current folder."""
    settings = tmp_path / "settings.env"
    settings.write_text(f"DISCORD_BOT_TOKEN={TOKEN}\nDATABASE_PATH=attendance.db\n", encoding="utf-8")
    (elsewhere / "attendance.db").touch(mode=0o600)
    done = _run([installed / "attendance-bot", "--env-file", settings, "check"], cwd=elsewhere)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Database OK: {elsewhere / 'attendance.db'} (empty: no tables yet)" in done.stdout.splitlines()


def test_demo_plays_in_the_current_folder(installed: Path, elsewhere: Path) -> None:
    """`attendance-bot demo` runs the installed bot on the installed emulator and leaves ./data/demo.db."""
    done = _run([installed / "attendance-bot", "demo"], cwd=elsewhere, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Demo finished" in done.stdout and "Traceback" not in done.stderr
    assert (elsewhere / "data" / "demo.db").is_file()
    site_packages = next(installed.parent.glob("lib/python3*/site-packages"))
    assert not (site_packages / "data").exists()
