"""The Redis side of runs: guards, atomic log entries, and text that survives the round trip."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.domain.errors import RunIncidentClosed, StepAlreadyDone, StepNotDone
from bot.domain.log_query import LogQuery
from bot.domain.models import Actor, Incident, LogEntry, LogKind
from bot.domain.runbook_run import StepChange
from bot.storage.store import Store

AT = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
IC = Actor(id="ic", name="Dr Lee", transport="slack")
INC = "INC-20261122-1"
STEP = StepChange(
    incident_id=INC, runbook_id="ehr-downtime", step_id="print-mars", number=2,
    title="Print current MARs", department="nursing",
)  # fmt: skip


def nurse(n: int) -> Actor:
    return Actor(id=f"rn{n}", name=f"RN {n}", transport="matrix")


@pytest.fixture
async def incident(store: Store) -> Incident:
    incident = Incident(
        id=INC, title="EHR down", severity=1, commander=IC, opened_at=AT, period_started_at=AT
    )
    entry = LogEntry(at=AT, incident_id=INC, kind=LogKind.INCIDENT_OPENED, actor=IC)
    await store.start_incident("open-1", incident, entry)
    return incident


async def test_a_run_starts_once_per_runbook_per_incident(store: Store, incident: Incident) -> None:
    runs = store.runbooks
    assert await runs.start("c1", INC, "ehr-downtime", "EHR downtime", 12, IC, AT) is True
    assert await runs.start("c2", INC, "ehr-downtime", "EHR downtime", 12, nurse(1), AT) is False
    assert await runs.start("c3", INC, "teams-outage", "Teams", 12, IC, AT) is True
    assert await runs.started(INC) == ["ehr-downtime", "teams-outage"]
    run = await runs.load(INC, "ehr-downtime", ["access-mode", "print-mars"])
    assert run is not None
    assert (run.started.actor, run.started.at, run.marks) == (IC, AT, {})
    assert await runs.load(INC, "blood-bank", ["x"]) is None


async def test_a_note_in_any_script_survives_done_and_undo(
    store: Store, incident: Incident
) -> None:
    note = 'MARs printed 4 Ouest — café ✓ 🧪 "quoted" \\ back\\slash <!here>'
    await store.runbooks.start("c0", INC, "ehr-downtime", "EHR downtime", 12, IC, AT)
    mark = await store.runbooks.mark_done("c1", STEP, nurse(1), AT, note)
    run = await store.runbooks.load(INC, "ehr-downtime", ["print-mars"])
    assert run is not None
    assert run.marks["print-mars"] == mark
    assert mark.note == note
    removed = await store.runbooks.undo("c2", STEP, nurse(2), AT, "")
    assert removed == mark
    run = await store.runbooks.load(INC, "ehr-downtime", ["print-mars"])
    assert run is not None
    assert run.marks == {}


async def test_every_change_is_one_log_entry_indexed_by_department(
    store: Store, incident: Incident
) -> None:
    await store.runbooks.mark_done("c1", STEP, nurse(1), AT, "5 units")
    await store.runbooks.undo("c2", STEP, nurse(2), AT, "wrong unit")
    entries = await store.query_log(LogQuery(departments=["nursing"]))
    assert [(e.kind, e.actor.id, e.data["action"]) for e in entries] == [
        (LogKind.RUNBOOK_STEP, "rn2", "undo"),
        (LogKind.RUNBOOK_STEP, "rn1", "done"),
    ]
    assert entries[0].data["was_done_by"] == "RN 1"


async def test_of_ten_simultaneous_ticks_one_wins_and_nine_learn_who(
    store: Store, incident: Incident
) -> None:
    results = await asyncio.gather(
        *(store.runbooks.mark_done(f"c{n}", STEP, nurse(n), AT, "") for n in range(10)),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, StepAlreadyDone)]
    assert len(winners) == 1
    assert len(losers) == 9
    assert {loser.mark for loser in losers} == {winners[0]}
    assert len(await store.query_log(LogQuery(kinds=["runbook.step"]))) == 1


async def test_undo_of_a_step_not_done_is_refused(store: Store, incident: Incident) -> None:
    with pytest.raises(StepNotDone):
        await store.runbooks.undo("c1", STEP, nurse(1), AT, "")
    assert await store.query_log(LogQuery(kinds=["runbook.step"])) == []


async def test_nothing_is_written_for_an_incident_that_is_no_longer_open(store: Store) -> None:
    with pytest.raises(RunIncidentClosed):
        await store.runbooks.mark_done("c1", STEP, nurse(1), AT, "")
    with pytest.raises(RunIncidentClosed):
        await store.runbooks.start("c2", INC, "ehr-downtime", "EHR downtime", 12, IC, AT)
    assert await store.log.count() == 0
    assert await store.redis.keys("*runbook*") == []
