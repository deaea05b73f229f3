"""`python -m bot serve` as a real process on Slack's HTTP mode (Web API stood in), driven with
signed slash commands; and the incident log read back from its Redis."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from redis.asyncio import Redis

from bot.domain.facility import FacilityConfig
from bot.storage.keys import Keys
from tests.e2e.console_process import REPO, console_env, stop_leftovers
from tests.ports import free_port
from tests.slack_api_stub import SlackApiStub
from tests.slack_harness import BOT_TOKEN, SIGNING_SECRET, signed_headers
from tests.waiting import until

RECORDED = "Recorded: "
SAVED = "Saved on this server (ref S-"
REFUSED = "nothing was recorded"


@dataclass
class ServeProcess:
    data_dir: Path
    stub: SlackApiStub
    http: aiohttp.ClientSession
    redis_url: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    _numbers: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        env = console_env(
            self.data_dir,
            SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.stub.url, HOST="127.0.0.1", PORT=str(self.port),
            LOG_FORMAT="json", LOG_LEVEL="warning",
            **({"REDIS_URL": self.redis_url} if self.redis_url else {}),
        )  # fmt: skip
        log = open(self.data_dir / f"bot-{self.port}.log", "ab")  # noqa: ASYNC230, SIM115
        self.process = subprocess.Popen(  # noqa: ASYNC220 - returns at once; readiness is polled
            [sys.executable, "-m", "bot", "serve"], cwd=REPO, env=env, stdout=log, stderr=log
        )
        log.close()
        await until(self.ready, timeout=30)

    async def ready(self) -> bool:
        try:
            async with self.http.get(self.url + "/readyz") as response:
                return response.status == 200
        except aiohttp.ClientError:
            return False

    async def metric(self, name: str) -> float:
        """A sample from `GET /metrics` (0 when absent), e.g. `lifeline_redis_restarts_total`."""
        async with self.http.get(self.url + "/metrics") as response:
            for line in (await response.text()).splitlines():
                if line.startswith(name + " "):
                    return float(line.split()[1])
        return 0.0

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    async def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            await asyncio.to_thread(self.process.wait, 20)
        stop_leftovers(self.data_dir)

    async def checkin(self, text: str, user: str = "U1") -> str:
        """Sends `/checkin <text>` signed; returns the answer (the ack, or the later response)."""
        self._numbers += 1
        hook = f"p{self.port}-{self._numbers}"
        body = urlencode({
            "token": "legacy", "team_id": "T1", "team_domain": "t", "channel_id": "C1",
            "channel_name": "incident", "user_id": user, "user_name": user.lower(),
            "command": "/checkin", "text": text, "api_app_id": "A1",
            "response_url": self.stub.hook_url(hook), "trigger_id": f"{self._numbers}.1.t",
        })  # fmt: skip
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **signed_headers(body, secret=SIGNING_SECRET),
        }
        async with self.http.post(self.url + "/slack/events", data=body, headers=headers) as r:
            assert r.status == 200, (r.status, await r.text())
            raw = await r.text()
        answer = json.loads(raw).get("text", "") if raw else ""
        if answer:
            return str(answer)
        await self.stub.wait_for(lambda: bool(self.stub.hooks(hook)), timeout=30)
        return self.stub.hooks(hook)[0].text


def classify(answer: str) -> str:
    if answer.startswith(RECORDED):
        return "recorded"
    if answer.startswith(SAVED):
        return "spooled"
    if REFUSED in answer:
        return "refused"
    return "other: " + answer[:120]


async def logged_notes(redis_url: str) -> list[str]:
    """The text of every check-in in the log, in log order (a Redis Stream, read whole)."""
    client = Redis.from_url(redis_url)
    try:
        rows: list[Any] = await client.xrange(Keys(FacilityConfig().slug).log)
    finally:
        await client.aclose()
    entries = [json.loads(fields[b"e"]) for _, fields in rows]
    return [e["text"] for e in entries if e["kind"] == "checkin"]


def tally(sent: dict[str, str], notes: list[str]) -> dict[str, int]:
    """accepted / spooled / refused answers, and how many answered ones are lost or doubled."""
    seen = Counter(notes)
    kinds = Counter(classify(answer) for answer in sent.values())
    promised = [note for note, answer in sent.items() if classify(answer) != "refused"]
    return {
        "accepted": kinds["recorded"],
        "spooled": kinds["spooled"],
        "refused": kinds["refused"],
        "other": sum(n for k, n in kinds.items() if k.startswith("other")),
        "lost": sum(1 for note in promised if seen[note] == 0),
        "duplicated": sum(1 for note in promised if seen[note] > 1),
        "logged": sum(seen[note] for note in sent),
    }
