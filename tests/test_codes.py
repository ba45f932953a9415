"""Codes: deterministic, rotating at window boundaries, forgiving input, grace, uniform characters."""

from __future__ import annotations

import collections
import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from attendance_bot import messages
from attendance_bot.codes import (
    ALPHABET,
    ALPHABET_DESCRIPTION,
    EXPIRED_HORIZON_SECONDS,
    CodeSpec,
    Verdict,
    check,
    code_for_window,
    normalise,
)
from attendance_bot.records import Outcome, SubmitResult

REPO = Path(__file__).resolve().parent.parent
SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # fixed: every test here is deterministic
T0 = 1_725_267_600  # 2024-09-02 09:00:00 UTC, a multiple of 5, 15, 30 and 60


def spec(interval: int = 15, length: int = 4, grace: int | None = None) -> CodeSpec:
    return CodeSpec(SECRET, interval, length, interval if grace is None else grace)


def never_shown(s: CodeSpec, windows: range) -> str:
    """A well-formed code that no window in `windows` shows."""
    shown = {s.code_for(w) for w in windows}
    for chars in itertools.product(ALPHABET, repeat=s.length):
        candidate = "".join(chars)
        if candidate not in shown:
            return candidate
    raise AssertionError("unreachable")


# -- determinism and rotation ---------------------------------------------------------------

_CHILD = (
    "import json, sys\n"
    "from attendance_bot.codes import code_for_window\n"
    "secret, interval = sys.argv[1], int(sys.argv[2])\n"
    "print(json.dumps([code_for_window(secret, w, length=n, interval=interval)\n"
    "                  for w in (0, 1, 115017840, 2**31) for n in (4, 6, 8)]))\n"
)


def test_same_secret_and_window_give_same_code_in_separate_processes() -> None:
    """Two fresh interpreters (different hash seeds) derive the very same codes as this one."""
    outputs = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, SECRET, "15"],
            capture_output=True,
            text=True,
            env=env,
            cwd=REPO,
            timeout=60,
            check=True,
        )
        outputs.append(json.loads(done.stdout))
    here = [code_for_window(SECRET, w, length=n, interval=15) for w in (0, 1, 115017840, 2**31) for n in (4, 6, 8)]
    assert outputs[0] == outputs[1] == here


def test_different_secrets_give_different_codes() -> None:
    """Two sessions do not share their codes."""
    other = CodeSpec("KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU", 15, 4, 15)
    ours = [spec().code_at(T0 + 15 * k) for k in range(20)]
    theirs = [other.code_at(T0 + 15 * k) for k in range(20)]
    assert ours != theirs


@pytest.mark.parametrize("interval", [5, 15, 30, 120])
def test_code_is_constant_within_a_window_and_changes_at_the_boundary(interval: int) -> None:
    """The code shown is the same for the whole window and changes exactly at its end."""
    s = spec(interval)
    for k in range(5):
        start = T0 + k * interval
        first, last = s.code_at(start), s.code_at(start + interval - 0.001)
        assert first == last == s.code_at(start + interval / 2)
        assert s.code_at(start + interval) != last


@pytest.mark.parametrize(
    ("offset", "left"),
    [(0, 15), (0.5, 14.5), (1, 14), (7, 8), (14, 1), (14.75, 0.25), (15, 15), (16, 14)],
)
def test_seconds_left_counts_down_to_the_boundary(offset: float, left: float) -> None:
    """seconds_left falls from the interval to 0 and starts again at the next window."""
    s = spec(15)
    assert s.seconds_left(T0 + offset) == pytest.approx(left)
    assert s.window_end(T0 + offset) == pytest.approx(T0 + offset + left)


@pytest.mark.parametrize("length", [4, 5, 6, 7, 8])
def test_every_code_length_gives_codes_of_that_length_from_the_alphabet(length: int) -> None:
    """CODE_LENGTH 4-8 all give codes of exactly that many ALPHABET characters."""
    s = spec(length=length)
    codes = [s.code_at(T0 + 15 * k) for k in range(300)]
    assert all(len(c) == length and set(c) <= set(ALPHABET) for c in codes)
    assert len(set(codes)) > 290  # not stuck on a few values


