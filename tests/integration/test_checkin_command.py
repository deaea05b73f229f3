from __future__ import annotations

from datetime import timedelta

import pytest

from bot.domain.facility import FacilityConfig
from bot.domain.log_query import LogQuery
from bot.domain.models import LogEntry, LogKind
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.store import Store
from tests.conftest import Bot, Clock


async def test_a_checkin_is_recorded_and_answered_only_after_the_write(bot: Bot) -> None:
    reply = await bot.send("status pharmacy down cabinets on override")
    assert reply.outcome == "recorded"
    assert reply.lines == [
        "Recorded: Pharmacy is DOWN — Non-functional (no incident open)",
        "Note: cabinets on override",
    ]
    [entry] = await bot.store.query_log(LogQuery(departments=["pharmacy"]))
    assert (entry.kind.value, entry.text, entry.data["state"]) == (
        "checkin",
        "cabinets on override",
        "down",
    )


async def test_aliases_of_departments_and_states_are_accepted(bot: Bot) -> None:
    reply = await bot.send("checkin RX Red automated cabinets on override")
    assert reply.lines[0] == "Recorded: Pharmacy is DOWN — Non-functional (no incident open)"
    reply = await bot.send("status blood bank yellow two-person check")
    assert (
        reply.lines[0]
        == "Recorded: Blood Bank is PARTIAL — Partially functional (no incident open)"
    )


async def test_a_checkin_during_an_incident_carries_its_id_and_period(bot: Bot) -> None:
    await bot.send("incident start Teams outage")
    reply = await bot.send("status lab partial phoning critical values")
    assert reply.lines[0] == (
        "Recorded: Laboratory is PARTIAL — Partially functional (INC-20261122-1, period 1)"
    )
    [entry] = await bot.store.query_log(LogQuery(departments=["lab"]))
    assert (entry.incident_id, entry.data["period"]) == ("INC-20261122-1", 1)


async def test_unicode_emoji_and_mention_syntax_are_kept_as_text(bot: Bot) -> None:
    note = "⚠️ Ärzte <!channel> @here <@U123> & <b>bold</b> 💊"
    await bot.send(f"status pharmacy partial {note}")
    [entry] = await bot.store.query_log(LogQuery(departments=["pharmacy"]))
    assert entry.text == note
    board = await bot.send("status")
    assert board.table is not None and board.table.rows[0].cells[2] == note


async def test_a_retried_delivery_records_once(bot: Bot) -> None:
    first = await bot.send("status lab up", command_id="slack-Ev1")
    second = await bot.send("status lab up", command_id="slack-Ev1")
    assert first.lines[0].startswith("Recorded: ")
    assert second.lines[0].startswith("Recorded (already recorded): ")
    assert len(await bot.store.query_log(LogQuery(departments=["lab"]))) == 1


async def test_bad_input_changes_nothing_and_gets_a_specific_answer(bot: Bot) -> None:
    cases = {
        "status pharmcy down": "There is no department “pharmcy”. Did you mean pharmacy?",
        "status lab broken": "“broken” is not a state. Use one of: up, partial, down, na "
        "(or green/yellow/red, ok, degraded, out).",
        "status lab down " + "x" * 2001: "That note is 2,001 characters; the limit is 2,000. "
        "Shorten it and send it again.",
        'status "blood bank down': 'That has an opening quote (") with no closing one. '
        "Close the quote, or leave the quotes out.",
        "stauts lab down": "There is no command “stauts”. Did you mean status? "
        "Type help to see every command.",
    }
    for text, answer in cases.items():
        reply = await bot.send(text)
        assert (reply.outcome, reply.ephemeral, reply.lines) == ("error", True, [answer]), text
    assert await bot.store.log.count() == 0


DEPARTMENTS = (
    "Departments: pharmacy, lab, radiology, emergency, icu, surgery, nursing, blood-bank, "
    "registration, dietary, it."
)


async def test_did_you_mean_is_only_for_a_slip_never_for_another_department(bot: Bot) -> None:
    cases = {
        "status radiolgy down": "There is no department “radiolgy”. Did you mean radiology?",
        "status pharmcy down": "There is no department “pharmcy”. Did you mean pharmacy?",
        "status labb up": "There is no department “labb”. Did you mean lab?",
        "status blood bnk down": "There is no department “blood”. Did you mean blood-bank?",
        "status emergancy down": "There is no department “emergancy”. Did you mean emergency?",
        "status cardiology down": f"There is no department “cardiology”. {DEPARTMENTS}",
        "status pacu down": f"There is no department “pacu”. {DEPARTMENTS}",
        "status nicu down": f"There is no department “nicu”. {DEPARTMENTS}",
        "status ot down": f"There is no department “ot”. {DEPARTMENTS}",
        "stauts lab down": "There is no command “stauts”. Did you mean status? "
        "Type help to see every command.",
        "rolcall": "There is no command “rolcall”. Did you mean rollcall? "
        "Type help to see every command.",
        "start Teams outage": "There is no command “start”. Type help to see every command.",
        "back": "There is no command “back”. Type help to see every command.",
    }
    for text, answer in cases.items():
        reply = await bot.send(text)
        assert (reply.outcome, reply.lines) == ("error", [answer]), text
    reply = await bot.send("status bloodbank down")
    assert reply.lines[0] == "Recorded: Blood Bank is DOWN — Non-functional (no incident open)"


