"""`python -m bot export` and `python -m bot report`: the log and the after-action report for IT
at a terminal, against the embedded Redis (shared with a running bot) or an external one."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from bot.config.settings import Settings
from bot.domain.clock import utc_now
from bot.domain.facility import FacilityConfig
from bot.domain.log_query import LogQuery
from bot.domain.models import Actor, LogEntry, LogKind
from bot.domain.timefmt import parse_since
from bot.services.exports.log_file import FORMAT_NAMES, FORMATS, export_name, write_log
from bot.services.report.files import REPORT_FORMATS, render_report, report_name
from bot.storage.connection import connect_redis
from bot.storage.store import Store


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    export = sub.add_parser("export", help="write the incident log as CSV, JSON Lines or Markdown")
    export.add_argument("--incident", help="only this incident's entries (INC-…)")
    export.add_argument("--since", help="from: 2h (ago), 14:00, or 2026-11-22T08:00[-05:00]")
    export.add_argument("--until", help="to (not including), same forms as --since")
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("-o", "--output", help="file to write; - for stdout (default: a file "
                        "under LIFELINE_DATA_DIR/exports)")  # fmt: skip
    report = sub.add_parser("report", help="the after-action report draft of an incident")
    report.add_argument("incident", nargs="?", help="INC-… (default: the latest incident)")
    report.add_argument("--format", choices=REPORT_FORMATS, default="html")
    report.add_argument("-o", "--output", help="file to write; - for stdout (default: a file "
                        "under LIFELINE_DATA_DIR/exports)")  # fmt: skip


class CommandLineError(Exception):
    """A bad argument: said on stderr, exit status 2."""


def when(text: str | None, now: datetime, facility: FacilityConfig) -> datetime | None:
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            return parse_since(text, now, facility.tz)
        except ValueError as error:
            raise CommandLineError(f"{text!r}: {error}, or a date like 2026-11-22T08:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=facility.tz)


def _actor() -> Actor:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "cli"
    return Actor(id=f"cli:{name}", name=name, transport="console")


def _open_output(output: str | None, default: Path) -> tuple[BinaryIO, Path | None]:
    if output == "-":
        return sys.stdout.buffer, None
    path = Path(output) if output else default
    path.parent.mkdir(parents=True, exist_ok=True)
    return open(path, "wb"), path  # closed by the caller


def _yield_cpu() -> None:
    """An export or report is background work: on a small server it gives the CPU to the bot
    first (lower priority), so check-ins keep their latency while it runs."""
    with contextlib.suppress(OSError):
        os.nice(10)


async def run_export(args: argparse.Namespace, settings: Settings, facility: FacilityConfig) -> int:
    _yield_cpu()
    now = utc_now()
    query = LogQuery(
        incident_id=args.incident.upper() if args.incident else None,
        since=when(args.since, now, facility),
        until=when(args.until, now, facility),
    )
    connection = await connect_redis(settings)
    try:
        store = Store(connection.client, facility)
        if query.incident_id and await store.incident(query.incident_id) is None:
            raise CommandLineError(f"there is no incident {query.incident_id}")
        name = export_name(facility.slug, args.format, now.astimezone(facility.tz),
                           query.incident_id or "")  # fmt: skip
        out, path = _open_output(args.output, settings.data_dir / "exports" / name)
        try:
            count = await write_log(store.log, query, args.format, facility.tz, out,
                                    title=f"Incident log — {facility.facility}")  # fmt: skip
        finally:
            if path is not None:
                out.close()
            else:
                out.flush()
        described = " ".join(
            f"--{key} {value}" for key, value in (("incident", args.incident),
            ("since", args.since), ("until", args.until)) if value
        )  # fmt: skip
        await store.append(f"cli-{uuid.uuid4().hex}", LogEntry(
            at=now, incident_id=query.incident_id, kind=LogKind.EXPORT, actor=_actor(),
            text=f"Exported {count:,} entries as {FORMAT_NAMES[args.format]} (command line"
            + (f": {described})" if described else ")"),
            data={"format": args.format, "filters": described, "entries": count},
        ))  # fmt: skip
    finally:
        await connection.close()
    where = str(path) if path is not None else "stdout"
    print(f"lifeline: exported {count:,} log entries to {where}", file=sys.stderr)
    return 0


async def run_report(args: argparse.Namespace, settings: Settings, facility: FacilityConfig) -> int:
    _yield_cpu()
    now = utc_now()
    connection = await connect_redis(settings)
    try:
        store = Store(connection.client, facility)
        if args.incident:
            incident = await store.incident(args.incident.upper())
            if incident is None:
                raise CommandLineError(f"there is no incident {args.incident.upper()}")
        else:
            incident = await store.last_incident()
            if incident is None:
                raise CommandLineError("there is no incident yet to report on")
        entries, texts = await render_report(store, facility, incident, now, (args.format,))
        default = (
            settings.data_dir
            / "exports"
            / report_name(incident, args.format, now.astimezone(facility.tz))
        )
        out, path = _open_output(args.output, default)
        try:
            out.write(texts[args.format].encode())
        finally:
            if path is not None:
                out.close()
            else:
                out.flush()
        await store.append(f"cli-{uuid.uuid4().hex}", LogEntry(
            at=now, incident_id=incident.id, kind=LogKind.EXPORT, actor=_actor(),
            text=f"After-action report draft for {incident.id} (command line)",
            data={"report": incident.id, "format": args.format},
        ))  # fmt: skip
    finally:
        await connection.close()
    where = str(path) if path is not None else "stdout"
    print(f"lifeline: report on {incident.id} ({entries:,} log entries) written to {where}",
          file=sys.stderr)  # fmt: skip
    return 0
