"""Fixtures for the fault-injection tests: a Slack Web API stand-in, an HTTP client, a data dir
short enough for a unix socket, and the bots started there stopped afterwards."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.fault.serve_process import ServeProcess
from tests.slack_api_stub import SlackApiStub

Serve = Callable[..., ServeProcess]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="ll-fault-", dir="/tmp"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
async def serve(data_dir: Path) -> AsyncIterator[Serve]:
    """`serve(redis_url=None)`: a `python -m bot serve` (not started) on `data_dir`."""
    users = {f"U{n}": f"Nurse {n}" for n in range(1, 11)}
    stub = await SlackApiStub(users=users).start()
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50))
    made: list[ServeProcess] = []

    def make(redis_url: str | None = None) -> ServeProcess:
        made.append(ServeProcess(data_dir, stub, http, redis_url))
        return made[-1]

    yield make
    for process in made:
        await process.stop()
    await http.close()
    await stub.stop()
