"""Signed, expiring links to the web board: an HMAC over the facility, a generation and an
expiry. Raising the generation (`board revoke`) voids every link issued before it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

_TOKEN = re.compile(r"^(\d{1,12})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$")


class Verdict(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"
    INVALID = "invalid"  # malformed, or not signed with this facility's secret


@dataclass(frozen=True)
class BoardToken:
    generation: int
    expires: datetime


@dataclass(frozen=True)
class Checked:
    verdict: Verdict
    token: BoardToken | None = None  # set unless INVALID


def _signature(secret: bytes, facility: str, generation: int, expires: int) -> str:
    message = f"lifeline-board|{facility}|{generation}|{expires}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def sign(secret: bytes, facility: str, token: BoardToken) -> str:
    expires = int(token.expires.timestamp())
    return f"{token.generation}.{expires}.{_signature(secret, facility, token.generation, expires)}"


def check(secret: bytes, facility: str, text: str, generation: int, now: datetime) -> Checked:
    """What `text` is worth now, when links of `generation` are the valid ones."""
    match = _TOKEN.match(text)
    if match is None:
        return Checked(Verdict.INVALID)
    issued, expires = int(match[1]), int(match[2])
    expected = _signature(secret, facility, issued, expires)
    if not hmac.compare_digest(expected, match[3]):
        return Checked(Verdict.INVALID)
    token = BoardToken(issued, datetime.fromtimestamp(expires, UTC))
    if issued != generation:
        return Checked(Verdict.REVOKED, token)
    if token.expires <= now:
        return Checked(Verdict.EXPIRED, token)
    return Checked(Verdict.VALID, token)
