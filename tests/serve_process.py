"""`python -m bot serve` as real processes (Slack in HTTP mode, its Web API the stub in the test
process, one shared redis-server), signed slash commands into them, and SIGKILL."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import yaml

from tests.e2e.console_process import REPO, console_env
from tests.ports import free_port
from tests.slack_api_stub import SlackApiStub
from tests.slack_harness import BOT_TOKEN, SIGNING_SECRET, signed_headers

_ids = itertools.count(1)


def write_facility(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@dataclass
class BotProcess:
    """One replica. `start()` waits for /readyz; `kill()` is SIGKILL, no goodbye."""

    stub: SlackApiStub
    redis_url: str
    config: Path
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, http: aiohttp.ClientSession, timeout: float = 30.0) -> None:
        self.port = free_port()
        env = console_env(
            self.data_dir,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.stub.url,
            REDIS_URL=self.redis_url,
            LIFELINE_CONFIG=str(self.config),
            HOST="127.0.0.1",
            PORT=str(self.port),
            LOG_FORMAT="json",
            **self.env,
        )
        log = (self.data_dir / f"bot-{self.port}.log").open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", cwd=REPO, env=env, stdout=log, stderr=log
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(self.url + "/readyz") as response:
                    if response.status == 200:
                        return
            if self.process.returncode is not None or time.monotonic() > deadline:
                raise AssertionError(f"bot not ready: {self.log_text()[-2000:]}")
            await asyncio.sleep(0.1)

    def log_text(self) -> str:
        return "".join(p.read_text() for p in sorted(self.data_dir.glob("bot-*.log")))

    async def slash(
        self, http: aiohttp.ClientSession, command: str, text: str, *, user: str, channel: str
    ) -> dict[str, Any]:
        number = next(_ids)
        body = urlencode(
            {
                "token": "legacy", "team_id": "T1", "team_domain": "t", "channel_id": channel,
                "channel_name": "incident", "user_id": user, "user_name": user.lower(),
                "command": command, "text": text, "api_app_id": "A1",
                "response_url": self.stub.hook_url(f"p{number}"),
                "trigger_id": f"p{number}.1.trigger",
            }
        )  # fmt: skip
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
        async with http.post(self.url + "/slack/events", data=body, headers=headers) as response:
            assert response.status == 200, await response.text()
            answer = await response.text()
        return json.loads(answer) if answer else {}

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def wait_dead(self) -> None:
        assert self.process is not None
        await asyncio.wait_for(self.process.wait(), 10)