def test_alphabet_has_no_look_alikes() -> None:
    """Codes can never contain 0/O, 1/I/L, 2/Z or 5/S, nor lower case."""
    assert not set(ALPHABET) & set("0O1IL2Z5S")
    assert ALPHABET == ALPHABET.upper() and len(set(ALPHABET)) == len(ALPHABET)


@pytest.mark.parametrize("length", [4, 8])
def test_characters_are_roughly_uniform_over_many_windows(length: int) -> None:
    """Over 20,000 windows every character appears about equally often, at every position."""
    s = spec(length=length)
    codes = [s.code_for(w) for w in range(115_000_000, 115_020_000)]
    k = len(ALPHABET)

    def chi_square(counter: collections.Counter[str], total: int) -> float:
        expected = total / k
        return sum((counter.get(ch, 0) - expected) ** 2 / expected for ch in ALPHABET)

    overall = collections.Counter("".join(codes))
    assert set(overall) == set(ALPHABET)
    # 26 degrees of freedom: mean 26, sd ~7.2; 90 is ~9 sd out (and the secret is fixed).
    assert chi_square(overall, len(codes) * length) < 90
    for position in range(length):
        assert chi_square(collections.Counter(c[position] for c in codes), len(codes)) < 90


# -- grace, expiry, future windows ----------------------------------------------------------


@pytest.mark.parametrize("interval", [5, 15, 30])
@pytest.mark.parametrize(
    ("after_rotation", "verdict"),
    [
        pytest.param(lambda grace: 0, Verdict.ACCEPTED, id="at-rotation"),
        pytest.param(lambda grace: 1, Verdict.ACCEPTED, id="1s-after"),
        pytest.param(lambda grace: grace - 1, Verdict.ACCEPTED, id="grace-1s"),
        pytest.param(lambda grace: grace - 0.001, Verdict.ACCEPTED, id="grace-1ms"),
        pytest.param(lambda grace: grace, Verdict.EXPIRED, id="grace"),
        pytest.param(lambda grace: grace + 1, Verdict.EXPIRED, id="grace+1s"),
    ],
)
def test_default_grace_accepts_the_previous_code_for_one_whole_interval(
    interval: int, after_rotation: Callable[[int], float], verdict: Verdict
) -> None:
    """With grace = interval a code is accepted until `grace` seconds after it rotated out, not after."""
    s = spec(interval)  # default grace: the interval
    assert s.grace_seconds == interval
    window = s.window(T0) + 3
    rotated_out = (window + 1) * interval
    result = check(s.code_for(window), s, rotated_out + after_rotation(s.grace_seconds), earliest=T0)
    assert result.verdict is verdict
    assert result.window == window


@pytest.mark.parametrize(("grace", "offset", "verdict"), [(40, 39, Verdict.ACCEPTED), (40, 40, Verdict.EXPIRED)])
def test_grace_longer_than_an_interval_counts_from_rotation(grace: int, offset: int, verdict: Verdict) -> None:
    """A grace of several windows still counts from the moment the code rotated out."""
    s = spec(15, grace=grace)
    window = s.window(T0) + 2
    rotated_out = (window + 1) * 15
    assert check(s.code_for(window), s, rotated_out + offset, earliest=T0).verdict is verdict


def test_grace_longer_than_an_interval_without_earliest() -> None:
    """check() honours a grace of several windows even when no session start is given."""
    s = spec(15, grace=40)
    window = s.window(T0)
    rotated_out = (window + 1) * 15
    assert check(s.code_for(window), s, rotated_out + 20).verdict is Verdict.ACCEPTED


def test_grace_zero_is_strict() -> None:
    """With grace 0 only the current window's code is accepted; the previous one is expired at once."""
    s = spec(15, grace=0)
    window = s.window(T0) + 1
    boundary = (window + 1) * 15
    assert check(s.code_for(window), s, boundary - 0.001, earliest=T0).verdict is Verdict.ACCEPTED
    assert check(s.code_for(window), s, boundary, earliest=T0).verdict is Verdict.EXPIRED
    assert check(s.code_for(window + 1), s, boundary, earliest=T0).verdict is Verdict.ACCEPTED


