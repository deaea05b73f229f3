"""`log export`: the log as CSV / JSON Lines / Markdown files, read back and compared."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

from bot.domain.log_query import LogQuery
from bot.domain.models import LogEntry, LogKind
from bot.services.exports.csv_format import unguard
from tests.conftest import Bot, Clock

IT = frozenset({"it"})
CSV_COLUMNS = [
    "id", "time", "incident", "kind", "department", "actor_id", "actor_name", "transport",
    "text", "data",
]  # fmt: skip


async def seed(bot: Bot, clock: Clock) -> None:
    await bot.send('incident start "Teams outage" sev 2', user="ic1")
    clock.now += timedelta(minutes=5)
    await bot.send('status pharmacy down =HYPERLINK("http://x","y")', user="rx")
    clock.now += timedelta(minutes=5)
    await bot.send('status lab partial "phoning criticals, results\nfaxed"', user="lab")
    clock.now += timedelta(minutes=5)
    await bot.send("status radiology down -2 scanners; @here +1", user="rad")


async def log_entries(bot: Bot) -> list[LogEntry]:
    return [e async for page in bot.store.log.stream(LogQuery()) for e in page]


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a BOM"
    text = data.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    return list(csv.DictReader(io.StringIO(text, newline="")))


async def test_csv_has_the_exact_columns_and_reads_back_as_the_log(bot: Bot, clock: Clock) -> None:
    await seed(bot, clock)
    before = await log_entries(bot)

    reply = await bot.send("log export csv", user="it1")

    assert reply.attachment is not None and reply.attachment.path is not None
    name = reply.attachment.name
    assert name.startswith("lifeline-log-general-hospital-20261122-") and name.endswith(".csv")
    assert reply.lines == [
        "Exported 4 entries of the incident log as CSV.",
        f"File: {name}",
    ]
    assert reply.attachment.content_type == "text/csv; charset=utf-8"
    data = reply.attachment.read()
    header = data.decode("utf-8-sig").split("\r\n", 1)[0]
    assert header.split(",") == CSV_COLUMNS
    rows = read_csv(data)
    assert len(rows) == len(before) == 4
    for row, entry in zip(rows, before, strict=True):
        cells = {key: unguard(value) for key, value in row.items()}
        assert cells["id"] == entry.id
        assert datetime.fromisoformat(cells["time"]) == entry.at
        assert cells["time"].endswith("-05:00")  # New York in November, offset written out
        assert cells["incident"] == (entry.incident_id or "")
        assert cells["kind"] == entry.kind.value
        assert cells["department"] == (entry.department or "")
        assert (cells["actor_id"], cells["actor_name"], cells["transport"]) == (
            entry.actor.id, entry.actor.name, entry.actor.transport,
        )  # fmt: skip
        assert cells["text"] == entry.text
        assert json.loads(cells["data"]) == entry.data
    # The export itself is in the log, with who did it.
    last = (await log_entries(bot))[-1]
    assert (last.kind, last.actor.id, last.text) == (
        LogKind.EXPORT, "it1", "Exported 4 entries as CSV",
    )  # fmt: skip


async def test_formula_cells_are_made_inert_in_the_csv(bot: Bot, clock: Clock) -> None:
    await seed(bot, clock)
    reply = await bot.send("log export", user="it1")
    assert reply.attachment is not None
    texts = [row["text"] for row in read_csv(reply.attachment.read())]
    assert texts == [
        "Teams outage",
        '\'=HYPERLINK("http://x","y")',
        "phoning criticals, results ⏎ faxed",  # a note's line break is folded where it enters
        "'-2 scanners; @here +1",
    ]


async def test_jsonl_has_zone_time_and_utc_and_every_field(bot: Bot, clock: Clock) -> None:
    await seed(bot, clock)
    before = await log_entries(bot)
    reply = await bot.send("log export jsonl pharmacy", user="it1")
    assert reply.attachment is not None
    assert reply.lines[0] == (
        "Exported 1 entry of the incident log as JSON Lines, filtered by: pharmacy."
    )
    lines = reply.attachment.read().decode().splitlines()
    [pharmacy] = [e for e in before if e.department == "pharmacy"]
    assert [json.loads(line) for line in lines] == [
        {
            "id": pharmacy.id,
            "time": "2026-11-22T10:05:00-05:00",
            "time_utc": "2026-11-22T15:05:00Z",
            "incident": "INC-20261122-1",
            "kind": "checkin",
            "department": "pharmacy",
            "actor": {"id": "rx", "name": "rx", "transport": "console"},
            "text": '=HYPERLINK("http://x","y")',
            "data": {"state": "down", "period": 1},
        }
    ]


async def test_markdown_escapes_user_text_inside_its_cell(bot: Bot, clock: Clock) -> None:
    await seed(bot, clock)
    await bot.send("status icu down see [this](http://evil) | <b>x</b>", user="icu")
    reply = await bot.send("log export md icu", user="it1")
    assert reply.attachment is not None
    assert reply.attachment.read().decode() == (
        "# Incident log — General Hospital\n\n"
        "| Time | Incident | Kind | Department | Who | What |\n"
        "|---|---|---|---|---|---|\n"
        "| 2026-11-22T10:15:00-05:00 | INC-20261122-1 | checkin | icu | icu | "
        "DOWN — see \\[this\\]\\(http://evil\\) \\| \\<b\\>x\\</b\\> |\n"
    )


async def test_export_is_refused_to_staff_and_bad_input_gets_a_specific_answer(
    bot: Bot,
) -> None:
    usage = "Usage: log export [csv|jsonl|md] [department...] [kind...] [by @user] [since 2h]"
    denied = await bot.send("log export csv", user="nurse")
    assert (denied.outcome, denied.lines, denied.attachment) == ("denied", [
        "Only the admin, commander, it or incident commander can read the incident log. "
        "Ask the incident commander if this is needed."
    ], None)  # fmt: skip
    cases = {
        "log export csv limit 5": [
            "An export holds every entry that matches; leave out limit (filter by department, "
            "kind, person or since instead).",
            usage,
        ],
        "log export xlsx": [
            "“xlsx” is not an export format or a filter. Formats: csv (the default), jsonl, md.",
            usage,
        ],
        "log export csv since": ["“since” needs a value after it.", usage],
        "log export csv pharmcy": [
            "There is no department or kind “pharmcy”. Did you mean pharmacy? "
            "Kinds: checkin, incident, broadcast, ack, runbook, note, denied.",
            usage,
        ],
    }
    for text, lines in cases.items():
        reply = await bot.send(text, roles=IT)
        assert (reply.lines, reply.attachment) == (lines, None), text
    kinds = {e.kind for e in await log_entries(bot)}
    assert LogKind.EXPORT not in kinds  # nothing was exported, so nothing logged as one
