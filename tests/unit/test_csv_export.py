"""The CSV writer: formula guard cases, and any text survives a write and a read back."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.models import Actor, LogEntry, LogKind
from bot.services.exports.csv_format import CsvWriter, guard, unguard
from bot.services.exports.rows import to_row

TZ = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+2", "'=1+2"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2 scanners", "'-2 scanners"),
        ("@here", "'@here"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("'=1", "''=1"),  # a guard quote someone typed is guarded too, so it reads back
        ("'plain", "'plain"),
        ("ok = fine", "ok = fine"),
        ("", ""),
    ],
)
def test_formula_starts_are_guarded(cell: str, written: str) -> None:
    assert guard(cell) == written
    assert unguard(written) == cell


@given(st.text())
def test_guard_is_undone_exactly(text: str) -> None:
    assert unguard(guard(text)) == text
    assert not guard(text).startswith(("=", "+", "-", "@", "\t", "\r"))


@given(st.text(), st.text(), st.dictionaries(st.text(max_size=5), st.integers()))
def test_any_text_reads_back_from_the_csv(text: str, name: str, data: dict[str, int]) -> None:
    entry = LogEntry(
        id="1-0",
        at=datetime(2026, 11, 22, 15, tzinfo=UTC),
        kind=LogKind.NOTE,
        actor=Actor(id="u", name=name, transport="slack"),
        text=text,
        data=data,
    )
    writer = CsvWriter()
    written = writer.header() + writer.rows([to_row(entry, TZ)])
    [row] = list(csv.DictReader(io.StringIO(written.removeprefix("\ufeff"), newline="")))
    # What the log holds reads back exactly (names are cleaned of control characters on entry).
    assert unguard(row["text"]) == entry.text
    assert unguard(row["actor_name"]) == entry.actor.name
