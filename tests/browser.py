"""A real browser for the tests: Debian's headless Chromium (and its driver), installed by the
test set-up when it is missing, started with flags that keep it off the network."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# No background traffic: this machine has no network but the package registries, and Chromium
# otherwise retries its update, sync and safe-browsing hosts for ever.
HEADLESS_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def ensure_chromium() -> Path:
    """The Chromium binary, installing Debian's `chromium` and `chromium-driver` if needed."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return CHROMIUM
    if os.geteuid() != 0:
        raise RuntimeError(
            "Chromium is missing and the tests are not root: apt-get install chromium chromium-driver"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "chromium", "chromium-driver"],
        check=True,
        env=env,
        timeout=900,
    )
    return CHROMIUM


def print_to_pdf(html: Path, pdf: Path, *, timeout: float = 60) -> None:
    """Render a local HTML file to PDF as a person printing it would (Chromium's print path)."""
    profile = tempfile.mkdtemp(prefix="ll-chromium-")
    try:
        subprocess.run(
            [
                str(ensure_chromium()),
                *HEADLESS_FLAGS,
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={pdf}",
                html.resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=timeout,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)
