"""Durations, `since` expressions and how times are shown (facility time zone, 24-hour clock)."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

_DURATION = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|secs|m|min|mins|h|hr|hrs|hours?|d|days?)?\s*$"
)
_UNIT_SECONDS = {"s": 1, "sec": 1, "secs": 1, "m": 60, "min": 60, "mins": 60}
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def parse_duration(text: str, default_unit: str = "m") -> timedelta:
    """`90s`, `15m`, `2h`, `1d`, or a bare number in `default_unit`. Raises ValueError."""
    match = _DURATION.match(text.lower())
    if not match:
        raise ValueError(
            f"“{text}” is not a duration; use a number with s, m, h or d, like 15m or 2h"
        )
    amount = float(match.group(1))
    unit = match.group(2) or default_unit
    if unit in _UNIT_SECONDS:
        seconds = amount * _UNIT_SECONDS[unit]
    elif unit.startswith("h"):
        seconds = amount * 3600
    else:
        seconds = amount * 86400
    if seconds <= 0:
        raise ValueError(f"“{text}” must be longer than zero")
    return timedelta(seconds=seconds)


def parse_since(text: str, now: datetime, tz: ZoneInfo) -> datetime:
    """`2h` (ago) or `14:00` (today in the facility's zone, or yesterday if that is still ahead)."""
    clock = _CLOCK.match(text)
    if clock:
        local_now = now.astimezone(tz)
        at = datetime.combine(local_now.date(), time(int(clock[1]), int(clock[2])), tzinfo=tz)
        if at > local_now:
            at -= timedelta(days=1)
        return at
    try:
        return now - parse_duration(text, default_unit="h")
    except ValueError:
        raise ValueError(
            f"“{text}” is not a time; use a duration like 2h or 30m, or a clock time like 14:00"
        ) from None


def format_time(at: datetime, tz: ZoneInfo, now: datetime) -> str:
    """`14:05` today, `2026-11-21 14:05` otherwise, in the facility's zone."""
    local = at.astimezone(tz)
    if local.date() == now.astimezone(tz).date():
        return local.strftime("%H:%M")
    return local.strftime("%Y-%m-%d %H:%M")


def format_age(delta: timedelta) -> str:
    """A short human age: `just now`, `12m`, `3h 05m`, `2d 4h`."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return "just now"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def format_duration(delta: timedelta) -> str:
    """`60m`, `12h`, `90s` — the way durations are written in configuration."""
    seconds = int(delta.total_seconds())
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"
