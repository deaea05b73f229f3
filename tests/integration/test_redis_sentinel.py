"""REDIS_URL naming a Sentinel deployment: a real master and a real sentinel, both redis-server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config.settings import Settings
from bot.domain.facility import FacilityConfig
from bot.domain.models import Actor, CheckIn, State
from bot.storage.connection import connect_redis, sentinel_client
from bot.storage.embedded_redis import find_redis_server
from bot.storage.store import Store
from tests.ports import free_port


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listening on {port}")


@pytest.fixture
def sentinel_port() -> Iterator[int]:
    directory = Path(tempfile.mkdtemp(prefix="ll-sentinel-", dir="/tmp"))
    binary = find_redis_server()
    master_port, sentinel_port = free_port(), free_port()
    config = directory / "sentinel.conf"
    config.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {directory}\n"
        f"sentinel monitor lifeline 127.0.0.1 {master_port} 1\n"
    )
    processes = [
        subprocess.Popen(
            [
                binary,
                "--port",
                str(master_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                str(directory),
            ],
            stdout=subprocess.DEVNULL,
        ),
        subprocess.Popen([binary, str(config), "--sentinel"], stdout=subprocess.DEVNULL),
    ]
    try:
        wait_for_port(master_port)
        wait_for_port(sentinel_port)
        yield sentinel_port
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


async def test_a_sentinel_url_reaches_the_master_and_records(sentinel_port: int) -> None:
    url = f"redis+sentinel://:s3cret-not-used@127.0.0.1:{sentinel_port}/lifeline"
    settings = Settings(_env_file=None, redis_url=SecretStr(url))  # type: ignore[call-arg]
    connection = await connect_redis(settings)
    try:
        assert "s3cret" not in connection.description
        assert connection.description == f"redis+sentinel://***@127.0.0.1:{sentinel_port}/lifeline"
        store = Store(connection.client, FacilityConfig())
        checkin = CheckIn(
            department="lab", state=State.DOWN, note="analyser offline",
            actor=Actor(id="U1", name="alice", transport="slack"),
            at=datetime.now(UTC),
        )  # fmt: skip
        filed = await store.record_checkin("sentinel-1", checkin)
        assert not filed.committed.duplicate
        latest = await store.latest_checkins(["lab"])
        assert latest["lab"].note == "analyser offline"
        role = await connection.client.execute_command("ROLE")
        assert role[0] in (b"master", "master")
    finally:
        await connection.close()


def test_a_sentinel_url_without_a_service_is_refused() -> None:
    with pytest.raises(ValueError, match="needs hosts and a service"):
        sentinel_client("redis+sentinel://127.0.0.1:26379")
