"""The web board end to end: `python -m bot serve` and console processes on one test Redis,
and a headless Chromium (selenium) looking at the page."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.browser import CHROMEDRIVER, HEADLESS_FLAGS, ensure_chromium
from tests.e2e.console_process import REPO, console_env, run_console, stop_leftovers

LINK = re.compile(r"http://\S+/board\?t=\S+")
# Fifty units of a mid-size hospital: the wall must show them all at once.
FIFTY = (
    "Pharmacy", "Laboratory", "Radiology", "Emergency Department", "Intensive Care",
    "Surgery / OR", "Nursing", "Blood Bank", "Registration", "Dietary", "IT", "Cardiology",
    "Cath Lab", "Oncology", "Infusion Center", "Dialysis", "Labor & Delivery", "NICU",
    "Pediatrics", "PICU", "Burn Unit", "Trauma Bay", "Respiratory Therapy", "Physical Therapy",
    "Endoscopy", "Interventional Radiology", "Nuclear Medicine", "MRI", "CT", "Ultrasound",
    "Pathology", "Microbiology", "Sterile Processing", "Central Supply", "Environmental Services",
    "Security", "Patient Transport", "Admitting", "Case Management", "Social Work",
    "Behavioral Health", "Psychiatric ED", "Urgent Care", "Ambulatory Surgery", "Wound Care",
    "Ward 3 North", "Ward 3 South", "Ward 4 North", "Ward 4 South", "Telemetry",
)  # fmt: skip


def dept_id(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40]


def write_facility(path: Path, names: tuple[str, ...] = FIFTY) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "facility": "General Hospital",
                "timezone": "America/New_York",
                "departments": [{"id": dept_id(n), "name": n} for n in names],
            }
        )
    )
    return path


class BoardBot:
    """A serving bot (restartable on its port) and consoles that share its Redis."""

    def __init__(self, tmp: Path, redis_url: str, port: int, facility_file: Path) -> None:
        self.tmp = tmp
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.env = {
            "REDIS_URL": redis_url, "LIFELINE_CONFIG": str(facility_file),
            "LIFELINE_PUBLIC_URL": self.base, "HOST": "127.0.0.1", "PORT": str(port),
            "LOG_FORMAT": "json",
        }  # fmt: skip
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = console_env(self.tmp / "serve", **self.env)
        with (self.tmp / "serve.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve"], cwd=REPO, env=env, stdout=log, stderr=log
            )
        wait(lambda: _healthy(self.base), 20, "the bot to serve")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(20)
            self.process = None

    def console(self, script: str, *, user: str = "dr.lee", role: str = "commander") -> str:
        roles = ("--role", role) if role else ()
        done = run_console(
            self.tmp / "console", script + "\n", "--as", user, *roles, timeout=60, **self.env
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def link(self) -> str:
        found = LINK.search(self.console("board link"))
        assert found, "board link gave no URL"
        return found[0]

    def close(self) -> None:
        self.stop()
        stop_leftovers(self.tmp / "serve")
        stop_leftovers(self.tmp / "console")


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def wait(condition: Callable[[], Any], timeout: float, what: str) -> float:
    """Poll until `condition()` is truthy; returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"waited {timeout}s for {what}")
        time.sleep(0.05)
    return time.monotonic() - started


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(ensure_chromium())
    for flag in HEADLESS_FLAGS:
        options.add_argument(flag)
    options.add_argument("--window-size=1920,1080")
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def viewport(driver: webdriver.Chrome, width: int, height: int, *, mobile: bool = False) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


def card_text(driver: webdriver.Chrome, dept: str) -> str:
    found = driver.execute_script(
        "const e = document.querySelector(`li.dept[data-dept='${arguments[0]}']`);"
        "return e ? e.innerText : '';",
        dept,
    )
    return str(found)


def live_state(driver: webdriver.Chrome) -> tuple[str, str]:
    found = driver.execute_script(
        "return [document.body.dataset.live, document.getElementById('connection').textContent];"
    )
    return str(found[0]), str(found[1])
