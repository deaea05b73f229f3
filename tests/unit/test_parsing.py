from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.command import tokenize
from bot.domain.errors import UserError
from bot.domain.facility import FacilityConfig
from bot.domain.models import State
from bot.domain.parsing import (
    check_note,
    close_match,
    parse_mention,
    parse_state,
    resolve_department,
)
from bot.domain.timefmt import format_age, format_time, parse_duration, parse_since

FACILITY = FacilityConfig()
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("word", "expected"),
    [("pharmacy", "pharmacy"), ("RX", "pharmacy"), ("ed", "emergency"), ("er", "emergency"),
     ("or", "surgery"), ("Blood-Bank", "blood-bank"), ("bloodbank", "blood-bank")],
)  # fmt: skip
def test_departments_resolve_by_id_alias_and_case(word: str, expected: str) -> None:
    dept, _ = resolve_department(tokenize(f"status {word}"), 1, FACILITY)
    assert dept.id == expected


def test_a_two_word_department_needs_no_quotes() -> None:
    dept, next_index = resolve_department(tokenize("status blood bank down"), 1, FACILITY)
    assert (dept.id, next_index) == ("blood-bank", 3)


def test_a_near_miss_gets_a_suggestion() -> None:
    with pytest.raises(UserError) as caught:
        resolve_department(tokenize("status pharmcy"), 1, FACILITY)
    assert caught.value.message == "There is no department “pharmcy”. Did you mean pharmacy?"


@pytest.mark.parametrize(
    ("word", "expected"),
    [("radiolgy", "radiology"), ("pharmcy", "pharmacy"), ("phramacy", "pharmacy"), ("labb", "lab"),
     ("lba", "lab"), ("xry", "radiology"), ("labratory", "lab"), ("emrgancy", "emergency"),
     ("surg", "surgery"), ("blood", "blood-bank"), ("Blood Bnk", "blood-bank"),
     ("cardiology", None), ("neurology", None), ("radiation", None), ("pacu", None),
     ("nicu", None), ("ccu", None), ("red", None), ("ot", None), ("rd", None), ("itu", None)],
)  # fmt: skip
def test_only_a_slip_of_the_keyboard_is_close(word: str, expected: str | None) -> None:
    found = close_match(word, FACILITY.department_names)
    assert (found.id if found else None) == expected


def test_close_names_of_two_departments_suggest_neither() -> None:
    names = {"surgery": "surgery", "or": "surgery", "surgical-icu": "sicu"}
    assert close_match("surgey", names) == "surgery"
    assert close_match("surg", names) is None  # begins both


def test_a_far_miss_lists_the_departments() -> None:
    with pytest.raises(UserError) as caught:
        resolve_department(tokenize("status zzz"), 1, FACILITY)
    assert caught.value.message == (
        "There is no department “zzz”. Departments: pharmacy, lab, radiology, emergency, icu, "
        "surgery, nursing, blood-bank, registration, dietary, it."
    )


@pytest.mark.parametrize(
    ("word", "state"),
    [("up", State.UP), ("green", State.UP), ("OK", State.UP), ("full", State.UP),
     ("yellow", State.PARTIAL), ("degraded", State.PARTIAL), ("limited", State.PARTIAL),
     ("red", State.DOWN), ("out", State.DOWN), ("nonfunctional", State.DOWN), ("na", State.NA)],
)  # fmt: skip
def test_state_aliases(word: str, state: State) -> None:
    assert parse_state(word) is state


def test_unknown_state_lists_the_valid_ones() -> None:
    with pytest.raises(UserError) as caught:
        parse_state("broken")
    assert caught.value.message == (
        "“broken” is not a state. Use one of: up, partial, down, na "
        "(or green/yellow/red, ok, degraded, out)."
    )


def test_a_note_over_2000_characters_is_refused_with_the_limit() -> None:
    assert check_note("x" * 2000) == "x" * 2000
    with pytest.raises(UserError) as caught:
        check_note("x" * 2001)
    assert caught.value.message == (
        "That note is 2,001 characters; the limit is 2,000. Shorten it and send it again."
    )


def test_mentions_on_each_transport() -> None:
    slack = parse_mention("<@U0IC|dr.lee>", "slack")
    matrix = parse_mention("@ic:hospital.org", "matrix")
    console = parse_mention("@bob", "console")
    assert slack is not None and (slack.id, slack.name) == ("U0IC", "dr.lee")
    assert matrix is not None and (matrix.id, matrix.name) == ("@ic:hospital.org", "ic")
    assert console is not None and (console.id, console.transport) == ("bob", "console")
    assert parse_mention("bob", "console") is None
    assert parse_mention("<!here>", "slack") is None


def test_durations() -> None:
    assert parse_duration("60m") == timedelta(minutes=60)
    assert parse_duration("2h") == timedelta(hours=2)
    assert parse_duration("90s") == timedelta(seconds=90)
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


def test_since_clock_time_is_today_or_yesterday_in_the_facility_zone() -> None:
    now = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)  # 15:00 in New York
    assert parse_since("14:00", now, NEW_YORK) == datetime(2026, 11, 22, 14, 0, tzinfo=NEW_YORK)
    assert parse_since("16:00", now, NEW_YORK) == datetime(2026, 11, 21, 16, 0, tzinfo=NEW_YORK)
    assert parse_since("2h", now, NEW_YORK) == now - timedelta(hours=2)
    with pytest.raises(ValueError, match="not a time"):
        parse_since("yesterday", now, NEW_YORK)


def test_times_show_in_the_facility_zone_with_the_date_when_not_today() -> None:
    now = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)
    assert format_time(datetime(2026, 11, 22, 19, 5, tzinfo=UTC), NEW_YORK, now) == "14:05"
    assert (
        format_time(datetime(2026, 11, 21, 3, 5, tzinfo=UTC), NEW_YORK, now) == "2026-11-20 22:05"
    )
    assert format_age(timedelta(minutes=185)) == "3h 05m"
    assert format_age(timedelta(seconds=30)) == "just now"
