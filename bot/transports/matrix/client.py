"""Logging in (password or token, device kept across restarts, with its encryption keys) and the
sync loop that reconnects by itself, keeps the keys up to date, and saves its position only after
the events before it were handled."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import ClientConnectionError
from nio import AsyncClient, AsyncClientConfig, LoginError, SyncError, WhoamiError

from bot.transports.matrix.config import MatrixConfig
from bot.transports.matrix.crypto import crypto_store, keep_keys
from bot.transports.matrix.session import SavedLogin, SessionFiles, SyncPosition

log = structlog.get_logger(__name__)
SyncHandler = Callable[[Any, SyncPosition], Awaitable[None]]
UNKNOWN_TOKEN = "M_UNKNOWN_TOKEN"


class LoginFailed(Exception):
    """The homeserver refused the credentials; retrying will not help."""


class HomeserverUnavailable(Exception):
    """The homeserver answered, but not usefully (5xx, proxy error page); worth retrying."""


def new_client(config: MatrixConfig) -> Any:
    """A nio client that gives up at once on 429 and connection errors: the send budget and the
    sync loop do the waiting, with bounds and logs, instead of nio's silent endless retries.
    Encryption is on; its store (one SQLite file per device id) is under LIFELINE_DATA_DIR."""
    client_config = AsyncClientConfig(
        max_limit_exceeded=0,
        max_timeouts=0,
        request_timeout=30,
        encryption_enabled=True,
        store_sync_tokens=False,
    )
    store = str(crypto_store(config.data_dir))
    return AsyncClient(config.homeserver, config.user_id, store_path=store, config=client_config)


async def log_in(client: Any, config: MatrixConfig, files: SessionFiles) -> str:
    """Log in and return the device id: the configured token, else the saved login, else the
    password (reusing the saved device id, so a restart never adds a device)."""
    if config.access_token:
        return await _use_token(client, config, config.access_token)
    saved = files.load_login(config.homeserver, config.user_id)
    if saved is not None:
        try:
            return await _use_token(client, config, saved.access_token)
        except LoginFailed:
            log.warning("matrix.saved_login_rejected", device_id=saved.device_id)
            files.forget_login()
    if not config.password:
        raise LoginFailed("the access token was rejected and no MATRIX_PASSWORD is set")
    client.device_id = saved.device_id if saved else None
    response = await client.login(config.password, device_name=config.device_name)
    if isinstance(response, LoginError):
        if response.status_code in ("M_FORBIDDEN", "M_USER_DEACTIVATED", "M_INVALID_USERNAME"):
            raise LoginFailed(f"{response.status_code}: {response.message}")
        raise HomeserverUnavailable(f"login: {response.status_code} {response.message}")
    files.save_login(
        SavedLogin(config.homeserver, config.user_id, response.device_id, response.access_token)
    )
    log.info("matrix.logged_in", user_id=config.user_id, device_id=response.device_id)
    return str(response.device_id)


async def _use_token(client: Any, config: MatrixConfig, token: str) -> str:
    client.access_token = token
    response = await client.whoami()
    if isinstance(response, WhoamiError):
        if response.status_code == UNKNOWN_TOKEN:
            raise LoginFailed(f"{response.status_code}: {response.message}")
        raise HomeserverUnavailable(f"whoami: {response.status_code} {response.message}")
    if response.user_id != config.user_id:
        raise LoginFailed(f"the access token belongs to {response.user_id}, not {config.user_id}")
    client.restore_login(config.user_id, response.device_id, token)
    log.info("matrix.session_restored", user_id=config.user_id, device_id=response.device_id)
    return str(response.device_id)


class SyncLoop:
    """Logs in, then syncs until stopped; every failure is retried with capped backoff."""

    def __init__(
        self, client: Any, config: MatrixConfig, files: SessionFiles, handler: SyncHandler
    ) -> None:
        self._client = client
        self._config = config
        self._files = files
        self._handler = handler
        self.position = files.load_position()
        self.device_id: str | None = None
        self.connected = False
        self.failure: str | None = None
        self.logged_in = asyncio.Event()
        self.synced = asyncio.Event()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> None:
        backoff = self._config.reconnect_min
        first = True
        while not self._stopping.is_set():
            try:
                if not await self._step(first):
                    return
            except LoginFailed as refused:
                self.failure = str(refused)
                self.connected = False
                log.error("matrix.login_failed", user_id=self._config.user_id, reason=str(refused))
                return
            except (ClientConnectionError, TimeoutError, HomeserverUnavailable) as error:
                self._lost(error, backoff)
            except Exception as error:  # a bug: logged loudly, the batch retried after a pause
                log.exception("matrix.sync_batch_failed")
                self.failure = repr(error)
            else:
                backoff = self._config.reconnect_min
                first = False
                continue
            await self._pause(backoff)
            backoff = min(backoff * 2, self._config.reconnect_max)

    async def _step(self, first: bool) -> bool:
        """Log in if needed, sync once, handle the batch, then save the position after it.
        False when stopping interrupted the sync."""
        if not self.logged_in.is_set():
            self.device_id = await log_in(self._client, self._config, self._files)
            self.logged_in.set()
        response = await self._sync(first)
        if response is None:
            return False
        if isinstance(response, SyncError):
            self._check_token(response)
            raise HomeserverUnavailable(f"sync: {response.status_code} {response.message}")
        if not self.connected:
            log.info("matrix.connected", homeserver=self._config.homeserver)
            self.connected = True
            self.failure = None
        await keep_keys(self._client)  # new members' devices known before anything is sent
        await self._handler(response, self.position)
        self.position.next_batch = response.next_batch
        self._files.save_position(self.position)
        self.synced.set()
        return True

    async def _sync(self, first: bool) -> Any:
        """One sync, or None when stopping interrupts it (nothing is lost: not yet handled)."""
        since = self.position.next_batch
        request = asyncio.ensure_future(
            self._client.sync(
                timeout=0 if first else self._config.sync_timeout_ms,
                since=since,
                # After a restart, the rooms' full state (members, encryption) plus the
                # timeline since the saved position.
                full_state=bool(first and since),
                sync_filter=self._filter(),
            )
        )
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({request, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
        if not request.done():
            request.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await request
            return None
        return request.result()

    def _filter(self) -> dict[str, Any]:
        return {
            "room": {"timeline": {"limit": self._config.timeline_limit}},
            "presence": {"not_types": ["*"]},
        }

    def _check_token(self, response: Any) -> None:
        if response.status_code != UNKNOWN_TOKEN:
            return
        self.logged_in.clear()
        if self._config.access_token or not self._config.password:
            raise LoginFailed(f"{response.status_code}: {response.message}")

    def _lost(self, error: Exception, backoff: float) -> None:
        if self.connected or not self.failure:
            log.warning(
                "matrix.disconnected",
                homeserver=self._config.homeserver,
                reason=str(error) or type(error).__name__,
                retry_in=backoff,
            )
        self.connected = False
        self.failure = str(error) or type(error).__name__

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
