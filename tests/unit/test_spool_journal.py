"""A spool journal line keeps any note, name or id exactly, on one line."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.storage.spool import SpooledEntry

any_text = st.text(st.characters(codec="utf-8"), max_size=300)


@given(
    note=any_text,
    name=any_text,
    command_id=any_text,
    at=st.datetimes(timezones=st.just(UTC)),
)
def test_an_entry_survives_its_journal_line(
    note: str, name: str, command_id: str, at: datetime
) -> None:
    payload = {"note": note, "actor": {"id": "U1", "name": name, "transport": "slack"}}
    entry = SpooledEntry("S-ABC123", "checkin", command_id, at, payload)
    line = entry.line()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert SpooledEntry.parse(line) == entry


@given(cut=st.integers(min_value=1, max_value=60))
def test_a_line_cut_short_by_a_crash_does_not_parse(cut: int) -> None:
    line = SpooledEntry("S-ABC123", "checkin", "Ev1", datetime(2026, 1, 1, tzinfo=UTC), {}).line()
    try:
        SpooledEntry.parse(line[: -cut - 1])
    except ValueError:
        return
    raise AssertionError("a truncated line parsed")
