"""The clock: times are aware and in UTC; they are shown in the facility's zone."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
