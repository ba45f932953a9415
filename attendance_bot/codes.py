"""Pure code logic: secret + instant -> code, the verdict for a typed code, a projector link's token."""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
import hmac
import math
import secrets
import unicodedata
from dataclasses import dataclass

import pyotp

# Digits and capitals without look-alikes: no 0/O, 1/I/L, 2/Z or 5/S.
ALPHABET = "346789ABCDEFGHJKMNPQRTUVWXY"
LOOK_ALIKES = {"0": "O", "O": "0", "1": "I", "I": "1", "L": "1", "2": "Z", "Z": "2", "5": "S", "S": "5"}
MAX_INPUT_LENGTH = 64
# How long after its grace a code of this session is still called "expired" rather than "wrong".
# It bounds the cost of judging any typed code: (grace + horizon) / interval windows at most,
# whatever the session's age (a code from hours ago is simply wrong).
EXPIRED_HORIZON_SECONDS = 600
_SEPARATORS = {"-", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "_", "."}


class _AlphabetTOTP(pyotp.TOTP):
    """TOTP whose one-time value is `length` characters of ALPHABET instead of decimal digits.

    HMAC-SHA256 of the window counter, dynamic truncation as RFC 4226 section 5.3 but to 63 bits
    (enough entropy for 8 characters of a 27-letter alphabet), then written in base len(ALPHABET).
    pyotp insists on 6-10 digits, so digits=6 is passed and ignored; interval is passed through.
    """

    def __init__(self, secret: str, *, length: int, interval: int) -> None:
        super().__init__(secret, digits=6, digest=hashlib.sha256, interval=interval)
        self.length = length

    def generate_otp(self, input: int) -> str:
        return _alphabet_code(self.byte_secret(), input, self.length)


def _alphabet_code(key: bytes, window: int, length: int) -> str:
    """The code of one window: one HMAC-SHA256, truncated and written in ALPHABET."""
    if window < 0:
        raise ValueError("window counter must not be negative")
    digest = hmac.new(key, window.to_bytes(8, "big"), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    value = int.from_bytes(digest[offset : offset + 8], "big") & 0x7FFF_FFFF_FFFF_FFFF
    base = len(ALPHABET)
    chars = []
    for _ in range(length):
        value, index = divmod(value, base)
        chars.append(ALPHABET[index])
    return "".join(reversed(chars))


@functools.lru_cache(maxsize=256)
def _key(secret: str) -> bytes:
    """The HMAC key of a base32 secret, decoded once per secret instead of once per window."""
    return pyotp.TOTP(secret).byte_secret()


def new_secret() -> str:
    """A fresh random base32 secret for one session (pyotp uses `secrets`)."""
    return pyotp.random_base32(length=32)


def window_of(now: float, interval: int) -> int:
    """The number of the window that contains `now` (epoch seconds)."""
    return math.floor(now / interval)


def code_for_window(secret: str, window: int, *, length: int, interval: int) -> str:
    """The code shown during window number `window` (what _AlphabetTOTP(...).at() gives)."""
    return _alphabet_code(_key(secret), window, length)


@dataclass(frozen=True)
class CodeSpec:
    """What a session's codes are made of: its secret, window length, code length and grace, and
    where its windows start (`offset` seconds after the epoch's multiples of the interval)."""

    secret: str
    interval: int
    length: int
    grace_seconds: int
    offset: float = 0.0

    def window(self, now: float) -> int:
        return window_of(now - self.offset, self.interval)

    def code_at(self, now: float) -> str:
        """The code shown at instant `now` (epoch seconds)."""
        return code_for_window(self.secret, self.window(now), length=self.length, interval=self.interval)

    def code_for(self, window: int) -> str:
        return code_for_window(self.secret, window, length=self.length, interval=self.interval)

    def window_end(self, now: float) -> float:
        """The instant the code shown at `now` rotates out."""
        return (self.window(now) + 1) * self.interval + self.offset

    def seconds_left(self, now: float) -> float:
        """Seconds until the code shown at `now` changes (for the countdown)."""
        return self.window_end(now) - now


class Verdict(enum.Enum):
    """What a typed code amounts to, before any storage rule."""

    ACCEPTED = "accepted"
    EXPIRED = "expired"
    WRONG = "wrong"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class Check:
    """The verdict for one typed code, with what the reply needs to explain it."""

    verdict: Verdict
    normalised: str
    bad_characters: str = ""
    window: int | None = None


def normalise(typed: str) -> str:
    """Forgiving form of a typed code: NFKC, no surrounding or inner spaces or dashes, upper case."""
    text = unicodedata.normalize("NFKC", typed[: MAX_INPUT_LENGTH * 4])
    kept = [ch for ch in text if not ch.isspace() and ch not in _SEPARATORS and unicodedata.category(ch) != "Cf"]
    return "".join(kept).upper()


def check(typed: str, spec: CodeSpec, now: float, *, earliest: float | None = None) -> Check:
    """Judge a typed code at instant `now`.

    Accepted: the current window's code, or an earlier window's code that rotated out less than
    `grace_seconds` ago. Expired: the code of an earlier window of this session (not before
    `earliest`, the session's opening) that rotated out less than grace + EXPIRED_HORIZON_SECONDS
    ago. Anything else, a future window's code included, is wrong. The cost is bounded by the
    grace and the horizon, never by the session's age.
    """
    code = normalise(typed)
    if not code or len(code) > MAX_INPUT_LENGTH:
        return Check(Verdict.MALFORMED, code[:MAX_INPUT_LENGTH])
    bad = "".join(sorted({ch for ch in code if ch not in ALPHABET}))
    if bad or len(code) != spec.length:
        return Check(Verdict.MALFORMED, code, bad_characters=bad)

    current = spec.window(now)
    if hmac.compare_digest(code, spec.code_for(current)):
        return Check(Verdict.ACCEPTED, code, window=current)
    # Earlier windows, newest first: window w rotated out at (w + 1) * interval, and the oldest
    # looked at is the one that rotated out just after now - grace - horizon.
    first = spec.window(now - spec.grace_seconds - EXPIRED_HORIZON_SECONDS)
    if earliest is not None:
        first = max(first, spec.window(earliest))
    for window in range(current - 1, first - 1, -1):
        if hmac.compare_digest(code, spec.code_for(window)):
            rotated_out = (window + 1) * spec.interval + spec.offset
            verdict = Verdict.ACCEPTED if now - rotated_out < spec.grace_seconds else Verdict.EXPIRED
            return Check(verdict, code, window=window)
    return Check(Verdict.WRONG, code)


ALPHABET_DESCRIPTION = f"the digits {ALPHABET[:6]} and the letters {ALPHABET[6:]}"


# -- projector links ----------------------------------------------------------------------------

LINK_TOKEN_BYTES = 24  # 192 bits; the issue asks for at least 128
_LINK_LABEL = b"attendance-bot projector link\x00"  # keeps these HMACs apart from the codes' (8-byte counters)


def new_link_nonce() -> str:
    """A fresh random nonce for a session's projector link (a new link is a new nonce)."""
    return secrets.token_urlsafe(16)


def link_token(secret: str, nonce: str) -> str:
    """The token of a session's projector link: HMAC-SHA256 of the nonce under the session's secret,
    URL-safe. Derived, so it can be given again while only its hash is stored (link_hash)."""
    digest = hmac.new(_key(secret), _LINK_LABEL + nonce.encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:LINK_TOKEN_BYTES]).decode("ascii")


def link_hash(token: str) -> str:
    """What the database keeps of a link's token and looks it up by: its SHA-256, hex (any string
    a browser sends is hashed the same way, so every unknown token costs the same)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
