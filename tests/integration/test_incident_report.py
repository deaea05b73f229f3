"""`incident report`: every section of the after-action report against a scripted incident whose
durations and acknowledgement times are known (the test clock moves between commands)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import Lifeline
from bot.domain.delivery import DeliveryFailed
from bot.domain.facility import Department, FacilityConfig, Roles
from bot.domain.models import State
from bot.domain.outbox import broadcast_copies
from bot.services.report.collect import collect_report
from bot.services.report.model import Report
from tests.conftest import Bot, BuildLifeline, Clock

DEPARTMENTS = (
    Department(id="pharmacy", name="Pharmacy"),
    Department(id="lab", name="Laboratory"),
    Department(id="radiology", name="Radiology"),
    Department(id="dietary", name="Dietary"),
)


@pytest.fixture
async def small(build_bot_lifeline: BuildLifeline) -> Lifeline:
    facility = FacilityConfig(
        facility="General Hospital",
        timezone="America/New_York",
        departments=DEPARTMENTS,
        roles=Roles(commander=("ic1",), it=("it1",)),
    )
    return await build_bot_lifeline(facility=facility)


async def script(bot: Bot, clock: Clock) -> None:
    """15:00 UTC = 10:00 in New York. Two hours, two periods, one handoff."""

    async def at(minutes: int, text: str, user: str) -> None:
        clock.now = clock.now.replace(hour=15, minute=0) + timedelta(minutes=minutes)
        reply = await bot.send(text, user=user)
        assert reply.outcome in ("recorded", "ok", "denied"), (text, reply.lines)

    await at(0, 'incident start "Teams outage" sev 2 drill', "ic1")
    await at(5, "status pharmacy down cabinets on override", "rx")
    await at(10, "status lab partial phoning criticals", "lab")
    await at(12, "rollcall", "ic1")
    await at(15, "broadcast urgent Do not power on Windows PCs", "ic1")
    await at(17, "ack B-1", "rx")
    await at(23, "ack B-1", "lab")
    await at(25, "runbook teams-outage", "ic1")
    await at(30, "runbook teams-outage done 1 it is the cloud side", "ic1")
    await at(35, "incident close", "nurse")  # refused
    await at(40, "status radiology down PACS offline", "rad")
    await at(50, "incident period 6", "ic1")
    await at(60, "incident handoff @dr.lee", "ic1")
    await at(70, "status pharmacy up restored", "rx")
    await at(120, "incident close all restored", "dr.lee")


async def scripted_report(small: Lifeline, clock: Clock) -> Report:
    bot = Bot(small)
    await script(bot, clock)
    incident = await small.store.incident("INC-20261122-1")
    assert incident is not None
    return await collect_report(small.store, small.router.context.facility, incident, clock.now)


async def test_overview_commanders_handoffs_and_periods(small: Lifeline, clock: Clock) -> None:
    report = await scripted_report(small, clock)
    incident = report.incident
    assert (incident.title, incident.severity, incident.drill) == ("Teams outage", 2, True)
    assert report.duration == timedelta(hours=2)
    assert [name for _, name in report.commanders] == ["ic1", "dr.lee"]
    [handoff] = report.handoffs
    assert (handoff.previous, handoff.new, handoff.by.id) == ("ic1", "dr.lee", "ic1")
    assert handoff.at.strftime("%H:%M") == "16:00"
    assert [
        (
            p.number,
            p.started_at.strftime("%H:%M"),
            p.ended_at.strftime("%H:%M") if p.ended_at else None,
            p.hours,
        )
        for p in report.periods
    ] == [
        (1, "15:00", "15:50", 12.0),
        (2, "15:50", "17:00", 6.0),
    ]


async def test_timeline_lists_key_events_and_state_changes(small: Lifeline, clock: Clock) -> None:
    report = await scripted_report(small, clock)
    assert [(e.at.strftime("%H:%M"), e.kind.value) for e in report.timeline] == [
        ("15:00", "incident.opened"),
        ("15:05", "checkin"),
        ("15:10", "checkin"),
        ("15:12", "rollcall"),
        ("15:15", "broadcast"),
        ("15:25", "runbook.started"),
        ("15:40", "checkin"),
        ("15:50", "incident.period"),
        ("16:00", "incident.handoff"),
        ("16:10", "checkin"),
        ("17:00", "incident.closed"),
    ]


async def test_departments_time_in_each_state_and_who_never_reported(
    small: Lifeline, clock: Clock
) -> None:
    report = await scripted_report(small, clock)
    by_id = {d.id: d for d in report.departments}
    pharmacy = by_id["pharmacy"]
    assert pharmacy.first_report is not None and pharmacy.first_report.strftime("%H:%M") == "15:05"
    assert pharmacy.time_in == {State.DOWN: timedelta(minutes=65), State.UP: timedelta(minutes=50)}
    assert (pharmacy.state, pharmacy.note, pharmacy.reports) == (State.UP, "restored", 2)
    assert by_id["lab"].time_in == {State.PARTIAL: timedelta(minutes=110)}
    assert by_id["radiology"].time_in == {State.DOWN: timedelta(minutes=80)}
    assert report.never_reported == ["Dietary"]


async def test_broadcast_ack_rate_median_slowest_and_who_never_acknowledged(
    small: Lifeline, clock: Clock
) -> None:
    report = await scripted_report(small, clock)
    [b1] = report.broadcasts
    assert (b1.id, b1.priority, b1.text) == ("B-1", "urgent", "Do not power on Windows PCs")
    assert (b1.delivered, b1.failed) == (0, 0)  # no chat transport in this test
    assert dict(b1.acks.values()) == {
        "rx": timedelta(minutes=2),
        "lab": timedelta(minutes=8),
    }
    # Everyone active in the incident but the sender: rx, lab, nurse, rad, dr.lee.
    assert (b1.expected, b1.ack_rate) == (5, 0.4)
    assert b1.never_acked == ["dr.lee", "nurse", "rad"]
    assert b1.message is not None and b1.message.sender_role == "Incident Commander"


async def test_runbooks_roll_calls_and_refusals(small: Lifeline, clock: Clock) -> None:
    report = await scripted_report(small, clock)
    [run] = report.runbooks
    assert (run.id, run.started_by, run.step_count, run.done, run.completed_at) == (
        "teams-outage", "ic1", 12, 1, None,
    )  # fmt: skip
    step = run.steps[1]
    assert (step.title, step.done_by, step.note) == (
        "Decide which failure it is", "ic1", "it is the cloud side",
    )  # fmt: skip
    [rollcall] = report.rollcalls
    assert (rollcall.asked, rollcall.completed_at, rollcall.outstanding) == (
        ["radiology", "dietary"], None, {"dietary"},
    )  # fmt: skip
    [refusal] = report.refusals
    assert (refusal.who, refusal.command) == ("nurse", "incident close")
    assert refusal.reason.startswith("Only the admin, commander or incident commander")


async def test_hics_appendices_per_person_per_period_and_per_broadcast(
    small: Lifeline, clock: Clock
) -> None:
    report = await scripted_report(small, clock)
    people = {p.actor.id: p for p in report.people}
    assert sorted(people) == ["dr.lee", "ic1", "lab", "nurse", "rad", "rx"]
    assert [a.text for a in people["rx"].activities] == [
        "Pharmacy checked in DOWN: cabinets on override",
        "Acknowledged B-1",
        "Pharmacy checked in UP: restored",
    ]
    assert people["dr.lee"].positions == {"Incident Commander"}
    assert people["rx"].positions == {"Pharmacy (reporting)"}
    first, second = report.snapshots
    assert [(r.department, r.state) for r in first.rows] == [
        ("Pharmacy", State.DOWN), ("Laboratory", State.PARTIAL), ("Radiology", State.DOWN),
        ("Dietary", State.UNKNOWN),
    ]  # fmt: skip
    assert first.rows[2].comment == "PACS offline (rad, 2026-11-22 10:40)"
    assert [(r.department, r.state) for r in second.rows] == [
        ("Pharmacy", State.UP), ("Laboratory", State.UNKNOWN), ("Radiology", State.UNKNOWN),
        ("Dietary", State.UNKNOWN),
    ]  # fmt: skip


async def test_a_roll_call_completes_when_the_last_department_asked_checks_in(
    small: Lifeline, clock: Clock
) -> None:
    bot = Bot(small)
    await bot.send("incident start Roll call drill", user="ic1")
    for dept in ("pharmacy", "lab"):
        await bot.send(f"status {dept} up", user="x")
    clock.now += timedelta(minutes=1)
    await bot.send("rollcall", user="ic1")
    clock.now += timedelta(minutes=4)
    await bot.send("status radiology up", user="rad")
    clock.now += timedelta(minutes=7, seconds=30)
    await bot.send("status dietary na", user="diet")
    incident = await small.store.open_incident()
    assert incident is not None
    report = await collect_report(small.store, small.router.context.facility, incident, clock.now)
    [rollcall] = report.rollcalls
    assert rollcall.completed_at is not None
    assert rollcall.completed_at - rollcall.at == timedelta(minutes=11, seconds=30)


async def test_incident_report_in_chat_writes_markdown_and_html_and_is_logged(
    small: Lifeline, clock: Clock
) -> None:
    bot = Bot(small)
    await script(bot, clock)
    reply = await bot.send("incident report", user="it1")
    assert [a.name for a in reply.attachments] == [
        "after-action-INC-20261122-1-20261122-120000.md",
        "after-action-INC-20261122-1-20261122-120000.html",
    ]
    assert reply.lines == [
        "After-action report draft for INC-20261122-1 “Teams outage”: 15 log entries, as "
        "Markdown and as print-ready HTML.",
        "Files: after-action-INC-20261122-1-20261122-120000.md, "
        "after-action-INC-20261122-1-20261122-120000.html",
    ]
    markdown = reply.attachments[0].read().decode()
    for heading in (
        "# After-action report \\(draft\\) — INC-20261122-1 \\[DRILL\\] Teams outage",
        "## 1. Overview", "## 2. Timeline of key events", "## 3. Departments",
        "## 4. Broadcasts", "## 5. Runbooks", "## 6. Roll calls", "## 7. Refused commands",
        "## 8. Strengths", "## 9. Areas for improvement", "## 10. Improvement plan",
        "## Appendix A — HICS 214 Activity Log, per person", "### HICS 214 — rx",
        "## Appendix B — HICS 251 Facility System Status, end of each period",
        "### HICS 251 — operational period 2",
        "## Appendix C — HICS 213 General Message, per broadcast", "### HICS 213 — B-1",
    ):  # fmt: skip
        assert f"\n{heading}\n" in f"\n{markdown}", heading
    assert (
        "| B-1 | 2026-11-22 10:15 | Urgent-High | 0 | 0 | 2 of 5 | 40% | 5m | 8m | "
        "dr.lee, nurse, rad |"
    ) in markdown
    assert "| Corrective action | Owner | Due date |\n|---|---|---|\n|   |   |   |" in markdown
    html = reply.attachments[1].read().decode()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    assert "http" not in html.replace("http-equiv", "")  # nothing fetched from the network
    assert html.count('<section class="break">') >= 10


async def test_incident_report_refusals_and_unknown_ids_get_specific_answers(
    small: Lifeline, clock: Clock
) -> None:
    bot = Bot(small)
    assert (await bot.send("incident report", user="it1")).lines == [
        "There is no incident to report on yet. Reports cover an incident once it is started."
    ]
    await bot.send("incident start Teams outage", user="ic1")
    refused = await bot.send("incident report", user="nurse")
    assert (refused.outcome, refused.lines) == ("denied", [
        "Only the admin, commander, it or incident commander can get an after-action report. "
        "Ask the incident commander if this is needed."
    ])  # fmt: skip
    unknown = await bot.send("incident report INC-1999", user="it1")
    assert (unknown.lines, unknown.attachments) == ([
        "There is no incident INC-1999. Incident ids look like INC-20261122-1.",
        "Usage: incident report [INC-id]",
    ], [])  # fmt: skip
    still_open = await bot.send("incident report inc-20261122-1", user="ic1")
    assert still_open.lines[0] == (
        "After-action report draft for INC-20261122-1 “Teams outage” (the incident is still "
        "open: a report so far): 2 log entries, as Markdown and as print-ready HTML."
    )


async def test_copies_that_could_not_be_delivered_are_counted_in_the_report(
    small: Lifeline, clock: Clock
) -> None:
    bot = Bot(small)
    await bot.send("incident start Teams outage", user="ic1")
    await bot.send("broadcast Use the fallback channel", user="ic1")
    failures = [
        DeliveryFailed("slack", "C0GONE", "channel_not_found"),
        DeliveryFailed("matrix", "!old:hospital.org", "M_FORBIDDEN: not in room"),
    ]
    # What the deliverer tells the broadcast's owner once every target was tried.
    await small.broadcaster.finished(broadcast_copies("B-1"), failures, 3)
    incident = await small.store.open_incident()
    assert incident is not None
    report = await collect_report(small.store, small.router.context.facility, incident, clock.now)
    [b1] = report.broadcasts
    assert (b1.delivered, b1.failed) == (0, 2)
    assert sorted(b1.failures) == [
        "matrix !old:hospital.org (M_FORBIDDEN: not in room)",
        "slack C0GONE (channel_not_found)",
    ]
