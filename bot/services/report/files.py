"""Writing the report: collected once, rendered as Markdown and/or HTML, saved under a name
that says which incident and when."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from bot.domain.facility import FacilityConfig
from bot.domain.models import Incident
from bot.domain.reply import Attachment
from bot.services.report.collect import collect_report
from bot.services.report.document import build_document
from bot.services.report.html import render_html
from bot.services.report.markdown import render_markdown
from bot.services.report.model import Report
from bot.storage.store import Store

ReportFormat = Literal["md", "html"]
REPORT_FORMATS: tuple[ReportFormat, ...] = ("md", "html")
REPORT_CONTENT_TYPES: dict[ReportFormat, str] = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
}


@dataclass(frozen=True)
class ReportFile:
    path: Path
    format: ReportFormat
    entries: int

    @property
    def content_type(self) -> str:
        return REPORT_CONTENT_TYPES[self.format]

    def attachment(self, incident_id: str) -> Attachment:
        """The file as a Reply carries it to a channel (Slack upload, Matrix m.file, console)."""
        return Attachment(
            name=self.path.name,
            content_type=self.content_type,
            path=self.path,
            title=f"After-action report — {incident_id} ({self.format.upper()})",
        )


async def render_report(
    store: Store, facility: FacilityConfig, incident: Incident, now: datetime,
    formats: tuple[ReportFormat, ...],
) -> tuple[int, dict[ReportFormat, str]]:  # fmt: skip
    """The report's text in each format asked for, and how many log entries it was built from."""
    report = await collect_report(store, facility, incident, now)
    # Rendering a large incident takes a second or more: in a thread, the bot's event loop
    # still gets its turns (the interpreter switches threads every few milliseconds).
    texts = await asyncio.to_thread(_render, report, facility, formats)
    return report.entries, texts


def _render(
    report: Report, facility: FacilityConfig, formats: tuple[ReportFormat, ...]
) -> dict[ReportFormat, str]:
    document = build_document(report, facility)
    renderers = {"md": render_markdown, "html": render_html}
    return {fmt: renderers[fmt](document) for fmt in formats}


def report_name(incident: Incident, fmt: ReportFormat, now: datetime) -> str:
    return f"after-action-{incident.id}-{now.strftime('%Y%m%d-%H%M%S')}.{fmt}"


async def write_report(
    store: Store, facility: FacilityConfig, incident: Incident, now: datetime, directory: Path,
    formats: tuple[ReportFormat, ...] = REPORT_FORMATS,
) -> list[ReportFile]:  # fmt: skip
    entries, texts = await render_report(store, facility, incident, now, formats)
    local = now.astimezone(facility.tz)
    files = []
    for fmt, text in texts.items():
        path = directory / report_name(incident, fmt, local)
        await asyncio.to_thread(_save, path, text)
        files.append(ReportFile(path, fmt, entries))
    return files


def _save(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
