"""A real Synapse homeserver for the Matrix tests: SQLite, loopback only, federation off.

Started once per session (`synapse` fixture in tests/e2e/conftest.py). Messages keep Synapse's
default limit (`rc_message`: 0.2/s, burst 10), as on a stock homeserver: the bot must cope with
it. The other limits (registration, logins, joins, invites, room creation) are relaxed, because the
fixtures create users and rooms far faster than people do. A test that needs other message
limits sets a per-user override through the admin API (`limit_messages`, `unlimit_messages`), so
Synapse itself enforces them.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.ports import free_port

SERVER_NAME = "localhost"
START_TIMEOUT = 90.0
UNLIMITED = {"per_second": 10000, "burst_count": 10000}

LOG_CONFIG = """\
version: 1
formatters:
  plain: {format: "%(asctime)s %(name)s %(levelname)s %(message)s"}
handlers:
  file: {class: logging.FileHandler, filename: "%(log)s", formatter: plain}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


class SynapseError(Exception):
    """Synapse could not start or answer; the message carries its log tail."""


@dataclass(frozen=True)
class MatrixUser:
    user_id: str
    password: str
    access_token: str
    device_id: str

    @property
    def localpart(self) -> str:
        return self.user_id[1:].split(":", 1)[0]


class SynapseServer:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.shared_secret = secrets.token_hex(16)
        self.config_path = directory / "homeserver.yaml"
        self.log_path = directory / "homeserver.log"
        self._process: subprocess.Popen[bytes] | None = None
        self._names = itertools.count(1)
        self.admin: MatrixUser | None = None
        self.startup_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_config(self) -> None:
        log_config = self.directory / "log.yaml"
        log_config.write_text(LOG_CONFIG.replace("%(log)s", str(self.log_path)))
        rate_limits: dict[str, Any] = {
            "rc_registration": UNLIMITED,
            "rc_registration_token_validity": UNLIMITED,
            "rc_login": {
                "address": UNLIMITED,
                "account": UNLIMITED,
                "failed_attempts": UNLIMITED,
            },
            "rc_joins": {"local": UNLIMITED, "remote": UNLIMITED},
            "rc_joins_per_room": UNLIMITED,
            "rc_invites": {"per_room": UNLIMITED, "per_user": UNLIMITED, "per_issuer": UNLIMITED},
            "rc_room_creation": UNLIMITED,
            "rc_3pid_validation": UNLIMITED,
            "rc_admin_redaction": UNLIMITED,
            "rc_presence": {"per_user": UNLIMITED},
            "rc_delayed_event_mgmt": UNLIMITED,
            "rc_reports": UNLIMITED,
        }
        config: dict[str, Any] = {
            "server_name": SERVER_NAME,
            "pid_file": str(self.directory / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self.directory / "homeserver.db")},
            },
            "log_config": str(log_config),
            "media_store_path": str(self.directory / "media"),
            "signing_key_path": str(self.directory / "signing.key"),
            "registration_shared_secret": self.shared_secret,
            "macaroon_secret_key": secrets.token_hex(16),
            "form_secret": secrets.token_hex(16),
            "report_stats": False,
            "enable_registration": False,
            "bcrypt_rounds": 4,  # fast password hashing: test accounts only
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],  # federation off
            "presence": {"enabled": False},
            "url_preview_enabled": False,
            "enable_metrics": False,
            **rate_limits,
        }
        # JSON is YAML, and needs no extra dependency here.
        self.config_path.write_text(json.dumps(config, indent=2))

    def start(self) -> None:
        if not self.config_path.exists():
            self.write_config()
        started = time.monotonic()
        output = open(self.directory / "stdout.log", "ab")  # noqa: SIM115 - owned by the process
        self._process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(self.config_path)],
            cwd=self.directory,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        output.close()
        deadline = started + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SynapseError(
                    f"Synapse exited with code {self._process.returncode} during start-up:\n"
                    + self.log_tail()
                )
            try:
                with urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2):
                    self.startup_seconds = time.monotonic() - started
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        self.stop()
        raise SynapseError(
            f"Synapse did not answer within {START_TIMEOUT:.0f}s:\n" + self.log_tail()
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def log_tail(self, lines: int = 40) -> str:
        text = ""
        for path in (self.directory / "stdout.log", self.log_path):
            if path.exists():
                text += path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    # Users ----------------------------------------------------------------------------------

    def _register_request(self, username: str, password: str, admin: bool) -> dict[str, Any]:
        """The admin shared-secret registration body (nonce + HMAC-SHA1, as Synapse documents)."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        with urllib.request.urlopen(endpoint, timeout=10) as response:
            nonce = json.load(response)["nonce"]
        role = "admin" if admin else "notadmin"
        message = "\x00".join((nonce, username, password, role)).encode()
        mac = hmac.new(self.shared_secret.encode(), message, hashlib.sha1)
        return {
            "nonce": nonce,
            "username": username,
            "password": password,
            "admin": admin,
            "mac": mac.hexdigest(),
        }

    def register(self, prefix: str, *, admin: bool = False) -> MatrixUser:
        """A new user whose name starts with `prefix` (unique per session)."""
        username = f"{prefix}{next(self._names)}"
        password = secrets.token_hex(8)
        body = self._register_request(username, password, admin)
        request = urllib.request.Request(
            f"{self.url}/_synapse/admin/v1/register",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            data = json.load(response)
        return MatrixUser(data["user_id"], password, data["access_token"], data["device_id"])

    async def limit_messages(self, user_id: str, per_second: int, burst_count: int) -> None:
        """Make Synapse rate-limit `user_id`'s messages (admin API override)."""
        assert self.admin is not None
        path = f"/_synapse/admin/v1/users/{user_id}/override_ratelimit"
        body = {"messages_per_second": per_second, "burst_count": burst_count}
        await self.request("POST", path, self.admin, body)

    async def unlimit_messages(self, user_id: str) -> None:
        """Exempt `user_id` from message rate limits, as an admin would exempt the bot."""
        await self.limit_messages(user_id, per_second=0, burst_count=0)

    async def default_limits(self, user_id: str) -> None:
        """Remove `user_id`'s override: Synapse's default `rc_message` again, with a full
        bucket (nothing sent while exempted was counted)."""
        assert self.admin is not None
        path = f"/_synapse/admin/v1/users/{user_id}/override_ratelimit"
        await self.request("DELETE", path, self.admin)

    async def request(
        self, method: str, path: str, user: MatrixUser, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """A raw client-server API call as `user`; raises on a non-2xx answer."""
        headers = {"Authorization": f"Bearer {user.access_token}"}
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.url + path, json=body, headers=headers) as response,
        ):
            data: dict[str, Any] = await response.json()
            if response.status >= 300:
                raise AssertionError(f"{method} {path} → {response.status} {data}")
            return data