async def test_the_board_marks_unknown_and_stale_departments(bot: Bot, clock: Clock) -> None:
    await bot.send("status pharmacy down cabinets on override", user="rx-lead")
    clock.now += timedelta(minutes=61)
    await bot.send("status lab up", user="lab-lead")
    board = await bot.send("status")
    assert board.table is not None
    rows = {row.cells[0]: row for row in board.table.rows}
    assert rows["Pharmacy"].cells == [
        "Pharmacy",
        "DOWN (stale)",
        "cabinets on override",
        "rx-lead",
        "10:00 (1h 01m ago)",
    ]
    assert rows["Pharmacy"].marker == "stale"
    assert rows["Laboratory"].cells == ["Laboratory", "UP", "", "lab-lead", "11:01"]
    assert rows["Radiology"].cells == ["Radiology", "unknown", "", "", ""]
    assert board.fields[0].value == "Non-functional 1 · Fully functional 1 · No report 9"


async def test_a_new_period_resets_departments_to_unknown(bot: Bot, clock: Clock) -> None:
    await bot.send("incident start EHR downtime", user="ic")
    await bot.send("status lab down analyser offline")
    clock.now += timedelta(hours=1)
    await bot.send("incident period", user="ic")
    board = await bot.send("status")
    assert board.table is not None
    lab = next(row for row in board.table.rows if row.cells[0] == "Laboratory")
    assert lab.cells == ["Laboratory", "unknown", "before this period: DOWN", "alice", "10:00"]
    assert board.title.endswith("INC-20261122-1 EHR downtime (sev 2), period 2")


async def test_one_department_shows_state_history_and_buttons(bot: Bot, clock: Clock) -> None:
    await bot.send("status radiology partial PACS read-only", user="rad1")
    clock.now += timedelta(minutes=5)
    await bot.send("status xray down PACS offline", user="rad2")
    reply = await bot.send("status imaging")
    assert [(f.label, f.value) for f in reply.fields] == [
        ("State", "DOWN — Non-functional"),
        ("Note", "PACS offline"),
        ("Reported", "rad2 at 10:05"),
    ]
    assert reply.lines == [
        "Recent check-ins:",
        "10:05  DOWN  rad2 — PACS offline",
        "10:00  PARTIAL  rad1 — PACS read-only",
    ]
    assert [a.command for a in reply.actions] == [
        "status radiology up",
        "status radiology partial",
        "status radiology down",
    ]


async def test_a_checkin_is_filed_under_the_period_another_process_just_started(
    bot: Bot, redis_server: EmbeddedRedis, facility: FacilityConfig
) -> None:
    await bot.send("incident start EHR downtime", user="ic")
    await bot.send("status lab up")  # this process now remembers period 1
    other = Store(redis_server.client(), facility)
    try:
        incident = await other.open_incident()
        assert incident is not None
        advanced = incident.model_copy(update={"period": 2})
        entry = LogEntry(at=incident.opened_at, incident_id=incident.id, kind=LogKind.INCIDENT_PERIOD,
                         actor=incident.commander)  # fmt: skip
        await other.update_incident("other-process-1", advanced, entry)
        reply = await bot.send("status lab down")
        assert (
            reply.lines[0]
            == "Recorded: Laboratory is DOWN — Non-functional (INC-20261122-1, period 2)"
        )
        await other.update_incident("other-process-2", advanced, entry, closing=True)
        reply = await bot.send("status lab up")
        assert reply.lines[0] == "Recorded: Laboratory is UP — Fully functional (no incident open)"
    finally:
        await other.redis.aclose()


async def test_a_checkin_that_keeps_losing_the_race_is_refused_plainly(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def always_stale() -> str:
        return "INC-20261122-9 7"  # never the open incident: every guarded write is refused

    monkeypatch.setattr(bot.store, "_current_marker", always_stale)
    reply = await bot.send("status lab up")
    assert (reply.outcome, reply.lines) == ("error", [
        "The incident changed (opened, closed or a new period) while this check-in was being "
        "recorded, so nothing was recorded. Send it again."
    ])  # fmt: skip
    assert await bot.store.log.count() == 0
