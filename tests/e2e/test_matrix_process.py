"""`python -m bot` with only Matrix configured, as an operator runs it: serves, answers, stops."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import time
from pathlib import Path

import aiohttp

from tests.e2e.console_process import REPO, console_env
from tests.e2e.matrix_fixtures import MatrixWorld
from tests.ports import free_port


async def _ready(url: str, timeout: float = 20.0) -> dict[str, bool]:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as response:
                    checks: dict[str, bool] = json.loads(await response.text())
                    if response.status == 200:
                        return checks
            except aiohttp.ClientConnectionError:
                checks = {}
            if time.monotonic() > deadline:
                raise AssertionError(f"not ready after {timeout}s: {checks}")
            await asyncio.sleep(0.1)


async def test_python_m_bot_serves_matrix_from_the_environment_and_stops_on_sigterm(
    matrix: MatrixWorld, tmp_path: Path
) -> None:
    port = free_port()
    env = console_env(
        matrix.data_dir,
        MATRIX_HOMESERVER=matrix.synapse.url,
        MATRIX_USER_ID=matrix.bot.user_id,
        MATRIX_PASSWORD=matrix.bot.password,
        MATRIX_ALLOWED_USERS=matrix.allowed,
        REDIS_URL=matrix.redis_url,
        HOST="127.0.0.1",
        PORT=str(port),
        LOG_FORMAT="json",
    )
    output = tmp_path / "bot.log"
    with output.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=REPO, env=env, stdout=sink, stderr=sink
        )
    try:
        checks = await _ready(f"http://127.0.0.1:{port}/readyz")
        room = await matrix.room_with_bot()
        command = await matrix.alice.send(room, "!status radiology partial PACS read-only")
        reply = await matrix.alice.reply_to(room, command)
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 20)

    assert checks == {"redis": True, "matrix": True}
    assert reply["content"]["body"].startswith("Recorded: Radiology is PARTIAL")
    assert code == 0
    log = output.read_text()
    assert '"event": "matrix.connected"' in log
    saved = json.loads((matrix.data_dir / "matrix" / "login.json").read_text())
    assert matrix.bot.password not in log
    assert saved["access_token"] not in log
