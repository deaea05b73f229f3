"""The HTML report printed by a real browser (headless Chromium's print-to-PDF) on A4 and on
US Letter: one page per section as designed, and every section where it belongs."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfReader

from bot.app import Lifeline
from tests.browser import ensure_chromium, print_to_pdf
from tests.conftest import Bot, Clock
from tests.integration.test_incident_report import script, small

__all__ = ["small"]

PAGES = [
    "1. Overview",
    "2. Timeline of key events",
    "3. Departments",
    "4. Broadcasts",
    "5. Runbooks",
    "6. Roll calls",  # with 7. Refused commands below it
    "8. Strengths",  # with 9 and 10
    *[f"HICS 214 — {name}" for name in ("dr.lee", "ic1", "lab", "nurse", "rad", "rx")],
    "HICS 251 — operational period 1",
    "HICS 251 — operational period 2",
    "HICS 213 — B-1",
]


@pytest.fixture(scope="module", autouse=True)
def chromium() -> None:
    ensure_chromium()  # installs Debian's chromium when it is missing


@pytest.mark.parametrize("paper", ["Letter", "A4"])
async def test_the_html_report_prints_one_section_per_page(
    small: Lifeline, clock: Clock, tmp_path: Path, paper: str
) -> None:
    bot = Bot(small)
    await script(bot, clock)
    reply = await bot.send("incident report", user="it1")
    html = reply.attachments[1]
    assert html.name.endswith(".html") and html.path is not None
    printed = tmp_path / "report.html"
    # The printer's paper decides the page size; the test names it, as a print dialog would.
    printed.write_text(
        html.read().decode().replace("@page {", f"@page {{ size: {paper};", 1), encoding="utf-8"
    )
    pdf = tmp_path / "report.pdf"
    print_to_pdf(printed, pdf)

    pages = [page.extract_text() for page in PdfReader(pdf).pages]
    assert len(pages) == len(PAGES), [page[:60] for page in pages]
    for number, (text, heading) in enumerate(zip(pages, PAGES, strict=True), start=1):
        assert heading in text, (number, heading, text[:200])
    assert "7. Refused commands" in pages[5] and "nurse" in pages[5]
    assert "10. Improvement plan" in pages[6]
    title = "After-action report (draft) — INC-20261122-1 [DRILL] Teams outage"
    assert title in " ".join(pages[0].split())  # the title wraps at the page width
