"""The command-center web board in a real browser: every department on a wall display, live
updates from a console bot on the same Redis, reconnecting across a restart, one printed page,
and refusal of expired, revoked and forged links."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis as redis_sync
from pypdf import PdfReader

from bot.domain.board_token import BoardToken, sign
from bot.storage.embedded_redis import EmbeddedRedis
from bot.storage.keys import Keys
from tests.e2e.board_harness import (
    FIFTY,
    BoardBot,
    card_text,
    chromium,
    dept_id,
    live_state,
    viewport,
    wait,
    write_facility,
)
from tests.ports import free_port

pytestmark = pytest.mark.slow
ASK = "Ask an incident commander, IT or an admin for a new one (they type board link in Lifeline)."
# LIFELINE_SCREENSHOTS=docs writes the README's screenshots from this run.
SHOTS = os.environ.get("LIFELINE_SCREENSHOTS")


@pytest.fixture
def board_bot(redis_server: EmbeddedRedis, tmp_path: Path) -> Iterator[BoardBot]:
    redis_sync.Redis.from_url(redis_server.url).flushall()
    bot = BoardBot(tmp_path, redis_server.url, free_port(), write_facility(tmp_path / "f.yaml"))
    bot.start()
    yield bot
    bot.close()


def test_the_wall_shows_every_department_and_console_check_ins_live(board_bot: BoardBot) -> None:
    board_bot.console(
        'incident start "Teams outage" sev 2\n'
        "status pharmacy down cabinets on override\n"
        'status "emergency department" partial on diversion for stroke\n'
        "status it up 212 of 1,400 PCs fixed\n"
        'status "blood bank" partial handwritten labels, two-person bedside check\n'
        'status "intensive care" partial charting on paper, vitals not flowing\n'
        "status registration partial downtime numbers 9000-9400 in use\n"
        "status dietary up\n"
        "runbook teams-outage\n"
        "broadcast normal Use Lifeline for status; do not power on Windows PCs"
    )
    link = board_bot.link()
    with chromium() as driver:
        viewport(driver, 1920, 1080)
        driver.get(link)
        wait(lambda: live_state(driver)[0] == "live", 15, "the first snapshot")
        text = driver.find_element("id", "departments").text
        assert all(name in text for name in FIFTY)
        assert "X DOWN" in card_text(driver, "pharmacy") and "cabinets on override" in card_text(
            driver, "pharmacy"
        )
        assert "? NO REPORT" in card_text(driver, "laboratory")
        assert "No report this period" in card_text(driver, "laboratory")
        fits = driver.execute_script(
            "const cards = [...document.querySelectorAll('li.dept')];"
            "return [document.documentElement.scrollHeight, window.innerHeight,"
            " Math.max(...cards.map(c => c.getBoundingClientRect().bottom)), cards.length];"
        )
        assert fits[0] <= fits[1] and fits[2] <= fits[1] and fits[3] == 50, fits
        assert "Teams outage" in driver.find_element("id", "incident").text
        assert "B-1" in driver.find_element("id", "broadcasts").text
        assert "0/" in driver.find_element("id", "runbooks").text
        assert "7 of 50 departments reported (14%)" in driver.find_element("id", "rollcall").text
        driver.execute_script("window.sameDocument = true;")

        board_bot.console("status laboratory partial critical values phoned")
        seconds = wait(lambda: "~ PARTIAL" in card_text(driver, "laboratory"), 2.0, "the check-in")
        assert seconds < 2.0 and driver.execute_script("return window.sameDocument === true;")
        assert "critical values phoned" in driver.find_element("id", "log").text
        if SHOTS:
            driver.save_screenshot(str(Path(SHOTS) / "web-board-wall.png"))

        board_bot.stop()
        wait(lambda: live_state(driver)[1].startswith("reconnecting…"), 10, "reconnecting…")
        assert live_state(driver)[0] == "stale"
        assert "not live" in live_state(driver)[1]
        board_bot.console("status radiology down PACS offline")
        assert "DOWN" not in card_text(driver, "radiology")
        board_bot.start()
        wait(lambda: "X DOWN" in card_text(driver, "radiology"), 15, "the update after restart")
        assert live_state(driver) == ("live", "live")

        printed_pdf = base64.b64decode(driver.print_page())
        if SHOTS:
            (Path(SHOTS) / "web-board-print.pdf").write_bytes(printed_pdf)
        pdf = PdfReader(io.BytesIO(printed_pdf))
        printed = pdf.pages[0].extract_text()
        assert len(pdf.pages) == 1
        assert "HICS 251 — Facility System Status Report" in printed
        assert all(name in printed for name in ("Pharmacy", "Telemetry", "Radiology"))
        assert "X Non-functional" in printed and "? No report" in printed

        viewport(driver, 390, 844, mobile=True)
        columns = driver.execute_script(
            "return [new Set([...document.querySelectorAll('li.dept')]"
            ".map(c => Math.round(c.getBoundingClientRect().left))).size,"
            " document.documentElement.scrollWidth];"
        )
        assert columns == [1, 390]
        if SHOTS:
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
            )
            driver.save_screenshot(str(Path(SHOTS) / "web-board-phone.png"))


def _refusal(driver: object, url: str) -> str:
    driver.get(url)  # type: ignore[attr-defined]
    return str(driver.find_element("id", "refusal").text)  # type: ignore[attr-defined]


def test_expired_revoked_and_forged_links_are_refused(
    board_bot: BoardBot, redis_server: EmbeddedRedis
) -> None:
    link = board_bot.link()
    base, token = link.split("?t=")
    generation, expires, signature = token.split(".")
    forged = signature[:-1] + ("A" if signature[-1] != "A" else "B")
    secret = redis_sync.Redis.from_url(redis_server.url).get(
        Keys("general-hospital").board_link_secret
    )
    assert secret
    past = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    expired = sign(secret, "general-hospital", BoardToken(int(generation), past))
    past_local = past.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")
    with chromium() as driver:
        assert _refusal(driver, f"{base}?t={generation}.{expires}.{forged}") == (
            "This board link is not valid: it may be mistyped or altered. " + ASK
        )
        assert _refusal(driver, f"{base}?t={generation}.{int(expires) + 3600}.{signature}") == (
            "This board link is not valid: it may be mistyped or altered. " + ASK
        )
        assert (
            _refusal(driver, f"{base}?t={expired}")
            == f"This board link expired at {past_local}. " + ASK
        )
        assert _refusal(driver, base) == "This page needs a board link. " + ASK

        driver.get(link)
        wait(lambda: live_state(driver)[0] == "live", 15, "the first snapshot")
        board_bot.console("board revoke", role="it")
        wait(lambda: live_state(driver)[0] == "refused", 5, "the open page to be refused")
        assert driver.find_element("id", "headline").text == "This board link was revoked. " + ASK
        assert driver.find_elements("css selector", "li.dept") == []
        assert _refusal(driver, link) == "This board link was revoked. " + ASK
        fresh = board_bot.link()
        driver.get(fresh)
        wait(lambda: live_state(driver)[0] == "live", 15, "a new link to work")
        assert "Pharmacy" in card_text(driver, dept_id("Pharmacy"))