@pytest.mark.parametrize("ahead", [1, 2, 10])
def test_a_future_windows_code_is_wrong(ahead: int) -> None:
    """A code that will only be shown later is never accepted, and is not called expired either."""
    s = spec(15, grace=60)
    now = T0 + 100 * 15 + 7
    current = s.window(now)
    future = s.code_for(current + ahead)
    assert future not in {s.code_for(w) for w in range(s.window(T0), current + 1)}
    assert check(future, s, now, earliest=T0).verdict is Verdict.WRONG


def test_expired_versus_wrong() -> None:
    """A code this session showed earlier is EXPIRED; a code it never showed is WRONG."""
    s = spec(15)
    now = T0 + 40 * 15 + 3
    earlier = s.code_for(s.window(T0) + 5)
    assert check(earlier, s, now, earliest=T0).verdict is Verdict.EXPIRED
    stranger = never_shown(s, range(s.window(T0) - 5, s.window(now) + 5))
    assert check(stranger, s, now, earliest=T0).verdict is Verdict.WRONG


def test_a_code_from_before_the_session_opened_is_wrong() -> None:
    """Expiry only looks back to the session's opening: older codes of the secret are plain wrong."""
    s = spec(15)
    opened = T0 + 10 * 15
    before = s.code_for(s.window(T0) + 2)
    assert before not in {s.code_for(w) for w in range(s.window(opened), s.window(opened) + 11)}
    assert check(before, s, opened + 150, earliest=opened).verdict is Verdict.WRONG


# -- forgiving input ------------------------------------------------------------------------

_FULL_WIDTH = {ch: chr(ord(ch) + 0xFEE0) for ch in ALPHABET}


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param(lambda c: c, id="as-shown"),
        pytest.param(lambda c: f"  {c}  ", id="spaces-around"),
        pytest.param(lambda c: f"\t{c}\n", id="tab-newline-around"),
        pytest.param(lambda c: c.lower(), id="lower-case"),
        pytest.param(lambda c: c[:2].lower() + c[2:], id="mixed-case"),
        pytest.param(lambda c: f"{c[:2]}-{c[2:]}", id="dash-middle"),
        pytest.param(lambda c: f"{c[:2]} {c[2:]}", id="space-middle"),
        pytest.param(lambda c: f"{c[:2]}\u2013{c[2:]}", id="en-dash-middle"),
        pytest.param(lambda c: " ".join(c), id="spaced-out-like-the-embed"),
        pytest.param(lambda c: "".join(_FULL_WIDTH[ch] for ch in c), id="full-width-nfkc"),
        pytest.param(lambda c: " " + "".join(_FULL_WIDTH[ch] for ch in c).lower() + "\u3000", id="full-width-lower"),
    ],
)
def test_forgiving_input_is_accepted(typed: Callable[[str], str]) -> None:
    """Surrounding spaces, lower case, a dash or space inside and full-width forms still match."""
    s = spec(15)
    code = s.code_at(T0)
    assert normalise(typed(code)) == code
    assert check(typed(code), s, T0, earliest=T0).verdict is Verdict.ACCEPTED


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [("  ab-cd ", "ABCD"), ("ａｂｃｄ", "ABCD"), ("x y z", "XYZ"), ("A\u200bB", "AB"), ("", "")],
)
def test_normalise_table(typed: str, normalised: str) -> None:
    """normalise() strips spaces, separators and invisible characters and upper-cases (NFKC)."""
    assert normalise(typed) == normalised


@pytest.mark.parametrize("look_alike", ["0", "O", "o", "1", "I", "i", "L", "l", "S", "s", "Z", "z", "2", "5"])
def test_look_alikes_are_malformed_and_named(look_alike: str) -> None:
    """A look-alike gives MALFORMED naming it, and the reply tells which characters codes use."""
    s = spec(15)
    typed = "A" + look_alike + "BC"
    result = check(typed, s, T0, earliest=T0)
    assert result.verdict is Verdict.MALFORMED
    assert result.bad_characters == look_alike.upper()
    reply = messages.malformed_reply(
        SubmitResult(
            Outcome.MALFORMED, "S", code=result.normalised, bad_characters=result.bad_characters, code_length=4
        )
    )
    assert f"never contain {look_alike.upper()}" in reply
    assert ALPHABET_DESCRIPTION in reply


