"""The report as a neutral document — sections of fields, tables and paragraphs — that the
Markdown and HTML writers both render, so the two always say the same thing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain.broadcast import PRIORITY_LABELS
from bot.domain.facility import FacilityConfig
from bot.domain.models import LogKind, State
from bot.services.report.model import BroadcastRecord, PersonLog, Report, RunbookRecord
from bot.services.report.wording import STATE_WORDS, activity_text, duration

EMPTY_ROWS = 3  # blank rows in the review tables, for the meeting to fill in
STATE_COLUMNS = (State.UP, State.PARTIAL, State.DOWN, State.NA)


@dataclass
class Table:
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class Block:
    """A titled part: label/value fields, paragraphs, tables, and parts inside it."""

    title: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    parts: list[Block] = field(default_factory=list)
    page_break: bool = False  # starts on a new printed page


@dataclass
class Document:
    title: str
    subtitle: str
    sections: list[Block]


class _Writer:
    def __init__(self, report: Report, facility: FacilityConfig) -> None:
        self.report = report
        self.facility = facility
        self.tz = facility.tz

    def when(self, at: datetime | None) -> str:
        if at is None:
            return "—"
        t = at.astimezone(self.tz)  # by hand: strftime is most of a 100,000-row report's time
        return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"

    def document(self) -> Document:
        report, incident = self.report, self.report.incident
        drill = " [DRILL]" if incident.drill else ""
        return Document(
            title=f"After-action report (draft) — {incident.id}{drill} {incident.title}",
            subtitle=f"{report.facility} · generated {self.when(report.generated_at)} "
            f"({self.tz.key}) from {report.entries:,} log entries",
            sections=[
                self.overview(), self.timeline(), self.departments(), self.broadcasts(),
                self.runbooks(), self.rollcalls(), self.refusals(), *self.review(),
                self.hics_214(), self.hics_251(), self.hics_213(),
            ],
        )  # fmt: skip

    def overview(self) -> Block:
        report, incident = self.report, self.report.incident
        handoffs = Table(["Time", "From", "To", "By"])
        handoffs.rows = [[self.when(h.at), h.previous, h.new, h.by.name] for h in report.handoffs]
        periods = Table(["Period", "Started", "Ended", "Planned length"])
        periods.rows = [
            [str(p.number), self.when(p.started_at), self.when(p.ended_at), f"{p.hours:g} h"]
            for p in report.periods
        ]
        commanders = "; ".join(f"{name} (from {self.when(at)})" for at, name in report.commanders)
        block = Block("1. Overview", page_break=False)
        block.fields = [
            ("Incident", incident.id), ("Title", incident.title),
            ("Severity", str(incident.severity)), ("Drill", "yes" if incident.drill else "no"),
            ("Opened", self.when(incident.opened_at)),
            ("Closed", self.when(incident.closed_at) if incident.closed_at else "still open"),
            ("Duration", duration(report.duration)), ("Commanders", commanders),
            ("Summary", incident.summary or "—"),
        ]  # fmt: skip
        block.parts = [
            Block("Command handoffs", tables=[handoffs], paragraphs=[] if handoffs.rows else [
                "Command was not handed over."]),
            Block("Operational periods", tables=[periods]),
        ]  # fmt: skip
        return block

    def timeline(self) -> Block:
        table = Table(["Time", "Event", "Who"])
        for entry in self.report.timeline:
            event = activity_text(entry, self.facility)
            if entry.kind is LogKind.CHECKIN:
                event = event.replace(" checked in ", " now ", 1)
            table.rows.append([self.when(entry.at), event, entry.actor.name])
        notes = []
        if self.report.timeline_more:
            notes.append(f"{self.report.timeline_more:,} later key events are in log export.")
        return Block("2. Timeline of key events", tables=[table], paragraphs=notes, page_break=True)

    def departments(self) -> Block:
        columns = ["Department", "First report", "Reports"]
        columns += [f"Time {STATE_WORDS[s]}" for s in STATE_COLUMNS]
        table = Table([*columns, "Last state", "Last note", "By"])
        for dept in self.report.departments:
            spent = [duration(dept.time_in[s]) if s in dept.time_in else "—" for s in STATE_COLUMNS]
            table.rows.append([
                dept.name, self.when(dept.first_report), str(dept.reports), *spent,
                f"{STATE_WORDS[dept.state]} ({dept.state.label})", dept.note or "—",
                dept.reported_by,
            ])  # fmt: skip
        never = self.report.never_reported
        lines = [f"Never reported: {', '.join(never)}." if never else "Every department reported."]
        return Block("3. Departments", tables=[table], paragraphs=lines, page_break=True)

    def broadcasts(self) -> Block:
        table = Table([
            "Id", "Sent", "Priority", "Copies delivered", "Failed", "Acknowledged", "Ack rate",
            "Median to ack", "Slowest ack", "Never acknowledged",
        ])  # fmt: skip
        for b in self.report.broadcasts:
            delays = b.delays()
            rate = f"{b.ack_rate:.0%}" if b.ack_rate is not None else "—"
            table.rows.append([
                b.id, self.when(b.at), PRIORITY_LABELS.get(b.priority, b.priority),
                str(b.delivered), str(b.failed), f"{len(b.acks)} of {b.expected}", rate,
                duration(_median(delays)) if delays else "—",
                duration(delays[-1]) if delays else "—", ", ".join(b.never_acked) or "—",
            ])  # fmt: skip
        if not self.report.broadcasts:
            return Block("4. Broadcasts", paragraphs=["No broadcasts were sent."], page_break=True)
        lines = [
            f"{b.id} not delivered to {'; '.join(b.failures)}."
            for b in self.report.broadcasts
            if b.failures
        ]
        lines.append(
            "Ack rate: acknowledgements out of everyone active in this incident's log other "
            "than the sender."
        )
        return Block("4. Broadcasts", tables=[table], paragraphs=lines, page_break=True)

    def runbooks(self) -> Block:
        block = Block("5. Runbooks", page_break=True)
        if not self.report.runbooks:
            block.paragraphs.append("No runbooks were run.")
        for run in self.report.runbooks:
            block.parts.append(self._runbook(run))
        return block

    def _runbook(self, run: RunbookRecord) -> Block:
        table = Table(["Step", "Title", "Done by", "When", "Note"])
        for number in sorted(run.steps):
            step = run.steps[number]
            undone = f" (undone {step.undone}×)" if step.undone else ""
            table.rows.append([
                str(number), step.title, step.done_by or "not done" + undone,
                self.when(step.done_at), step.note or "—",
            ])  # fmt: skip
        completed = run.completed_at
        took = "not completed"
        if completed:
            took = f"completed {self.when(completed)}, after {duration(completed - run.started_at)}"
        return Block(
            f"{run.title} ({run.id})",
            fields=[
                ("Started", f"{self.when(run.started_at)} by {run.started_by}"),
                ("Steps done", f"{run.done} of {run.step_count}; {took}"),
            ],
            tables=[table] if table.rows else [],
            paragraphs=[] if table.rows else ["No step was marked."],
        )

    def rollcalls(self) -> Block:
        table = Table(["Asked", "By", "Period", "Departments asked", "Completed", "Took"])
        for rc in self.report.rollcalls:
            done = rc.completed_at
            table.rows.append([
                self.when(rc.at), rc.by, str(rc.period), str(len(rc.asked)),
                self.when(done) if done else "not completed (still missing: "
                + ", ".join(sorted(rc.outstanding)) + ")",
                duration(done - rc.at) if done else "—",
            ])  # fmt: skip
        lines = [] if table.rows else ["No roll calls were run."]
        return Block("6. Roll calls", tables=[table] if table.rows else [], paragraphs=lines,
                     page_break=True)  # fmt: skip

    def refusals(self) -> Block:
        table = Table(["Time", "Who", "Command", "Why refused"])
        table.rows = [[self.when(r.at), r.who, r.command, r.reason] for r in self.report.refusals]
        lines = [] if table.rows else ["No command was refused."]
        return Block("7. Refused commands", tables=[table] if table.rows else [], paragraphs=lines)

    def review(self) -> list[Block]:
        def blank(*columns: str) -> Table:
            return Table(list(columns), [[""] * len(columns) for _ in range(EMPTY_ROWS)])

        return [
            Block("8. Strengths", tables=[blank("Strength", "Evidence")], page_break=True),
            Block("9. Areas for improvement", tables=[blank("Area for improvement", "Analysis")]),
            Block("10. Improvement plan", tables=[blank("Corrective action", "Owner", "Due date")]),
        ]

    def hics_214(self) -> Block:
        block = Block("Appendix A — HICS 214 Activity Log, per person", page_break=True)
        block.parts = [self._activity_log(person) for person in self.report.people]
        if not block.parts:
            block.paragraphs.append("Nobody acted in this incident.")
        return block

    def _activity_log(self, person: PersonLog) -> Block:
        incident = self.report.incident
        table = Table(["Date/time", "Notable activity"])
        table.rows = [[self.when(a.at), a.text] for a in person.activities]
        lines = [f"…and {person.more:,} more in log export."] if person.more else []
        lines.append("Prepared by: Lifeline (generated draft). Signature: ____________")
        position = ", ".join(sorted(person.positions)) or "Staff"
        first = person.activities[0].at if person.activities else incident.opened_at
        last = person.activities[-1].at if person.activities else self.report.ended_at
        return Block(
            f"HICS 214 — {person.actor.name}",
            fields=[
                ("Incident name", f"{incident.id} {incident.title}"),
                ("Operational period", f"{self.when(first)} to {self.when(last)}"),
                ("Name", f"{person.actor.name} ({person.actor.transport} {person.actor.id})"),
                ("Position", position),
            ],
            tables=[table],
            paragraphs=lines,
            page_break=True,
        )

    def hics_251(self) -> Block:
        block = Block("Appendix B — HICS 251 Facility System Status, end of each period",
                      page_break=True)  # fmt: skip
        for snapshot in self.report.snapshots:
            period = snapshot.period
            ended = self.when(period.ended_at) if period.ended_at else "still open"
            table = Table(["System / department", "Status", "Comments"])
            table.rows = [[r.department, r.state.label, r.comment or "—"] for r in snapshot.rows]
            block.parts.append(Block(
                f"HICS 251 — operational period {period.number}",
                fields=[("Operational period", f"{self.when(period.started_at)} to {ended}")],
                tables=[table], page_break=True,
            ))  # fmt: skip
        return block

    def hics_213(self) -> Block:
        block = Block("Appendix C — HICS 213 General Message, per broadcast", page_break=True)
        block.parts = [self._general_message(b) for b in self.report.broadcasts]
        if not block.parts:
            block.paragraphs.append("No broadcasts were sent.")
        return block

    def _general_message(self, b: BroadcastRecord) -> Block:
        role = b.message.sender_role if b.message else "Command staff"
        local = b.at.astimezone(self.tz)
        acked = ", ".join(sorted(name for name, _ in b.acks.values())) or "nobody"
        return Block(
            f"HICS 213 — {b.id}",
            fields=[
                ("To", "All broadcast channels and the incident channel, every transport"),
                ("From", f"{b.sender.name}, {role}"),
                ("Subject", f"Broadcast {b.id}"),
                ("Date", local.strftime("%Y-%m-%d")),
                ("Time", local.strftime("%H:%M")),
                ("Priority", PRIORITY_LABELS.get(b.priority, b.priority)),
                ("Message", b.text),
                ("Approved by", f"{b.sender.name} (sender)"),
                ("Reply / action taken", f"Acknowledged by {len(b.acks)}: {acked}"),
            ],
            page_break=True,
        )


def _median(ordered: list[timedelta]) -> timedelta:
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def build_document(report: Report, facility: FacilityConfig) -> Document:
    return _Writer(report, facility).document()
