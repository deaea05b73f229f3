"""The PHI guard in every command that takes free text: held text is answered privately, and
nothing is recorded, posted, or logged with it."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs

from bot.domain.facility import FacilityConfig, PhiPolicy
from bot.domain.log_query import LogQuery
from tests.conftest import Bot, BuildLifeline

PHI = "bed 12 Mr Jones MRN 4417892 needs insulin"
HELD_NOTE = (
    "Not sent: this {what} looks like it contains a medical record number and a patient's name "
    "with a room or bed. Lifeline is not a place for patient information, so nothing was "
    "recorded or posted. Send it again without it: leave the number out (say which unit or bed "
    "instead); give the room or bed without the name."
)


async def entries(bot: Bot) -> list[tuple[str, str]]:
    return [(e.kind.value, e.text) for e in await bot.store.query_log(LogQuery(limit=100))]


@pytest.mark.parametrize(
    ("text", "what"),
    [
        (f"status pharmacy down {PHI}", "note"),
        (f"runbook teams done 1 {PHI}", "note"),
        (f"broadcast {PHI}", "broadcast"),
        (f"incident close {PHI}", "summary"),
        (f"note {PHI}", "note"),
    ],
)
async def test_held_text_is_answered_privately_and_nothing_is_written(
    bot: Bot, text: str, what: str
) -> None:
    await bot.send("incident start Teams outage", user="dr.lee")
    await bot.send("runbook teams", user="dr.lee")
    before = await entries(bot)
    with capture_logs() as logs:
        reply = await bot.send(text, user="dr.lee")

    assert (reply.outcome, reply.ephemeral, reply.lines) == (
        "error",
        True,
        [HELD_NOTE.format(what=what)],
    )
    assert await entries(bot) == before
    assert await bot.store.broadcasts.recent() == []
    assert "4417892" not in repr(logs) and "Jones" not in repr(logs)


async def test_a_title_with_patient_data_opens_no_incident(bot: Bot) -> None:
    reply = await bot.send("incident start Mrs. Patel in room 14 fell", user="dr.lee")

    assert reply.lines == [
        "Not sent: this title looks like it contains a patient's name with a room or bed. "
        "Lifeline is not a place for patient information, so nothing was recorded or posted. "
        "Send it again without it: give the room or bed without the name."
    ]
    assert await bot.store.open_incident() is None
    assert await entries(bot) == []


async def test_a_refused_command_is_logged_without_the_patient_data(bot: Bot) -> None:
    await bot.send("incident start Teams outage", user="dr.lee")
    reply = await bot.send(f"broadcast {PHI}", user="nurse.kim")

    assert reply.outcome == "denied"
    [denied] = await bot.store.query_log(LogQuery(kinds=["denied"]))
    assert denied.text == "(command text held by the PHI guard)"


async def test_a_confirmed_note_is_recorded_and_the_confirmation_logged_without_it(
    build_bot_lifeline: BuildLifeline, facility: FacilityConfig
) -> None:
    allowing = facility.model_copy(update={"phi_guard": PhiPolicy(allow_confirm=True)})
    bot = Bot(await build_bot_lifeline(facility=allowing))
    with capture_logs() as logs:
        reply = await bot.send("status dietary up not-phi Mr Coffee in room 2 fixed", user="kim")

    assert reply.lines[-1] == "Note: Mr Coffee in room 2 fixed"
    [confirmed] = [entry for entry in logs if entry["event"] == "phi.confirmed"]
    assert (confirmed["what"], confirmed["actor"]) == ("note", "kim")
    assert "Coffee" not in repr(confirmed)
