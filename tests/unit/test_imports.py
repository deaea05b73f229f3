"""Every module of bot/ and handlers/ imports on its own, so an import cycle can never hide behind
the order in which the app happens to import things."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# A parent that has imported the third-party libraries (not one project module) forks a child per
# module; each child imports just that module, as a fresh interpreter would, only faster.
_PROBE = r"""
import importlib, os, sys, traceback
import aiohttp, nio, prometheus_client, pydantic, pydantic_settings, redis.asyncio, structlog, yaml
import slack_bolt.adapter.aiohttp, slack_bolt.adapter.socket_mode.aiohttp, slack_bolt.app.async_app
import slack_sdk.models.blocks, slack_sdk.web.async_client
assert not [m for m in sys.modules if m.split(".")[0] in ("bot", "handlers")]
running, failed = {}, []


def reap():
    pid, status = os.wait()
    if status != 0:
        failed.append(running[pid])
    del running[pid]


for name in sys.argv[1:]:
    if len(running) >= 2:
        reap()
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    running[pid] = name
while running:
    reap()
print("FAILED " + " ".join(sorted(failed)) if failed else "OK")
"""


def project_modules() -> list[str]:
    names = []
    for package in ("bot", "handlers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_alone() -> None:
    modules = project_modules()
    assert "bot.services.rollcall" in modules and "handlers.status" in modules
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stdout.strip() == "OK", result.stdout + result.stderr
