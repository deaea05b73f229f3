"""Exporting the log: entries streamed from the store page by page, written as they arrive, so
a log of any size is exported in bounded memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, Literal, Protocol
from zoneinfo import ZoneInfo

from bot.domain.log_query import LogQuery
from bot.services.exports.csv_format import CsvWriter
from bot.services.exports.jsonl import JsonLinesWriter
from bot.services.exports.markdown import MarkdownWriter
from bot.services.exports.rows import ExportRow, record_row

ExportFormat = Literal["csv", "jsonl", "md"]
FORMATS: tuple[ExportFormat, ...] = ("csv", "jsonl", "md")
CONTENT_TYPES: dict[ExportFormat, str] = {
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
}
# Entries per read. Small pages keep each XRANGE short, so a bot's check-ins on the same Redis
# never queue behind a large reply (bench/export.py: 1,000-entry pages cost check-ins 1.4× p50
# during an export, 200-entry pages none), and in the bot each page is ≈ 5 ms of rendering.
PAGE = 200
FORMAT_NAMES: dict[ExportFormat, str] = {"csv": "CSV", "jsonl": "JSON Lines", "md": "Markdown"}


class LogSource(Protocol):
    def stream_records(
        self, query: LogQuery, page: int = ...
    ) -> AsyncIterator[list[dict[str, Any]]]: ...


class _Writer(Protocol):
    def header(self) -> str: ...
    def rows(self, rows: list[ExportRow]) -> str: ...
    def footer(self) -> str: ...


@dataclass(frozen=True)
class ExportedLog:
    path: Path
    format: ExportFormat
    entries: int

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def _writer(fmt: ExportFormat, title: str) -> _Writer:
    if fmt == "csv":
        return CsvWriter()
    if fmt == "jsonl":
        return JsonLinesWriter()
    return MarkdownWriter(title)


async def write_log(
    source: LogSource, query: LogQuery, fmt: ExportFormat, tz: ZoneInfo, out: BinaryIO,
    *, title: str = "Incident log", page: int = PAGE,
) -> int:  # fmt: skip
    """Write every entry `query` matches, oldest first, to `out`; returns how many."""
    writer = _writer(fmt, title)
    # Disk writes go to a thread: a slow disk never holds up the bot's other commands.
    await asyncio.to_thread(out.write, writer.header().encode())
    count = 0
    async for records in source.stream_records(query, page):
        chunk = writer.rows([record_row(record, tz) for record in records]).encode()
        await asyncio.to_thread(out.write, chunk)
        count += len(records)
    await asyncio.to_thread(out.write, writer.footer().encode())
    return count


def export_name(facility_slug: str, fmt: ExportFormat, now: datetime, scope: str = "") -> str:
    stamp = now.strftime("%Y%m%d-%H%M%S")
    middle = f"-{scope}" if scope else ""
    return f"lifeline-log-{facility_slug}{middle}-{stamp}.{fmt}"


async def export_to_file(
    source: LogSource, query: LogQuery, fmt: ExportFormat, tz: ZoneInfo, path: Path,
    *, title: str = "Incident log", page: int = PAGE,
) -> ExportedLog:  # fmt: skip
    """Written to a temporary name and renamed, so a half-written export is never picked up."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    try:
        with _create(partial) as out:
            count = await write_log(source, query, fmt, tz, out, title=title, page=page)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return ExportedLog(path, fmt, count)


def _create(path: Path) -> BinaryIO:
    return open(path, "wb")  # the caller closes it