def test_several_look_alikes_are_all_named() -> None:
    """Every bad character is reported, once each."""
    result = check("O0O1", spec(), T0, earliest=T0)
    assert result.verdict is Verdict.MALFORMED
    assert result.bad_characters == "01O"


@pytest.mark.parametrize("typed", ["", "   ", "-", "ABC", "ABCDE", "A", "ABCDEFGHJ", "X" * 65, "X" * 1000])
def test_wrong_length_or_empty_is_malformed(typed: str) -> None:
    """Anything that is not CODE_LENGTH alphabet characters is MALFORMED, never WRONG."""
    result = check(typed, spec(15, length=4), T0, earliest=T0)
    assert result.verdict is Verdict.MALFORMED
    assert result.bad_characters == ""
    assert len(result.normalised) <= 64


def test_wrong_length_reply_says_how_long_a_code_is() -> None:
    """The reply to a too-short code says the length codes have and the length typed."""
    result = check("ABC", spec(15, length=6), T0, earliest=T0)
    reply = messages.malformed_reply(SubmitResult(Outcome.MALFORMED, "S", code=result.normalised, code_length=6))
    assert "6 characters long, not 3" in reply


# -- bounded cost ---------------------------------------------------------------------------


class CountingSpec(CodeSpec):
    """A CodeSpec that counts the windows whose code it computes (each one an HMAC)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        object.__setattr__(self, "computed", 0)

    def code_for(self, window: int) -> str:
        object.__setattr__(self, "computed", self.computed + 1)  # type: ignore[has-type]
        return super().code_for(window)


EIGHT_HOURS = 8 * 3600


def test_the_first_code_of_an_eight_hour_session_is_wrong_not_expired() -> None:
    """Expiry looks back a fixed horizon, not to the opening: a code from hours ago is plainly wrong."""
    s = spec(15)
    first = s.code_for(s.window(T0))
    now = T0 + EIGHT_HOURS + 7
    recent = {s.code_for(w) for w in range(s.window(now) - 2 * EXPIRED_HORIZON_SECONDS // 15, s.window(now) + 1)}
    assert first not in recent
    assert check(first, s, now, earliest=T0).verdict is Verdict.WRONG


@pytest.mark.parametrize("age", [15 * 60, 2 * 3600, EIGHT_HOURS, 80 * 3600, 20_000 * 15])
@pytest.mark.parametrize(("interval", "grace"), [(15, 15), (5, 0), (5, 600), (120, 120)])
def test_judging_a_wrong_code_computes_a_bounded_number_of_windows(age: int, interval: int, grace: int) -> None:
    """Whatever the session's age, a wrong code costs at most the grace and horizon windows (+2)."""
    s = CountingSpec(SECRET, interval, 4, grace)
    now = T0 + age
    stranger = never_shown(s, range(s.window(T0) - 1, s.window(now) + 2))
    object.__setattr__(s, "computed", 0)
    assert check(stranger, s, now, earliest=T0).verdict is Verdict.WRONG
    assert s.computed <= (grace + EXPIRED_HORIZON_SECONDS) // interval + 2


def test_a_code_inside_the_horizon_is_expired_and_just_outside_is_wrong() -> None:
    """EXPIRED for a code that rotated out less than grace + horizon ago; WRONG from then on."""
    s = spec(15)
    window = s.window(T0) + 3
    rotated_out = (window + 1) * 15
    limit = rotated_out + s.grace_seconds + EXPIRED_HORIZON_SECONDS
    assert check(s.code_for(window), s, limit - 0.001, earliest=T0).verdict is Verdict.EXPIRED
    recent = {s.code_for(w) for w in range(window + 1, s.window(limit) + 1)}
    assert s.code_for(window) not in recent
    assert check(s.code_for(window), s, limit, earliest=T0).verdict is Verdict.WRONG
